"""The App on repositories past GitHub's recursive tree limit, end to end through real HTTP: listings read
by descent and cached by sha, bootstraps read from one archive, archive members checked against the blobs."""

from __future__ import annotations

import gzip
import io
import subprocess
import tarfile

import pytest

from bot.github import contents
from bot.github.listing import tree_id
from tests.appworld import FULL, World
from tests.standin.server import CODELOAD, Recorded


def corpus(files: int, per_folder: int = 100, data_files: int = 0) -> dict[str, bytes]:
    """`files` small files, `per_folder` to a folder: Python modules, except `data_files` of every
    `per_folder`, which are small binary files (read and hashed like any file, cheap to document)."""
    out = {}
    for n in range(files):
        folder = f"pkg{n // per_folder}"
        if n % per_folder < data_files:
            out[f"{folder}/data_{n}.bin"] = b"\0" + n.to_bytes(4, "big")
        else:
            out[f"{folder}/mod_{n}.py"] = f"def f_{n}(x):\n    return x + {n}\n".encode()
    return out


def populate(world: World, files: int, per_folder: int = 100) -> None:
    """Commit corpus(files, per_folder) through the work tree."""
    for path, data in corpus(files, per_folder).items():
        world.local.write(path, data)
    world.local.commit("corpus")


def fast_commit(world: World, files: dict[str, bytes], message: str) -> str:
    """Commit these files on top of main with `git fast-import`, never writing them to the work tree."""
    repo = world.local.git
    parent = subprocess.run(["git", "rev-parse", "-q", "--verify", "main"], cwd=world.local.path, capture_output=True)
    lines = [b"commit refs/heads/main", b"committer t <t@example.invalid> 1700000000 +0000"]
    lines += [b"data %d" % len(message), message.encode()]
    if parent.returncode == 0:
        lines.append(b"from " + parent.stdout.strip())
    for path, data in files.items():
        lines += [b"M 100644 inline " + path.encode(), b"data %d" % len(data), data]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=world.local.path, input=b"\n".join(lines) + b"\n", check=True)
    return repo("rev-parse", "main").strip()


def merge_without_checkout(world: World) -> None:
    """Merge the open docs pull request as World.merge_docs_pull does, leaving the work tree alone."""
    pull = world.standin.open_pulls(FULL)[0]
    docs_head = world.store.resolve("refs/heads/" + pull["head"])
    assert docs_head is not None
    world.store.set_ref("refs/heads/main", docs_head)
    pull["state"] = "closed"
    world.local.git("fetch", "-q", str(world.store.path), "main")
    world.local.git("update-ref", "refs/heads/main", "FETCH_HEAD")
    world.pushed = docs_head


def since(world: World, start: int) -> list[Recorded]:
    return world.standin.requests[start:]


def api(requests: list[Recorded]) -> list[Recorded]:
    return [r for r in requests if not r.path.startswith(CODELOAD)]


def count(requests: list[Recorded], method: str, part: str) -> int:
    return sum(1 for r in requests if r.method == method and part in r.path)


async def push(world: World) -> list[Recorded]:
    start = len(world.standin.requests)
    await world.push_and_deliver()
    await world.settle()
    return since(world, start)


async def test_a_repository_past_the_truncation_limit(world: World):
    world.standin.tree_limit = 5_000
    fast_commit(world, corpus(12_000, data_files=90), "corpus")
    sent = await push(world)
    assert count(sent, "GET", "/tarball/") == 1 and count(sent, "GET", CODELOAD) == 1
    assert count(sent, "GET", "/git/blobs/") == 0
    assert count(sent, "GET", "/git/trees/") <= 80  # one truncated read, then the folders it left out
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
    merge_without_checkout(world)
    fast_commit(world, {"pkg7/mod_705.py": b"X = 1\n"}, "one file")
    sent = await push(world)
    # the root and pkg7, each on its own; docs/ was predicted from the trees the App wrote
    assert count(sent, "GET", "/git/trees/") == 2
    assert count(sent, "GET", "/tarball/") == 0 and count(sent, "GET", "/git/blobs/") == 2  # the file, a state
    assert len(api(sent)) <= 14  # with the look-ups of a docs pull request a person closed and of its branch
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_listing_cache_is_reused_across_pushes(world: World):
    world.standin.tree_limit = 12
    populate(world, 40, per_folder=10)
    await push(world)
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
    world.local.write("pkg2/mod_21.py", "Y = 2\n")
    world.local.commit("second")
    sent = await push(world)
    trees = [r.path for r in sent if r.method == "GET" and "/git/trees/" in r.path]
    # the root on its own (its recursive read was truncated), pkg2 (new to the cache): the rest is cached
    assert len(trees) == 2 and "recursive" not in trees[0]
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


