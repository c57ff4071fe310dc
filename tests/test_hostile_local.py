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
from bot.docsdir import DocsDir, Tree
from bot.engine import STATE, Config, FolderState, parse_state
from bot.engine.tree import state_text
from bot.report import printable
from tests.gitrepo import GitRepo, read_tree


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


# 1. Symlinks never lead outside ------------------------------------------------------------------

TARGETS = ["outside/sentinel.md", "outside/new.md", "repo/README.md"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("since", [False, True])
def test_an_owned_page_replaced_by_a_symlink_is_never_written_through(small, outside, tmp_path, capsys, target, since):
    base = documented(small)
    page = small.path / "docs/pkg/core.py_docs.md"
    link(page, tmp_path / target)
    small.write("pkg/core.py", "def run():\n    return 2\n")
    small.commit()
    before = world(tmp_path)
    assert generate(small, *(["--since", base] if since else [])) == 1
    assert world(tmp_path) == before
    assert page.is_symlink()
    assert "conflict: pkg/core.py_docs.md: a symlink is in the way" in capsys.readouterr().out


def test_a_dangling_symlink_at_a_new_page_is_not_a_free_path(small, outside, tmp_path, capsys):
    base = documented(small)
    small.write("pkg/new.py", "Y = 2\n")
    link(small.path / "docs/pkg/new.py_docs.md", outside / "created.md")
    link(small.path / "docs/pkg/new.py_kw.md", "../../../outside/created_kw.md")
    small.commit()
    before = world(tmp_path)
    assert generate(small, "--since", base) == 1
    assert world(tmp_path) == before
    assert not (outside / "created.md").exists() and not (outside / "created_kw.md").exists()
    out = capsys.readouterr().out
    assert "conflict: pkg/new.py_docs.md: a symlink is in the way" in out
    assert "conflict: pkg/new.py_kw.md: a symlink is in the way" in out


@pytest.mark.parametrize("since", [False, True])
def test_a_symlinked_folder_inside_docs_is_not_written_into(small, outside, tmp_path, capsys, since):
    base = documented(small)
    shutil.copytree(small.path / "docs/pkg", outside / "pkgdocs")
    (outside / "pkgdocs/core.py_docs.md").write_text("victim\n")
    link(small.path / "docs/pkg", outside / "pkgdocs")
    small.write("pkg/core.py", "def run():\n    return 2\n")
    small.write("pkg/more.py", "Z = 3\n")
    small.commit()
    before = world(tmp_path)
    assert generate(small, *(["--since", base] if since else [])) == 1
    assert world(tmp_path) == before
    captured = capsys.readouterr()
    assert "conflict: pkg/more.py_docs.md: a symlink is in the way" in captured.out
    if since:  # the state of pkg cannot be read through the link: rebuilt by a full run
        assert "damaged state pkg/.repodoc-state.json: a symlink is in the way: doing a full run" in captured.err


@pytest.mark.parametrize("since", [False, True])
def test_nothing_is_deleted_or_pruned_through_a_symlinked_folder(small, outside, tmp_path, since):
    base = documented(small)
    shutil.move(small.path / "docs/sub", outside / "subdocs")
    link(small.path / "docs/sub", outside / "subdocs")
    small.commit()
    small.remove("sub/x.py")
    small.commit()
    before = world(tmp_path)
    assert generate(small, *(["--since", base] if since else [])) == 0
    assert world(tmp_path) == before
    assert {"x.py_docs.md", "x.py_kw.md", STATE} <= set(read_tree(outside / "subdocs"))


@pytest.mark.parametrize(
    ("docs_dir", "linked"),
    [("docs", "docs"), ("site/ref", "site"), ("site/ref", "site/ref")],
)
@pytest.mark.parametrize("args", [(), ("--check",), ("--since", "HEAD")])
def test_a_docs_folder_that_is_or_lies_in_a_symlink_is_refused(repo, outside, tmp_path, capsys, docs_dir, linked, args):
    repo.write("a.py", "x = 1\n")
    if docs_dir != "docs":
        repo.write(".github/repodoc.yml", f"docs_dir: {docs_dir}\n")
    (outside / "target").mkdir()
    link(repo.path / linked, outside / "target")
    repo.commit()
    before = world(tmp_path, docs_dir)
    assert generate(repo, *args) == 2
    assert world(tmp_path, docs_dir) == before
    assert not any((outside / "target").iterdir())
    assert f"docs folder {docs_dir}: {linked} is a symlink" in capsys.readouterr().err


def test_a_docs_folder_that_is_a_file_is_refused(repo, capsys):
    repo.write("a.py", "x = 1\n")
    repo.write("docs", "not a folder\n")
    repo.commit()
    assert generate(repo) == 2
    assert "docs folder docs: docs is not a folder" in capsys.readouterr().err
    assert (repo.path / "docs").read_text() == "not a folder\n"


def test_out_may_be_a_symlink_but_links_inside_it_are_not_followed(small, outside, tmp_path, capsys):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "out")
    assert generate(small, "--out", str(tmp_path / "out")) == 0
    assert (tmp_path / "real/pkg/core.py_docs.md").is_file()
    link(tmp_path / "real/index.md", outside / "sentinel.md")
    link(tmp_path / "real/pkg", outside)
    small.write("pkg/core.py", "def run():\n    return 2\n")
    small.commit()
    assert generate(small, "--out", str(tmp_path / "out")) == 1
    assert (outside / "sentinel.md").read_bytes() == b"precious bytes\n"
    assert sorted(p.name for p in outside.iterdir()) == ["sentinel.md"]
    out = capsys.readouterr().out
    assert "conflict: index.md: a symlink is in the way" in out
    assert "conflict: pkg/core.py_docs.md: a symlink is in the way" in out


