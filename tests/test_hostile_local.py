"""Hostile repositories on the local run: nothing escapes the docs folder (issue 6, local items)."""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.local
from bot.cli import main
from bot.engine import Config, FolderState, parse_state
from bot.engine.tree import state_text
from bot.report import printable
from tests.gitrepo import GitRepo


def generate(repo: GitRepo, *args: str) -> int:
    return main(["generate", str(repo.path), *args])


def world(top: Path, docs: str = "docs") -> dict[str, Any]:
    """Every entry below top except the repository's docs folder and .git: bytes, 'dir' or the link's target."""
    skip = {f"repo/{docs}", "repo/.git"}
    seen: dict[str, Any] = {}
    for folder, dirs, files in os.walk(top):
        here = Path(folder).relative_to(top).as_posix()
        dirs[:] = [d for d in dirs if f"{here}/{d}".lstrip("./") not in skip]
        for name in dirs + files:
            full = Path(folder) / name
            rel = full.relative_to(top).as_posix()
            if full.is_symlink():
                seen[rel] = ("link", os.readlink(full))
            elif full.is_dir():
                seen[rel] = "dir"
            else:
                seen[rel] = full.read_bytes()
    return seen


@pytest.fixture
def small(repo: GitRepo) -> GitRepo:
    repo.write("README.md", "# Small\n\nA small project.\n")
    repo.write("pkg/__init__.py", '"""The pkg package."""\nfrom .core import run\n')
    repo.write("pkg/core.py", "def run():\n    return 1\n")
    repo.write("sub/x.py", "X = 1\n")
    repo.commit()
    return repo


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the repository holding a sentinel file."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "sentinel.md").write_bytes(b"precious bytes\n")
    return folder


def documented(repo: GitRepo) -> str:
    """Run once, commit the docs; returns that commit."""
    assert generate(repo) == 0
    return repo.commit("docs")


def link(path: Path, target: str | Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


# 2. State files are untrusted input --------------------------------------------------------------


def valid_state() -> dict[str, Any]:
    summary = {
        "name": "core.py",
        "blob": "a" * 40,
        "documented": True,
        "reason": "",
        "type_name": "Python",
        "description": "Core",
        "overview": "",
        "key_names": [["run", "run"]],
        "refs": ["os"],
        "module": "pkg.core",
    }
    return {"config": "c", "dirs": ["deep"], "generator": "1", "files": {"core.py": summary}}


def with_name(name: Any) -> dict[str, Any]:
    data = valid_state()
    summary = data["files"].pop("core.py")
    summary["name"] = name
    data["files"][name if isinstance(name, str) else "core.py"] = summary
    return data


def with_field(key: str, value: Any) -> dict[str, Any]:
    data = valid_state()
    data["files"]["core.py"][key] = value
    return data


def with_top(key: str, value: Any) -> dict[str, Any]:
    data = valid_state()
    data[key] = value
    return data


BAD_STATES: list[Any] = [
    with_name("/abs/x"),
    with_name("../../x"),
    with_name("a/../../x"),
    with_name(".."),
    with_name("."),
    with_name(""),
    with_name("a\0b"),
    with_name("sub/x"),
    with_name("\udce9"),
    with_name(5),
    with_field("name", "other.py"),
    with_field("documented", "yes"),
    with_field("documented", 1),
    with_field("blob", 5),
    with_field("blob", "../x"),
    with_field("key_names", [["a"]]),
    with_field("key_names", [["a", "b", "c"]]),
    with_field("key_names", [[1, 2]]),
    with_field("key_names", "ab"),
    with_field("refs", [1]),
    with_field("refs", "os"),
    with_field("description", 7),
    with_field("overview", None),
    with_field("extra", ""),
    with_top("dirs", [1, 2]),
    with_top("dirs", ["../.."]),
    with_top("dirs", ["a/b"]),
    with_top("dirs", {"a": 1}),
    with_top("files", []),
    with_top("files", {"core.py": "x"}),
    with_top("generator", 1),
    with_top("config", None),
    [],
    "state",
    None,
]


@pytest.mark.parametrize("data", BAD_STATES)
def test_a_bad_state_raises_value_error(data):
    with pytest.raises(ValueError, match="damaged state file"):
        parse_state(json.dumps(data))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"files": ' * 100_000,
        json.dumps(valid_state())[:-7],
        b"\xff\xfe{}",
        json.dumps(valid_state()).encode("utf-16"),
        "",
        None,
        5,
        ["files"],
    ],
    ids=["deep-lists", "deep-objects", "truncated", "not-utf-8", "utf-16", "empty", "none", "int", "list"],
)
def test_deep_truncated_or_undecodable_input_raises_value_error(text):
    with pytest.raises(ValueError, match="damaged state file"):
        parse_state(text)


