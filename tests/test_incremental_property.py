"""Property: after any sequence of commits, `--since` gives the bytes of a full run."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.docsdir import Tree
from bot.local import Options, run
from tests.gitrepo import GitRepo, read_tree
from tests.strategies import CONTENTS, apply, paths, steps

# what a working tree holds that its last commit does not: edits left unstaged or staged (`git add`,
# `git add -N`), files gone from disk but not from the index, a file turned into a link, untracked files
dirty_ops = st.lists(
    st.tuples(
        st.sampled_from(["edit", "stage", "intend", "vanish", "link", "untracked"]), paths, st.sampled_from(CONTENTS)
    ),
    min_size=1,
    max_size=5,
)


def dirty(repo: GitRepo, op: tuple[str, str, str]) -> None:
    kind, path, text = op
    target = repo.path / path
    tracked = set(repo.git("ls-files", "-z").split("\0")) - {""}
    if kind in ("edit", "stage", "intend") and not (target.is_symlink() or (target.exists() and target.is_dir())):
        repo.write(path, text)
        if kind == "stage":
            repo.git("add", "--", path)
        elif kind == "intend" and path not in tracked:
            repo.git("add", "-N", "--", path)
    elif kind in ("vanish", "link") and path in tracked and (target.is_file() or target.is_symlink()):
        target.unlink()
        if kind == "link":
            target.symlink_to("x.py")
    elif kind == "untracked" and not target.exists() and not target.is_symlink():
        repo.write(path + ".new.py", text)


@settings(
    max_examples=int(os.environ.get("REPODOC_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps)
def test_incremental_equals_full_after_every_step(history):
    with tempfile.TemporaryDirectory() as tmp:
        repo, previous, incremental = _started(Path(tmp))
        for n, step in enumerate(history):
            for op in step:
                apply(repo, op)
            current = repo.commit(f"step {n}")
            _since_gives_a_full_runs_tree(repo, previous, incremental, Path(tmp) / f"full{n}")
            previous = current


def _started(tmp: Path) -> tuple[GitRepo, str, Path]:
    """A repository of one committed file, its commit, and the docs a full run made of it."""
    repo = GitRepo(tmp / "repo")
    repo.write("a/x.py", "x = 1\n")
    previous = repo.commit("start")
    incremental = tmp / "incremental"
    run(Options(repo.path, out=incremental))
    return repo, previous, incremental


def _since_gives_a_full_runs_tree(repo: GitRepo, previous: str, incremental: Path, full: Path) -> None:
    report = run(Options(repo.path, since=previous, out=incremental))
    assert report.mode == "incremental"
    run(Options(repo.path, out=full))
    assert read_tree(incremental) == read_tree(full)


@settings(
    max_examples=int(os.environ.get("REPODOC_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.tuples(steps.map(lambda s: s[0]), dirty_ops), min_size=1, max_size=3))
# `git add -N` and then the file gone: neither `git diff REV` nor `git diff --cached REV` reports it
@example([([("delete", "w x.py", "")], [("intend", "a/b/c/w x.py", ""), ("vanish", "a/b/c/w x.py", "")])])
def test_since_over_a_dirty_working_tree_equals_a_full_run(history):
    """The planner's listing is the working tree's as a full run lists it: the index's paths, the
    working tree's bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        repo, previous, incremental = _started(Path(tmp))
        for n, (step, edits) in enumerate(history):
            for op in step:
                apply(repo, op)
            repo.commit(f"step {n}")
            for op in edits:
                dirty(repo, op)
            _since_gives_a_full_runs_tree(repo, previous, incremental, Path(tmp) / f"full{n}")
            repo.git("clean", "-fdq")  # the docs hold no untracked file: the commit that matches them neither
            previous = repo.commit(f"dirty {n}")


def test_since_with_a_config_change_runs_full(repo: GitRepo):
    repo.write("a.py", "x = 1\n")
    first = repo.commit()
    run(Options(repo.path))
    repo.write(".github/repodoc.yml", "footer: '*Other*'\n")
    repo.commit()
    report = run(Options(repo.path, since=first))
    assert report.mode == "full"
    assert (repo.path / "docs/a.py_docs.md").read_text().endswith("*Other*\n")


def test_since_touches_only_changed_files(repo: GitRepo):
    for i in range(30):
        repo.write(f"m{i}.py", f"x = {i}\n")
    first = repo.commit()
    run(Options(repo.path))
    repo.write("m3.py", "x = 'changed'\n")
    report = run(Options(repo.path, since=first))
    assert report.mode == "incremental" and report.documented == 1
    # m3.py_docs.md, the folder's manifest and state; its keywords, index and doc.md are unchanged
    assert (report.written, report.unchanged) == (3, 3)


def _one_file_since_reads(tmp: Path, folders: int, monkeypatch) -> list[str]:
    """The files a one-file `--since` reads (sources and docs), on a repository of folders x 10 files."""
    repo = GitRepo(tmp / f"repo{folders}")
    for i in range(folders):
        for j in range(10):
            repo.write(f"pkg{i}/m{j}.py", f'"""Module {i}.{j}."""\n\ndef f{j}():\n    return {i}\n')
    first = repo.commit()
    run(Options(repo.path))
    repo.write("pkg1/m3.py", '"""Changed."""\n')
    read: list[str] = []
    for name in ("read", "blob"):
        original = getattr(Tree, name)

        def counted(self, rel, original=original):
            read.append(rel)
            return original(self, rel)

        monkeypatch.setattr(Tree, name, counted)
    report = run(Options(repo.path, since=first))
    monkeypatch.undo()
    assert report.mode == "incremental" and report.documented == 1
    full = tmp / f"full{folders}"
    run(Options(repo.path, out=full))
    assert read_tree(repo.path / "docs") == read_tree(full)
    return read


def test_a_one_file_since_reads_as_much_in_a_repository_ten_times_larger(tmp_path, monkeypatch):
    small = _one_file_since_reads(tmp_path, 3, monkeypatch)
    large = _one_file_since_reads(tmp_path, 30, monkeypatch)
    assert sorted(small) == sorted(large)
    assert len(small) <= 12, " ".join(sorted(small))


def _one_file_since_calls(tmp: Path, vendored: int) -> int:
    """The Python function calls a one-file `--since` makes, on a repository of 3 folders x 10 files and
    folders of files that the change does not touch."""
    repo = GitRepo(tmp / f"calls{vendored}")
    for i in range(3):
        for j in range(10):
            repo.write(f"pkg{i}/m{j}.py", f'"""Module {i}.{j}."""\n\ndef f{j}():\n    return {i}\n')
    for j in range(vendored):  # half documented (`lib/`), half excluded by default (`vendor/`)
        repo.write(f"{('lib', 'vendor')[j % 2]}/part{j % 7}/v{j}.py", f"V = {j}\n")
    first = repo.commit()
    run(Options(repo.path))
    repo.write("pkg1/m3.py", '"""Changed."""\n')
    calls = 0

    def count(frame, event, arg) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        report = run(Options(repo.path, since=first))
    finally:
        sys.setprofile(None)
    assert report.mode == "incremental" and report.documented == 1
    return calls


def test_a_one_file_since_does_as_much_work_beside_a_thousand_untouched_files(tmp_path):
    # a count of calls, not a time: the same on a busy machine. Reading the whole index row by row (as
    # `--since` did) costs several calls per file of the repository, 19,000 more here; what may grow is
    # the bisection of the index (a few calls per doubling) and the reads of git's longer output
    small, large = _one_file_since_calls(tmp_path, 14), _one_file_since_calls(tmp_path, 1400)
    assert large - small < 400, (small, large)
