"""Hostile inputs to the pure engine: the config is no window, nothing is quadratic, output stays
proportional to input, deep nesting is an answer, bounds hold, and no raw HTML reaches a page."""

from __future__ import annotations

import pytest
import yaml

from bot.engine import ConfigError, parse_config
from bot.engine.config import EMBED_MAX_BYTES_LIMIT, MAX_FILE_BYTES_LIMIT

# --- item 4: the config is never a window -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: [1\nsecret: hunter2 {\n",
        "include:\n  - 'hunter2\n password: x\n",
        "a: !!python/object:os.system hunter2\n",
        'key: "\\q hunter2"\n',
        "a: *hunter2\n",
        "hunter2: [\n",
        "\thunter2: 1\n",
    ],
)
def test_yaml_error_names_only_the_line(text):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    message = str(info.value)
    assert "hunter2" not in message and "\n" not in message
    assert " at line " in message or message.endswith("not valid YAML")


def test_unknown_key_is_named_escaped_and_clipped():
    _, warnings = parse_config('"x\\ny\\u0007' + "z" * 500 + '": 1\n')
    (warning,) = warnings
    assert "\n" not in warning and "\x07" not in warning and len(warning) < 200


@pytest.mark.parametrize(
    "docs_dir", [".git", ".git/docs", "x/.git", ".GIT/x", "/docs", "a/../b", "..", "", "/", "a\rb"]
)
def test_docs_dir_never_in_git_nor_outside(docs_dir):
    with pytest.raises(ConfigError, match="docs_dir"):
        parse_config(yaml.safe_dump({"docs_dir": docs_dir}))


@pytest.mark.parametrize(
    ("docs_dir", "norm"), [("docs", "docs"), ("docs/", "docs"), ("site/./ref", "site/ref"), ("..docs", "..docs")]
)
def test_docs_dir_ordinary_values(docs_dir, norm):
    assert parse_config(f"docs_dir: '{docs_dir}'\n")[0].docs_dir == norm


# --- item 8: deep nesting is an answer ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 500 + "]" * 500 + "\n",
        "".join("  " * i + f"k{i}:\n" for i in range(500)),
        "a: " + "{b: " * 500 + "1" + "}" * 500 + "\n",
    ],
)
def test_config_nested_500_deep_is_a_config_error(text):
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_config(text)


# --- item 9: upper bounds in the config ----------------------------------------------------------


def test_config_upper_bounds():
    assert parse_config(f"max_file_bytes: {MAX_FILE_BYTES_LIMIT}\n")[0].max_file_bytes == 100_000_000
    assert parse_config(f"embed_max_bytes: {EMBED_MAX_BYTES_LIMIT}\n")[0].embed_max_bytes == 1_000_000
    with pytest.raises(ConfigError, match="max_file_bytes' must be at most 100,000,000"):
        parse_config(f"max_file_bytes: {MAX_FILE_BYTES_LIMIT + 1}\n")
    with pytest.raises(ConfigError, match="embed_max_bytes' must be at most 1,000,000"):
        parse_config(f"embed_max_bytes: {EMBED_MAX_BYTES_LIMIT + 1}\n")
