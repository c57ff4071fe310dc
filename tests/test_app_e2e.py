"""End to end through real HTTP: signed webhook → `repodoc serve` app → GitHub stand-in.

After every sync the docs branch's docs/ must equal, byte for byte, what `repodoc generate`
writes for the pushed commit.
"""

from __future__ import annotations

import json

import pytest

from tests.appworld import FULL, INSTALLATION, World
from tests.standin import spec

SOURCES = {
    "README.md": "# Demo\n\nA demo project.\n",
    "pkg/__init__.py": '"""The demo package."""\nfrom .core import run\n',
    "pkg/core.py": "import subprocess\n\ndef run():\n    return subprocess.run('ls', shell=True)\n",
    "pkg/util/helpers.py": "def helper(x):\n    return x * 2\n",
    "src/main.c": '#include "lib.h"\nint main(void) { return 0; }\n',
}


def seed(world: World) -> None:
    for path, text in SOURCES.items():
        world.local.write(path, text)
    world.local.commit("initial")


async def test_first_push_opens_one_pull_request_with_the_generated_tree(world: World):
    seed(world)
    response = await world.push_and_deliver()
    assert response.status == 202
    await world.settle()
    pulls = world.standin.open_pulls(FULL)
    assert [(p["head"], p["base"]) for p in pulls] == [("repodoc/main", "main")]
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
    commit_posts = [json.loads(r.body) for r in world.standin.requests if r.path.endswith("/git/commits")]
    assert commit_posts and all("author" not in c and "committer" not in c for c in commit_posts)
    assert commit_posts[0]["parents"] == [world.pushed]


def changed_paths(world: World, base: str, head: str) -> set[str]:
    out = world.store.git("diff", "--name-only", base, head).decode().split("\n")
    return {p for p in out if p}


async def first_round(world: World) -> None:
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    world.merge_docs_pull()
    world.pushed = world.local.git("rev-parse", "HEAD").strip()


@pytest.mark.parametrize(
    ("event", "action", "key"),
    [
        ("installation", "created", "repositories"),
        ("installation_repositories", "added", "repositories_added"),
    ],
)
async def test_installation_syncs_a_repository_without_docs(world: World, event: str, action: str, key: str):
    seed(world)
    head = world.push()
    payload = spec.webhook_example(event, lambda e: e["action"] == action)
    payload["installation"]["id"] = INSTALLATION
    payload[key] = [{**payload[key][0], "name": "demo", "full_name": FULL}]
    assert (await world.deliver(event, payload)).status == 202
    await world.settle()
    assert len(world.standin.open_pulls(FULL)) == 1
    assert world.docs_branch_tree() == world.generated_tree(head)


async def test_one_file_change_touches_its_pages_and_folder_only(world: World):
    await first_round(world)
    world.local.write("pkg/util/helpers.py", "def helper(x):\n    return x * 3\n")
    world.local.commit("tweak")
    assert (await world.push_and_deliver()).status == 202
    await world.settle()
    docs = world.store.resolve("refs/heads/repodoc/main")
    assert changed_paths(world, world.pushed, docs) <= {
        "docs/pkg/util/helpers.py_docs.md",
        "docs/pkg/util/helpers.py_kw.md",
        "docs/pkg/util/index.md",
        "docs/pkg/util/doc.md",
        "docs/pkg/util/.repodoc-manifest.json",
        "docs/pkg/util/.repodoc-state.json",
    }
    assert "docs/pkg/util/helpers.py_docs.md" in changed_paths(world, world.pushed, docs)
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_deletion_and_rename(world: World):
    await first_round(world)
    world.local.remove("src/main.c")
    world.local.git("mv", "pkg/core.py", "pkg/engine.py")
    world.local.commit("delete and rename")
    await world.push_and_deliver()
    await world.settle()
    tree = world.docs_branch_tree()
    assert "pkg/engine.py_docs.md" in tree and "pkg/core.py_docs.md" not in tree
    assert not [p for p in tree if p.startswith("src/")]
    assert tree == world.generated_tree(world.pushed)


async def test_push_of_25_commits(world: World):
    await first_round(world)
    for n in range(25):
        world.local.write(f"many/m{n}.py", f"VALUE = {n}\n")
        world.local.commit(f"commit {n}")
    await world.push_and_deliver()
    await world.settle()
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_force_push(world: World):
    await first_round(world)
    world.local.write("pkg/core.py", "def run():\n    return 1\n")
    world.local.commit("to be rewritten")
    await world.push_and_deliver()
    await world.settle()
    world.local.git("reset", "-q", "--hard", "HEAD~1")
    world.local.write("pkg/other.py", "X = 1\n")
    world.local.commit("rewritten history")
    assert (await world.push_and_deliver(force=True)).status == 202
    await world.settle()
    assert len(world.standin.open_pulls(FULL)) == 1
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_push_changing_nothing_documentable_makes_no_commit(world: World):
    await first_round(world)
    before = len(world.standin.requests)
    world.local.write("logo.png", b"\x89PNG\r\n\x1a\n")
    world.local.commit("a picture")
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.open_pulls(FULL) == []
    posts = [r for r in world.standin.requests[before:] if r.method != "GET"]
    assert posts == []


