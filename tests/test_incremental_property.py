"""Property: after any sequence of commits, `--since` gives the bytes of a full run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from bot.local import Options, run
from tests.gitrepo import GitRepo, read_tree
from tests.strategies import apply, steps


@settings(
    max_examples=int(os.environ.get("REPODOC_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps)
def test_incremental_equals_full_after_every_step(history):
    with tempfile.TemporaryDirectory() as tmp:
        repo = GitRepo(Path(tmp) / "repo")
        repo.write("a/x.py", "x = 1\n")
        previous = repo.commit("start")
        incremental = Path(tmp) / "incremental"
        run(Options(repo.path, out=incremental))
        for n, step in enumerate(history):
            for op in step:
                apply(repo, op)
            current = repo.commit(f"step {n}")
            report = run(Options(repo.path, since=previous, out=incremental))
            assert report.mode == "incremental"
            full = Path(tmp) / f"full{n}"
            run(Options(repo.path, out=full))
            assert read_tree(incremental) == read_tree(full)
            previous = current


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
