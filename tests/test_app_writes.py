"""Writes GitHub accepts, and a docs pull request left alone when it is right: end to end through real
HTTP against the stand-in (tree bodies past its limit, refused ref updates, lost answers to POSTs, a
renamed default branch, a pull request body at the cap)."""

from __future__ import annotations

import json
from typing import Any

import gidgethub.aiohttp
import pytest

from bot.github import pulls
from bot.github.client import GitHubClient
from tests.appworld import FULL, World
from tests.standin.server import BODY_LIMIT, Fault
from tests.test_app_e2e import first_round, seed

WORKFLOW = ".github/workflows/ci.yml"


def writes(world: World, start: int) -> list[str]:
    """Every request since `start` that is not a read."""
    return [f"{r.method} {r.path}" for r in world.standin.requests[start:] if r.method != "GET"]


def no_post_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client policy of the rate-limit work: a POST whose answer is lost is not resent by the client."""
    retrying = GitHubClient._request

    async def request(self: GitHubClient, method: str, url: str, headers: Any, body: bytes = b"") -> Any:
        if method == "POST":
            self.traffic.requests += 1
            return await gidgethub.aiohttp.GitHubAPI._request(self, method, url, headers, body)
        return await retrying(self, method, url, headers, body)

    monkeypatch.setattr(GitHubClient, "_request", request)


async def test_a_tree_body_past_the_limit_is_split_and_sent_again(world: World):
    world.standin.tree_body_limit = 6000
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    posts = [r for r in world.standin.requests if r.method == "POST" and r.path.endswith("/git/trees")]
    refused = [r for r in posts if r.bytes_sent > 6000]
    assert refused and len(posts) > len(refused) + 1
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_a_tree_chunk_that_keeps_failing_with_a_5xx_is_split(world: World):
    seed(world)
    # more 502s than the client's and the caller's sends together: only a smaller body gets through
    world.standin.faults.append(Fault("POST", "/repos/octo-org/demo/git/trees", 502, times=8))
    await world.push_and_deliver()
    await world.settle()
    posts = [r for r in world.standin.requests if r.method == "POST" and r.path.endswith("/git/trees")]
    failed = [r for r in posts if r.status == 502]
    made = [r for r in posts if r.status == 201]
    assert len(failed) == 8 and len(made) >= 2 and max(r.bytes_sent for r in made) < failed[0].bytes_sent
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_a_missing_docs_branch_is_created(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    refs = [w for w in writes(world, 0) if "/git/refs" in w]
    assert refs == ["PATCH /repos/octo-org/demo/git/refs/heads/repodoc/main", "POST /repos/octo-org/demo/git/refs"]


async def test_workflows_refusal_with_a_pull_request_open_is_reported_on_it_once(world: World):
    world.local.write(WORKFLOW, "on: push\n")
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    docs_head = world.store.resolve("refs/heads/repodoc/main")
    world.standin.workflows_permission = False
    for n in range(2):
        world.local.write(WORKFLOW, f"on: [push, pull_request]  # {n}\n")
        world.local.write("pkg/util/helpers.py", f"def helper(x):\n    return x * {n + 5}\n")
        world.local.commit(f"workflow and code {n}")
        await world.push_and_deliver()
        await world.settle()
    assert world.store.resolve("refs/heads/repodoc/main") == docs_head
    [comment] = world.standin.comments
    assert comment["number"] == pull["number"]
    assert "`workflows: write`" in comment["body"] and "delete the branch `repodoc/main`" in comment["body"]
    world.standin.workflows_permission = True  # the fix: the permission granted
    world.local.write("pkg/util/helpers.py", "def helper(x):\n    return x * 9\n")
    world.local.commit("after the fix")
    await world.push_and_deliver()
    await world.settle()
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
    assert [p["number"] for p in world.standin.open_pulls(FULL)] == [pull["number"]]


async def test_workflows_refusal_with_no_pull_request_open_recreates_the_branch(world: World):
    world.local.write(WORKFLOW, "on: push\n")
    await first_round(world)  # merged (repodoc/main stays behind, on the old source)
    world.standin.workflows_permission = False
    world.local.write(WORKFLOW, "on: [push, pull_request]\n")
    world.local.write("pkg/util/helpers.py", "def helper(x):\n    return x * 4\n")
    world.local.commit("workflow and code")
    start = len(world.standin.requests)
    await world.push_and_deliver()
    await world.settle()
    refs = [w for w in writes(world, start) if "/git/refs" in w]
    assert refs == [
        "PATCH /repos/octo-org/demo/git/refs/heads/repodoc/main",
        "DELETE /repos/octo-org/demo/git/refs/heads/repodoc/main",
        "PATCH /repos/octo-org/demo/git/refs/heads/repodoc/main",
        "POST /repos/octo-org/demo/git/refs",
    ]
    assert len(world.standin.open_pulls(FULL)) == 1
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_another_ref_refusal_is_reported_not_misread(world: World):
    seed(world)
    world.standin.faults.append(Fault("PATCH", "/repos/octo-org/demo/git/refs/", 422))
    await world.push_and_deliver()
    await world.settle()
    assert not any(w.startswith("POST /repos/octo-org/demo/git/refs") for w in writes(world, 0))
    assert world.standin.open_pulls(FULL) == []
    [run] = world.standin.check_runs
    assert run["conclusion"] == "failure" and "stand-in fault" in run["output"]["summary"]


@pytest.mark.parametrize("client_retries", [True, False])
async def test_pull_request_creation_retried_after_a_lost_answer_updates_the_one_made(
    world: World, monkeypatch: pytest.MonkeyPatch, client_retries: bool
):
    if not client_retries:
        no_post_retries(monkeypatch)
    world.standin.lost.append(Fault("POST", "/repos/octo-org/demo/pulls", 0))
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.lost[0].times == 0
    [pull] = world.standin.pulls[FULL]
    assert (
        pull["state"] == "open"
        and pulls.parse_pull(
            {"number": 1, "body": pull["body"], "head": {"ref": "", "sha": ""}, "base": {"ref": ""}}
        ).marker
    )
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_a_comment_whose_answer_is_lost_is_not_posted_twice(world: World, monkeypatch: pytest.MonkeyPatch):
    no_post_retries(monkeypatch)
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    world.store.set_ref("refs/heads/main", str(world.store.resolve("refs/heads/repodoc/main")))
    world.local.git("fetch", "-q", str(world.store.path), "main")
    world.local.git("reset", "-q", "--hard", "FETCH_HEAD")
    world.local.write("notes.png", b"\x89PNG")
    world.local.commit("unrelated")
    world.standin.lost.append(Fault("POST", "/repos/octo-org/demo/issues/", 0))
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.lost[0].times == 0
    assert len(world.standin.comments) == 1 and world.standin.open_pulls(FULL) == []


async def test_a_correct_pull_request_is_left_alone_by_an_unrelated_push(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    body, docs_head, source = pull["body"], world.store.resolve("refs/heads/repodoc/main"), world.pushed
    world.local.write("logo.png", b"\x89PNG\r\n\x1a\n")
    world.local.commit("a picture")
    start = len(world.standin.requests)
    await world.push_and_deliver()
    await world.settle()
    assert writes(world, start) == []
    assert world.store.resolve("refs/heads/repodoc/main") == docs_head and pull["body"] == body
    assert source in body and world.pushed not in body  # it sits on the older source commit
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
    world.merge_docs_pull()  # and it still merges cleanly onto the new head
    assert world.docs_branch_tree() == world.generated_tree(world.local.git("rev-parse", "HEAD").strip())


async def test_a_rewritten_history_is_not_left_alone(world: World):
    seed(world)
    world.local.write("notes.txt", "one\n")
    world.local.commit("to be rewritten")
    await world.push_and_deliver()
    await world.settle()
    world.local.git("reset", "-q", "--hard", "HEAD~1")
    world.local.write("logo.png", b"\x89PNG")
    world.local.commit("rewritten")
    start = len(world.standin.requests)
    await world.push_and_deliver(force=True)
    await world.settle()
    assert "POST /repos/octo-org/demo/git/commits" in writes(world, start)
    docs_head = str(world.store.resolve("refs/heads/repodoc/main"))
    assert world.store.commit_info(docs_head)["parents"] == [world.pushed]


async def test_a_renamed_default_branch_moves_the_existing_pull_request(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    world.standin.rename_branch(FULL, "main", "trunk")
    world.local.write("pkg/util/helpers.py", "def helper(x):\n    return x * 7\n")
    head = world.local.commit("on trunk")
    world.local.git("push", "-q", str(world.store.path), "HEAD:refs/heads/trunk")
    payload = world.push_payload(world.pushed, head)
    payload["ref"] = "refs/heads/trunk"
    payload["repository"]["default_branch"] = "trunk"
    assert (await world.deliver("push", payload)).status == 202
    await world.settle()
    assert [(p["number"], p["head"], p["base"]) for p in world.standin.open_pulls(FULL)] == [
        (pull["number"], "repodoc/main", "trunk")
    ]
    assert "`trunk`" in pull["title"] and head in pull["body"]
    assert world.docs_branch_tree("repodoc/main") == world.generated_tree(head)


async def test_a_fork_pull_request_dressed_as_the_docs_one_is_not_taken_for_it(world: World):
    seed(world)
    body = "<!-- repodoc:source=" + "1" * 40 + " --> borrowed"
    fork = {"number": 1, "state": "open", "title": "mine", "body": body, "head": "repodoc/main", "base": "main"}
    world.standin.pulls[FULL].append({**fork, "head_repo": "someone/demo"})
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.pulls[FULL][0]["body"] == body and world.standin.pulls[FULL][0]["title"] == "mine"
    assert [p["number"] for p in world.standin.open_pulls(FULL)] == [1, 2]
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_a_pull_request_found_by_its_head_into_another_base_is_retargeted(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    world.store.set_ref("refs/heads/elsewhere", world.pushed)
    pull["base"] = "elsewhere"
    world.local.write("pkg/util/helpers.py", "def helper(x):\n    return x * 8\n")
    world.local.commit("more")
    await world.push_and_deliver()
    await world.settle()
    assert [(p["number"], p["base"]) for p in world.standin.open_pulls(FULL)] == [(pull["number"], "main")]
    patched = [json.loads(r.body) for r in world.standin.requests if r.method == "PATCH" and "/pulls/" in r.path]
    assert patched[-1]["base"] == "main"


async def test_a_pull_request_body_at_the_cap(world: World):
    name = "n" * 180
    for n in range(400):
        world.local.write(f"deep/{name}{n}.py", f"V = {n}\n")
        world.local.write(f"docs/deep/{name}{n}.py_docs.md", "written by hand\n")  # in repodoc's way
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    assert len(pull["body"]) < BODY_LIMIT
    assert pull["body"].startswith("<!-- repodoc:source=") and "more" in pull["body"]


def test_a_body_from_huge_lists_stays_under_the_limit():
    marker = pulls.Marker("1" * 40, "2" * 40, "3" * 40, "4" * 40)
    paths = [f"{'x' * 3000}/{n}.md" for n in range(5000)]
    text = pulls.body(marker, "b" * 250, "", paths, paths, "docs", paths)
    assert len(text) < pulls.BODY_LIMIT and text.startswith(marker.text())
    assert text.count(" more\n") == 3  # written, deleted and conflicts, each cut with a count


async def test_a_deleted_branch_takes_its_docs_branch_with_it_unless_someone_else_committed(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    gone = {**world.push_payload(world.pushed, world.pushed), "deleted": True, "after": "0" * 40, "commits": []}
    gone["head_commit"] = None
    await world.deliver("push", {**gone, "before": world.pushed})
    await world.settle()
    assert world.standin.open_pulls(FULL) == [] and world.store.resolve("refs/heads/repodoc/main") is None
    # again, with a commit someone pushed onto the docs branch: the PR is closed, the branch kept
    world.standin.pulls[FULL].clear()
    world.local.write("pkg/extra.py", "E = 1\n")
    world.local.commit("more")
    await world.push_and_deliver()
    await world.settle()
    docs_head = str(world.store.resolve("refs/heads/repodoc/main"))
    tree = world.store.tree_of(docs_head)
    human = world.store.commit(tree, [docs_head], "a fix by hand")
    world.store.set_ref("refs/heads/repodoc/main", human)
    await world.deliver("push", {**gone, "before": world.pushed})
    await world.settle()
    assert world.standin.open_pulls(FULL) == [] and world.store.resolve("refs/heads/repodoc/main") == human


async def test_report_shows_a_plan_as_a_check_run(world: World, aiohttp_client: Any):
    import time

    import aiohttp

    from bot.engine import Config, blob_id, render_file
    from bot.engine.reconcile import Entry
    from bot.github.plan import Target, plan, renders, survey
    from bot.github.publish import report

    seed(world)
    head = world.push()
    config = Config()
    listing = {"a.py": Entry("100644", blob_id(b"x = 1\n"))}
    found = survey(listing, config)
    states = dict.fromkeys(found.stale)
    rendered = {p: render_file(p, b"x = 1\n", config) for p in renders(found, states)}
    target = Target("octo-org", "demo", "main")
    world.standin.tokens["ghs_test"] = time.time() + 60
    async with aiohttp.ClientSession() as session:
        gh = GitHubClient(session, "test", oauth_token="ghs_test", base_url=world.standin.url)  # type: ignore[attr-defined]
        todo = plan(target, head, "0" * 40, listing, config, found, states, rendered)
        await report(gh, todo)
        made = {f"docs/{rel}": Entry("100644", blob_id(text.encode())) for rel, text in todo.writes.items()}
        after = {**listing, **made}
        await report(gh, plan(target, head, "0" * 40, after, config, survey(after, config), {}, {}))
    shown, done = world.standin.check_runs
    assert (shown["conclusion"], shown["head_sha"], done["conclusion"]) == ("neutral", head, "success")
    assert (
        shown["output"]["title"].endswith("pages to regenerate, 0 to delete")
        and "a.py_docs.md" in shown["output"]["summary"]
    )


@pytest.mark.parametrize("client_retries", [True, False])
async def test_lost_answers_to_the_tree_commit_and_ref_posts(
    world: World, monkeypatch: pytest.MonkeyPatch, client_retries: bool
):
    if not client_retries:
        no_post_retries(monkeypatch)
    world.standin.lost += [
        Fault("POST", "/repos/octo-org/demo/git/refs", 0),
        Fault("POST", "/repos/octo-org/demo/git/trees", 0),
        Fault("POST", "/repos/octo-org/demo/git/commits", 0),
    ]
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    assert all(lost.times == 0 for lost in world.standin.lost)
    assert len(world.standin.open_pulls(FULL)) == 1
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


def test_push_paths_are_known_below_the_webhooks_cap_of_2048_commits():
    from tests.standin import spec
    from webhooks.push import LISTED_COMMITS, Push

    payload = spec.webhook_example("push", lambda e: e["ref"].startswith("refs/heads/") and "installation" in e)
    commit = {**payload["commits"][0], "added": ["docs/a.md"], "removed": [], "modified": []}
    assert LISTED_COMMITS == 2048
    for listed, known in ((25, True), (2047, True), (2048, False)):
        paths = Push.from_payload({**payload, "commits": [commit] * listed}).paths
        assert (paths is not None) == known