def test_a_valid_state_round_trips():
    state = parse_state(json.dumps(valid_state()))
    assert state.files["core.py"].key_names == (("run", "run"),)
    again = parse_state(state_text(state, Config()))
    assert (again.files, again.dirs) == (state.files, state.dirs)


def assert_valid(state: FolderState) -> None:
    """A parsed state only names things inside its own folder and writes back as UTF-8."""
    for name in [*state.files, *state.dirs]:
        assert isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\0" not in name
    for name, summary in state.files.items():
        assert summary.name == name and isinstance(summary.documented, bool)
        assert all(len(pair) == 2 for pair in summary.key_names)
    again = parse_state(state_text(state, Config()).encode("utf-8"))
    assert (again.files, again.dirs) == (state.files, state.dirs)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def parse_or_value_error(text: str | bytes) -> None:
    try:
        state = parse_state(text)
    except ValueError:
        return
    assert_valid(state)


@given(json_values)
def test_random_json_is_a_valid_state_or_value_error(value):
    parse_or_value_error(json.dumps(value))


def paths_into(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_into(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths_into(value, (*prefix, index))
    return found


@given(st.data())
@settings(max_examples=300)
def test_mutations_of_a_valid_state_are_valid_or_value_error(data):
    state = valid_state()
    path = data.draw(st.sampled_from(paths_into(state)[1:]))
    holder = state
    for step in path[:-1]:
        holder = holder[step]
    if data.draw(st.booleans()) and isinstance(holder, dict):
        del holder[path[-1]]
    else:
        holder[path[-1]] = data.draw(json_values | st.sampled_from(["..", "a/b", "/x", "\0", "\udcff", ""]))
    parse_or_value_error(json.dumps(state))


@given(st.binary(max_size=40), st.integers(min_value=0), st.integers(min_value=0, max_value=40))
def test_byte_mutations_of_a_valid_state_are_valid_or_value_error(patch, at, cut):
    text = json.dumps(valid_state()).encode("utf-8")
    at %= len(text) + 1
    parse_or_value_error(text[:at] + patch + text[at + cut :])


# 12. Control characters in names are escaped -----------------------------------------------------

ESC = "\x1b]0;pwned\x07\x1b[2J"


def test_control_characters_never_reach_the_terminal(repo, monkeypatch, capsys):
    repo.write(f"bin{ESC}.txt", b"a\0b")
    repo.write(f"hand{ESC}.py", "x = 1\n")
    repo.write(f"docs/hand{ESC}.py_docs.md", "mine\n")
    repo.write("boom.py", "x = 2\n")
    repo.write("line\nbreak.txt", b"\0")
    repo.write(".github/repodoc.yml", f'"colour{ESC}": 1\n'.replace("\x1b", "\\e").replace("\x07", "\\a"))
    repo.commit()
    real = bot.local.render_file

    def flaky(path, data, config):
        if path == "boom.py":
            raise RuntimeError(f"bad {ESC} name")
        return real(path, data, config)

    monkeypatch.setattr(bot.local, "render_file", flaky)
    assert generate(repo) == 1
    assert generate(repo, "--check") == 1
    assert generate(repo, f"--since={ESC}") == 2
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert "\x1b" not in printed and "\x07" not in printed
    assert printed.count("\\x1b]0;pwned\\x07\\x1b[2J") >= 6
    assert "    line\\x0abreak.txt: binary" in captured.out
    assert f"conflict: {printable(f'hand{ESC}.py_docs.md')}" in captured.out
    assert "failed: boom.py: RuntimeError: bad \\x1b" in captured.out
    assert "unknown key 'colour\\x1b" in captured.err


@given(st.text())
def test_printable_leaves_no_control_character(text):
    shown = printable(text)
    shown.encode("utf-8")
    assert not [c for c in shown if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")]
    if all(c.isprintable() and c.isascii() for c in text):
        assert shown == text


def test_printable_shows_undecodable_bytes_as_hex():
    assert printable("caf\udce9\u202e\n") == "caf\\xe9\\u202e\\x0a"