def test_tree_id_is_the_one_git_computes(world: World):
    populate(world, 3, per_folder=2)
    world.local.write("pkg0.py", "A = 1\n")  # sorts before the folder `pkg0/` as git sorts it
    world.local.write("pkg0-x", "B = 1\n")
    head = world.local.commit("names")
    store = world.store
    world.push()
    root = store.tree_of(head)
    rows = [(str(e["path"]), str(e["mode"]), str(e["type"]), str(e["sha"]), 0) for e in store.ls_tree(root, False)]
    assert tree_id(rows) == root


SUBST = "VERSION = '$Format:%H$'\n"


async def test_archive_members_that_are_not_the_blobs_are_read_as_blobs(world: World):
    world.local.write(".gitattributes", "pkg0/ignored.py export-ignore\npkg0/subst.py export-subst\n")
    world.local.write("pkg0/ignored.py", "IGNORED = 1\n")
    world.local.write("pkg0/subst.py", SUBST)
    populate(world, 30)
    sent = await push(world)
    assert count(sent, "GET", "/tarball/") == 1
    blobs = {r.path.rsplit("/", 1)[-1] for r in sent if "/git/blobs/" in r.path}
    listed = {str(e["path"]): str(e["sha"]) for e in world.store.ls_tree(world.pushed, True)}
    assert blobs == {listed["pkg0/ignored.py"], listed["pkg0/subst.py"]}
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
    assert b"$Format:%H$" in world.docs_branch_tree()["pkg0/subst.py_docs.md"]


def drop_and_add(data: bytes) -> bytes:
    """The archive without pkg0/mod_3.py, with an extra member and one that climbs out of the folder."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as old, tarfile.open(fileobj=out, mode="w") as new:
        for member in old.getmembers():
            if member.name.endswith("/pkg0/mod_3.py"):
                continue
            new.addfile(member, old.extractfile(member) if member.isfile() else None)
            top = member.name.split("/")[0]
        for name in (f"{top}/pkg0/extra.py", f"{top}/../../escape.py", "/etc/evil.py"):
            extra = tarfile.TarInfo(name)
            extra.size = 6
            new.addfile(extra, io.BytesIO(b"X = 9\n"))
    return gzip.compress(out.getvalue())


async def test_missing_and_extra_members(world: World, tmp_path):
    world.standin.archive_edit = drop_and_add
    populate(world, 30)
    sent = await push(world)
    listed = {str(e["path"]): str(e["sha"]) for e in world.store.ls_tree(world.pushed, True)}
    assert [r.path.rsplit("/", 1)[-1] for r in sent if "/git/blobs/" in r.path] == [listed["pkg0/mod_3.py"]]
    tree = world.docs_branch_tree()
    assert tree == world.generated_tree(world.pushed)
    assert not any("extra" in p or "escape" in p or "evil" in p for p in tree)
    assert not (tmp_path / "escape.py").exists()


@pytest.mark.parametrize("limit", ["bytes", "members"])
async def test_an_oversized_archive_is_refused_and_the_blobs_read(world: World, monkeypatch, limit: str):
    monkeypatch.setattr(contents, "ARCHIVE_BYTES" if limit == "bytes" else "MEMBERS", 10)
    populate(world, 30)
    sent = await push(world)
    assert count(sent, "GET", "/tarball/") == 1
    assert count(sent, "GET", "/git/blobs/") == 30
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
    assert world.standin.open_pulls(FULL)
