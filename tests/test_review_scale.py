"""Review of issue 7 (the App on real GitHub at any size): defects found, each shown through the stand-in."""

from __future__ import annotations

import pytest

from bot.github.client import Deferred
from tests.appworld import FULL, INSTALLATION, World
from tests.standin.server import Fault
from tests.test_app_e2e import seed
from tests.test_rate_limits import FakeClock, job, runner, session  # noqa: F401 - the session fixture
from tests.test_scale import populate


# -- item 5: the tarball request is an API request like any other ---------------------------------------
async def test_the_tarball_request_is_counted_against_the_budget(world: World, session):  # noqa: F811
    """The archive's API request (`GET tarball`, which counts) went around the client: sent with the budget
    spent, its 403 read as an unusable archive and every file then asked for as a blob."""
    clock = FakeClock()
    populate(world, 30)
    app = runner(world, session, clock)
    reset = clock.now + 900
    # one request left: the recursive tree read spends it, so the next request must wait for the reset
    world.standin.limits.set_budget(INSTALLATION, limit=1, used=0, reset=reset)
    with pytest.raises(Deferred) as caught:
        await app.run(job(world))
    assert caught.value.until == reset
    assert world.standin.limits.refused == 0, "a request was sent with the budget spent"
    assert not any("/git/blobs/" in r.path for r in world.standin.requests)


async def test_a_rate_limited_tarball_defers_instead_of_reading_every_blob(world: World, session):  # noqa: F811
    clock = FakeClock()
    populate(world, 30)
    app = runner(world, session, clock)
    world.standin.faults.append(
        Fault("GET", f"/repos/{FULL}/tarball/", 403, headers={"retry-after": "600", "x-ratelimit-remaining": "100"})
    )
    with pytest.raises(Deferred) as caught:
        await app.run(job(world))
    assert caught.value.until == clock.now + 600
    assert not any("/git/blobs/" in r.path for r in world.standin.requests)


