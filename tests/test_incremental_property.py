"""Property: after any sequence of commits, `--since` gives the bytes of a full run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.local import Options, run
from tests.gitrepo import GitRepo, read_tree

FOLDERS = ["", "a", "a/b", "a/b/c", "d"]
NAMES = ["x.py", "y.md", "z.c", "w x.py"]
CONTENTS = [
    "",
    "x = 1\n",
    '"""Doc."""\nclass A:\n    def m(self): pass\n',
    "from . import x\n",
    "def broken(:\n",
    "# Title\n\nText.\n",
    "int f(void) { return 0; }\n",
    "import os\nos.system('ls')\n",
]

paths = st.builds(lambda f, n: f"{f}/{n}" if f else n, st.sampled_from(FOLDERS), st.sampled_from(NAMES))
ops = st.one_of(
    st.tuples(st.just("write"), paths, st.sampled_from(CONTENTS)),
    st.tuples(st.just("delete"), paths, st.just("")),
    st.tuples(st.just("rename"), paths, paths),
    st.tuples(st.just("empty"), st.sampled_from(FOLDERS[1:]), st.just("")),
)
steps = st.lists(st.lists(ops, min_size=1, max_size=4), min_size=1, max_size=5)


def apply(repo: GitRepo, op: tuple[str, str, str]) -> None:
    kind, path, arg = op
    tracked = set(repo.git("ls-files", "-z").split("\0")) - {""}
    if kind == "write":
        repo.write(path, arg)
    elif kind == "delete" and path in tracked:
        repo.remove(path)
    elif kind == "rename" and path in tracked and not (repo.path / arg).exists() and path != arg:
        (repo.path / arg).parent.mkdir(parents=True, exist_ok=True)
        repo.git("mv", path, arg)
    elif kind == "empty":
        for name in [t for t in tracked if t.startswith(path + "/")]:
            repo.remove(name)


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