async def test_open_pull_request_no_longer_needed_is_closed_with_a_comment(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    number = world.standin.open_pulls(FULL)[0]["number"]
    # someone brings docs in step by hand (here: the docs branch's tree lands on main)
    docs_head = world.store.resolve("refs/heads/repodoc/main")
    world.store.set_ref("refs/heads/main", docs_head)
    world.local.git("fetch", "-q", str(world.store.path), "main")
    world.local.git("reset", "-q", "--hard", "FETCH_HEAD")
    world.local.write("notes.png", b"\x89PNG")
    world.local.commit("unrelated")
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.open_pulls(FULL) == []
    assert [c["number"] for c in world.standin.comments] == [number]
    assert "already in step" in world.standin.comments[0]["body"]


async def two_pushes(world: World) -> None:
    """The seed pushed and synced, then a second commit pushed and synced (the first PR still open)."""
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    world.local.write("pkg/new.py", "NEW = True\n")
    world.local.commit("second")
    await world.push_and_deliver()
    await world.settle()


async def test_second_push_updates_the_open_pull_request(world: World):
    await two_pushes(world)
    pulls = world.standin.pulls[FULL]
    assert len(pulls) == 1 and pulls[0]["state"] == "open"
    assert world.pushed in pulls[0]["body"]
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_racing_pushes_end_in_one_consistent_pull_request(world: World):
    seed(world)
    first = world.push()
    world.local.write("pkg/late.py", "LATE = 1\n")
    world.local.commit("second, pushed before the first job ran")
    second = world.push()
    await world.deliver("push", world.push_payload("0" * 40, first))
    await world.deliver("push", world.push_payload(first, second))
    await world.settle()
    assert len(world.standin.pulls[FULL]) == 1
    assert world.docs_branch_tree() == world.generated_tree(second)


async def test_redelivered_webhook_does_no_work_twice(world: World):
    seed(world)
    response = await world.push_and_deliver(delivery="delivery-1")
    await world.settle()
    commits_before = [r for r in world.standin.requests if r.path.endswith("/git/commits")]
    payload = world.push_payload("0" * 40, world.pushed)
    again = await world.deliver("push", payload, delivery="delivery-1")
    await world.settle()
    assert (response.status, again.status) == (202, 200)
    assert [r for r in world.standin.requests if r.path.endswith("/git/commits")] == commits_before
    assert len(world.standin.pulls[FULL]) == 1


async def test_same_push_delivered_twice_under_new_ids_adds_no_commit(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    payload = world.push_payload("0" * 40, world.pushed)
    assert (await world.deliver("push", payload)).status == 202
    await world.settle()
    assert len([r for r in world.standin.requests if r.path.endswith("/git/commits")]) == 1


async def test_installation_token_is_cached_across_jobs(world: World):
    await two_pushes(world)
    assert len([r for r in world.standin.requests if r.path.endswith("/access_tokens")]) == 1


async def test_transient_failures_are_retried(world: World):
    from tests.standin.server import Fault

    seed(world)
    world.standin.faults += [
        Fault("GET", "/repos/octo-org/demo/git/trees/", 502),
        Fault("POST", "/repos/octo-org/demo/git/trees", 403, headers={"Retry-After": "0"}),
        Fault("POST", "/repos/octo-org/demo/pulls", 429, headers={"Retry-After": "0"}),
    ]
    await world.push_and_deliver()
    await world.settle()
    assert all(f.times == 0 for f in world.standin.faults)
    assert len(world.standin.open_pulls(FULL)) == 1
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_large_updates_chain_trees_in_chunks(world: World, monkeypatch):
    from bot.github import writes

    monkeypatch.setattr(writes, "TREE_ENTRIES", 5)
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    tree_posts = [r for r in world.standin.requests if r.method == "POST" and r.path.endswith("/git/trees")]
    assert len(tree_posts) == 6  # 26 pages in chunks of 5
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_conditional_requests_use_the_etag_cache(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    payload = world.push_payload("0" * 40, world.pushed)
    for _ in range(2):  # the same commit again, under new delivery ids: the second finds the PR unchanged
        await world.deliver("push", payload)
        await world.settle()
    assert world.standin.not_modified >= 1
    conditional = {r.path.split("?")[0] for r in world.standin.requests if r.status == 304}
    assert "/repos/octo-org/demo/pulls" in conditional  # the docs PR lookup
    assert conditional <= {"/repos/octo-org/demo/pulls", "/repos/octo-org/demo/git/ref/heads/main"}
    # tree and blob answers are never kept
