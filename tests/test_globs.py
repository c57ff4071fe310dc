"""The config's include and exclude globs, compiled into one expression, match as `_match` does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.config import DEFAULT_EXCLUDE, Config, _Globs, _match

parts = st.sampled_from(["a", "b.py", "x.min.js", "node_modules", "[ab]", "?", "*", "**", "vendor", ".git", "é", ""])
globs = st.lists(parts, min_size=1, max_size=5).map("/".join)
paths = st.lists(
    st.sampled_from(["a", "b.py", "x.min.js", "node_modules", "vendor", "[ab]", "é", "c"]), min_size=1, max_size=5
)


@settings(max_examples=500, deadline=None)
@given(st.lists(globs, max_size=4), paths.map("/".join))
def test_one_expression_matches_as_the_patterns_do(patterns, path):
    assert bool(_Globs(patterns).match(path)) == any(_match(path, p) for p in patterns)


@settings(max_examples=300, deadline=None)
@given(paths.map("/".join), st.lists(globs, max_size=3), st.lists(globs, max_size=3))
def test_candidates_are_what_the_patterns_say(path, include, exclude):
    config = Config(include=tuple(include), exclude=tuple(exclude))
    expected = (
        not (path == "docs" or path.startswith("docs/"))
        and any(_match(path, p) for p in include)
        and not any(_match(path, p) for p in DEFAULT_EXCLUDE + tuple(exclude))
    )
    assert config.is_candidate(path) == expected


def test_many_leading_stars_stay_one():
    assert _Globs(["**/" * 1500 + "x"]).match("a/b/x") and _Globs(["**/" * 1500 + "x"]).match("x")


@settings(max_examples=500, deadline=None)
@given(paths.map("/".join), paths.map("/".join), st.lists(globs.map(lambda g: g + "/**"), max_size=3), globs)
def test_a_folder_said_excluded_holds_no_candidate(folder, below, folder_Globs, other):
    """`excludes_folder` is sound: nothing below a folder it names is a candidate (the `--since` listing
    skips such folders unread); and it names the folders that a `<glob>/**` pattern matches."""
    config = Config(exclude=(*folder_Globs, other))
    if config.excludes_folder(folder):
        assert not config.is_candidate(f"{folder}/{below}")
    if any(_match(folder, g[:-3]) for g in folder_Globs):
        assert config.excludes_folder(folder)


def test_the_default_excludes_name_whole_folders():
    config = Config()
    for folder in ("vendor", "a/node_modules", "x/y/third_party", "docs", "docs/api", "pkg/__pycache__"):
        assert config.excludes_folder(folder), folder
    for folder in ("src", "vendored", "a/docs", "node_modules_x"):
        assert not config.excludes_folder(folder), folder