# -- item 5/6: a job tried again never posts its closing comment twice ---------------------------------
async def test_a_close_retried_after_the_comment_posts_it_once(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    docs_head = world.store.resolve("refs/heads/repodoc/main")
    world.store.set_ref("refs/heads/main", str(docs_head))  # the docs land on main by hand
    world.local.git("fetch", "-q", str(world.store.path), "main")
    world.local.git("reset", "-q", "--hard", "FETCH_HEAD")
    world.local.write("notes.png", b"\x89PNG")
    world.local.commit("unrelated")
    # closing the pull request fails past the client's own retries: the job is tried again
    world.standin.faults.append(Fault("PATCH", f"/repos/{FULL}/pulls/", 502, times=4))
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.faults[0].times == 0
    assert world.standin.open_pulls(FULL) == []
    assert [c["number"] for c in world.standin.comments] == [pull["number"]], "the closing comment was posted twice"


# -- force-push rewriting history under an open PR ------------------------------------------------------
async def test_a_forced_push_of_docs_only_commits_does_not_leave_a_pull_request_on_dropped_history(world: World):
    """A force-push whose listed commits touch only docs/ was skipped on its paths: the open docs PR, built on
    a commit the push dropped, stayed open (merging it brings the dropped commit back), and the sweep, seeing
    main's docs in step, never queued the sync that closes it."""
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    world.merge_docs_pull()  # main's docs in step
    world.pushed = world.local.git("rev-parse", "HEAD").strip()
    kept = world.pushed
    world.local.write("pkg/util/helpers.py", "def helper(x):\n    return x * 3\n")
    dropped = world.local.commit("to be dropped")
    await world.push_and_deliver()
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    assert dropped in pull["body"]
    world.local.git("reset", "-q", "--hard", kept)  # history rewritten: `dropped` is gone
    world.local.write("docs/guide.md", "# A guide written by hand\n")
    world.local.commit("docs by hand")
    await world.push_and_deliver(force=True)
    await world.settle()
    open_now = world.standin.open_pulls(FULL)
    carries_dropped = [
        p
        for p in open_now
        if dropped in world.store.git("rev-list", str(world.store.resolve("refs/heads/" + p["head"]))).decode()
    ]
    assert carries_dropped == [], "an open docs pull request still brings back the commit the force-push dropped"


# -- a branch whose docs folder is a file ---------------------------------------------------------------
@pytest.mark.parametrize("kind", ["file", "link"])
async def test_a_docs_path_that_is_not_a_folder_is_refused_as_the_local_run_refuses_it(world: World, kind: str):
    """`repodoc generate` refuses a docs folder that is a file or a symlink; the App proposed a pull request
    that replaces the user's file (or link) with a folder of pages."""
    if kind == "file":
        world.local.write("docs", "our docs live in the wiki\n")
    else:
        world.local.write("handbook/index.md", "# Handbook\n")
        (world.local.path / "docs").symlink_to("handbook")
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.open_pulls(FULL) == [], "a pull request replaces the docs path with a folder"
    [run] = world.standin.check_runs
    said = "docs folder docs: docs is " + ("not a folder" if kind == "file" else "a symlink")
    assert run["conclusion"] == "failure" and run["output"]["summary"].startswith(said)


# -- item 5: a check run is a non-idempotent POST like a comment ----------------------------------------
async def test_a_check_run_whose_answer_is_lost_is_not_posted_twice(world: World):
    world.local.write(".github/repodoc.yml", "docs_dir: [not, a, folder]\n")  # a config error: a check run
    seed(world)
    world.standin.lost.append(Fault("POST", f"/repos/{FULL}/check-runs", 0))
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.lost[0].times == 0
    assert len(world.standin.check_runs) == 1


# -- item 5: "a comment is not posted twice" on a busy pull request -------------------------------------
async def test_a_lost_comment_is_found_past_the_first_page_of_comments(world: World):
    """GitHub lists an issue's comments oldest first: the check read only the first 100, so on a pull request
    with more comments the one just posted was never found and the comment was posted again."""
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    for n in range(120):
        world.standin.add_comment(FULL, pull["number"], f"review {n}", user="reviewer")
    docs_head = world.store.resolve("refs/heads/repodoc/main")
    world.store.set_ref("refs/heads/main", str(docs_head))  # nothing left to propose: closed with a comment
    world.local.git("fetch", "-q", str(world.store.path), "main")
    world.local.git("reset", "-q", "--hard", "FETCH_HEAD")
    world.local.write("notes.png", b"\x89PNG")
    world.local.commit("unrelated")
    world.standin.lost.append(Fault("POST", f"/repos/{FULL}/issues/", 0))
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.lost[0].times == 0 and world.standin.open_pulls(FULL) == []
    assert sum(1 for c in world.standin.comments if "already in step" in c["body"]) == 1


# -- item 8: caches bounded by bytes must not refuse what they cannot hold --------------------------------
async def test_a_file_larger_than_the_blob_cache_is_documented_not_fatal(world: World):
    """cachetools refuses (ValueError) a value larger than the whole cache: a file within max_file_bytes
    (up to 100 MB) but over the blob cache (64 MiB) failed every sync that read it, for good."""
    import cachetools

    from webhooks.app import RUNNER

    world.client.app[RUNNER].caches.blobs = cachetools.LRUCache(maxsize=200, getsizeof=len)  # 64 MiB, scaled
    world.local.write("pkg/big.py", "BIG = 1\n" + "# padding\n" * 40)  # 408 bytes: larger than the cache
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.check_runs == []
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


# -- an empty repository --------------------------------------------------------------------------------
async def test_installing_on_an_empty_repository_is_no_failure(world: World, caplog):
    """An installation reaching a repository with no commit yet: its default branch has no head (GitHub answers
    409 "Git Repository is empty.", the stand-in 404). The job failed for good and then failed to show it."""
    from tests.standin import spec
    from webhooks.app import QUEUE

    payload = spec.webhook_example("installation", lambda e: e["action"] == "created")
    payload["installation"]["id"] = INSTALLATION
    payload["repositories"] = [{**payload["repositories"][0], "name": "demo", "full_name": FULL}]
    assert (await world.deliver("installation", payload, delivery="empty")).status == 202
    await world.settle()
    [outcome] = [f for f in await world.client.app[QUEUE].recent() if f.delivery == "empty:" + FULL]
    assert outcome.action == "ignored", outcome
    assert world.standin.check_runs == [] and "could not be shown" not in caplog.text