def test_a_symlinked_state_is_neither_read_nor_written_through(small, outside, tmp_path, capsys):
    documented(small)
    state = small.path / "docs/pkg" / STATE
    (outside / STATE).write_bytes(state.read_bytes())
    link(state, outside / STATE)
    small.write("pkg/core.py", "def run():\n    return 2\n")
    small.commit()
    assert DocsDir(small.path / "docs").read_state("pkg") is None
    before = world(tmp_path)
    assert generate(small) == 1
    assert world(tmp_path) == before
    out = capsys.readouterr().out
    assert f"conflict: pkg/{STATE}: a symlink is in the way" in out
    assert "conflict: pkg/core.py_docs.md: a file repodoc did not write is in the way" in out


def test_check_does_not_read_a_page_through_a_symlink(small, outside, capsys):
    documented(small)
    page = small.path / "docs/pkg/core.py_docs.md"
    (outside / "same.md").write_bytes(page.read_bytes())
    link(page, outside / "same.md")
    assert generate(small, "--check") == 1
    assert "pkg/core.py_docs.md" in capsys.readouterr().out


def test_an_owned_page_replaced_by_a_folder_is_a_conflict_not_a_traceback(small, capsys):
    documented(small)
    page = small.path / "docs/pkg/core.py_docs.md"
    page.unlink()
    page.mkdir()
    (page / "keep.txt").write_text("mine\n")
    small.write("pkg/core.py", "def run():\n    return 2\n")
    assert generate(small) == 1
    assert (page / "keep.txt").read_text() == "mine\n"
    assert "conflict: pkg/core.py_docs.md: a folder is in the way" in capsys.readouterr().out


def test_only_folders_repodoc_emptied_are_pruned(small, tmp_path):
    documented(small)
    (small.path / "docs/sub/empty-of-mine").mkdir()
    (small.path / "docs/other").mkdir()
    small.remove("pkg/core.py")
    small.remove("pkg/__init__.py")
    small.commit()
    assert generate(small) == 0
    assert not (small.path / "docs/pkg").exists()
    assert (small.path / "docs/other").is_dir() and (small.path / "docs/sub/empty-of-mine").is_dir()


def test_the_safe_primitive_keeps_few_folders_open(tmp_path):
    fds = len(os.listdir("/proc/self/fd"))
    with Tree(tmp_path / "docs") as tree:
        for n in range(2000):
            tree.write(f"f{n}/sub/page.md", b"x")
        assert len(os.listdir("/proc/self/fd")) < fds + 10
        assert tree.remove("f7/sub/page.md")
        tree.prune("f7/sub")
    assert len(os.listdir("/proc/self/fd")) == fds
    assert not (tmp_path / "docs/f7").exists() and (tmp_path / "docs/f8/sub/page.md").read_bytes() == b"x"


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
        "key_names": [["run", "core.py_docs.md#sym-run"]],
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
    assert state.files["core.py"].key_names == (("run", "core.py_docs.md#sym-run"),)
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


def hostile_state(name: str) -> str:
    """A state for docs/pkg claiming a page named by name (which leaves the folder)."""
    data = valid_state()
    data["files"] = {name: {**valid_state()["files"]["core.py"], "name": name}}
    return json.dumps(data)


@pytest.mark.parametrize("since", [False, True])
def test_a_hostile_state_deletes_nothing_outside_its_folder(small, tmp_path, capsys, since):
    victim = tmp_path / "outside/deep/victim.py_docs.md"
    victim.parent.mkdir(parents=True)
    victim.write_text("victim\n")
    base = documented(small)
    (small.path / "docs/pkg" / STATE).write_text(hostile_state("../../../outside/deep/victim.py"))
    small.commit()
    small.remove("pkg/core.py")
    small.remove("pkg/__init__.py")
    small.commit()
    before = world(tmp_path)
    assert generate(small, *(["--since", base] if since else [])) in (0, 1)
    assert world(tmp_path) == before and victim.read_text() == "victim\n"
    if since:
        assert "damaged state pkg/.repodoc-state.json" in capsys.readouterr().err


