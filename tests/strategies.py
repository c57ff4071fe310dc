"""Hypothesis strategies of repository edits, and applying them to a real git repository."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.gitrepo import GitRepo

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