def test_a_damaged_state_rebuilds_that_folder_with_a_full_run(small, capsys):
    base = documented(small)
    state = small.path / "docs/pkg" / STATE
    state.write_text('{"files": {"core.py": {"name": 5}}, "dirs": [1, 2]')
    small.write("pkg/core.py", "def run():\n    return 2\n")
    small.commit()
    assert generate(small, "--since", base) == 1  # the pages it can no longer claim are conflicts
    assert "doing a full run" in capsys.readouterr().err
    assert parse_state(state.read_bytes()).files["core.py"].documented


# 4. The config is never a window -----------------------------------------------------------------


@pytest.mark.parametrize("linked", [".github/repodoc.yml", ".github"])
def test_a_symlinked_config_is_refused(small, outside, tmp_path, capsys, linked):
    (outside / "repodoc.yml").write_text("footer: '*SECRET from outside*'\n")
    link(small.path / linked, outside / "repodoc.yml" if linked.endswith(".yml") else outside)
    small.commit()
    assert generate(small) == 2
    assert "the config must be a regular file" in capsys.readouterr().err
    assert not (small.path / "docs").exists()


def test_a_dangling_config_symlink_is_refused(small, tmp_path, capsys):
    link(small.path / ".github/repodoc.yml", tmp_path / "nowhere.yml")
    small.commit()
    assert generate(small) == 2
    assert ".github/repodoc.yml: a symlink is in the way" in capsys.readouterr().err


# 5. --since takes a revision, not an option ------------------------------------------------------


@pytest.mark.parametrize("existing", [False, True])
def test_since_an_option_is_a_usage_error_and_git_writes_nothing(small, outside, tmp_path, capsys, existing):
    documented(small)
    target = outside / ("sentinel.md" if existing else "diff.txt")
    before = world(tmp_path)
    assert generate(small, f"--since=--output={target}") == 2
    assert world(tmp_path) == before
    assert "expected a revision" in capsys.readouterr().err


@pytest.mark.parametrize("since", ["-p", "--no-index", ""])
def test_since_must_be_a_revision(small, capsys, since):
    with pytest.raises(bot.local.UsageError, match="expected a revision"):
        bot.local.run(bot.local.Options(small.path, since=since))
    assert generate(small, f"--since={since}") == 2
    assert "expected a revision" in capsys.readouterr().err


def test_since_is_resolved_to_a_commit_first(small, capsys):
    documented(small)
    tree = small.git("rev-parse", "HEAD^{tree}").strip()
    assert generate(small, "--since", tree) == 2
    assert f"--since {tree}" in capsys.readouterr().err
    assert generate(small, "--since", "HEAD") == 0


# 12. Control characters in names are escaped -----------------------------------------------------

ESC = "\x1b]0;pwned\x07\x1b[2J"


def test_control_characters_never_reach_the_terminal(repo, monkeypatch, capsys):
    repo.write(f"bin{ESC}.txt", b"a\0b")
    repo.write(f"hand{ESC}.py", "x = 1\n")
    repo.write(f"docs/hand{ESC}.py_docs.md", "mine\n")
    repo.write("boom.py", "x = 2\n")
    repo.write("line\nbreak.txt", b"\0")
    repo.write(
        ".github/repodoc.yml", f'docs_dir: docs\n"colour{ESC}": 1\n'.replace("\x1b", "\\e").replace("\x07", "\\a")
    )
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


@pytest.mark.parametrize("standing", ["link", "fifo", "file"])
def test_a_page_absent_when_the_run_began_is_never_written_through_what_stands_there_now(tmp_path: Path, standing):
    """A run writes a page it did not see at the start by creating it exclusively; whatever appeared
    there since is checked as any page's path is: a link is not followed, a FIFO not opened, and a
    regular file (the race of an ordinary write) is replaced."""
    from bot.docsdir import write_page
    from bot.report import Report

    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    docs = tmp_path / "docs"
    docs.mkdir()
    page = docs / "a.py_docs.md"
    if standing == "link":
        page.symlink_to(outside)
    elif standing == "fifo":
        os.mkfifo(page)
    else:
        page.write_text("old")
    report = Report()
    with Tree(docs) as tree:
        write_page(tree, "a.py_docs.md", "new", report, compared=False, absent=True)
    assert outside.read_text() == "keep"
    if standing == "file":
        assert page.read_text() == "new" and report.written == 1 and not report.conflicts
    else:
        assert report.written == 0 and len(report.conflicts) == 1, report.conflicts
        assert page.is_symlink() if standing == "link" else page.is_fifo()


def test_a_source_that_is_no_regular_file_is_never_opened(tmp_path: Path, monkeypatch):
    """A FIFO (or a device) standing at a source's path when it is read is refused before any open."""
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "ok.py").write_text("x = 1\n")
    opened: list[str] = []
    real_open = os.open

    def spy(path, flags, *args, **kwargs):
        opened.append(os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    with Tree(tmp_path) as tree:
        result, error = bot.local.analyse_one(tree, "pipe.py", Config())
        assert result is None and "not a regular file" in error
        result, error = bot.local.analyse_one(tree, "ok.py", Config())
        assert result is not None and result.summary.documented and error == ""
    assert "pipe.py" not in opened and "ok.py" in opened
