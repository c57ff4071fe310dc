"""Distributed mode: `repodoc serve` with REDIS_URL queues in a real Redis; workers run the jobs."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time

from tests.appworld import FULL, World
from tests.conftest import APP_ID, app_keys
from tests.serving import app_env


def seed(world: World) -> None:
    world.local.write("pkg/a.py", '"""A."""\nA = 1\n')
    world.local.write("README.md", "# Demo\n")
    world.local.commit("seed")


async def test_push_through_redis_and_a_worker(redis_world: World):
    seed(redis_world)
    response = await redis_world.push_and_deliver()
    assert response.status == 202
    assert redis_world.standin.requests == []  # the server only queued
    await redis_world.settle()
    assert len(redis_world.standin.open_pulls(FULL)) == 1
    assert redis_world.docs_branch_tree() == redis_world.generated_tree(redis_world.pushed)


async def test_redelivery_is_a_duplicate_across_processes(redis_world: World):
    seed(redis_world)
    await redis_world.push_and_deliver(delivery="same-id")
    again = await redis_world.deliver("push", redis_world.push_payload("0" * 40, redis_world.pushed), "same-id")
    assert again.status == 200
    await redis_world.settle()
    assert len([r for r in redis_world.standin.requests if r.path.endswith("/git/commits")]) == 1


async def test_a_transient_failure_is_retried_by_arq(redis_world: World):
    from tests.standin.server import Fault

    seed(redis_world)
    # more 502s than the client's own retries: the job's first try fails, arq's next one succeeds
    redis_world.standin.faults.append(Fault("GET", "/repos/octo-org/demo/git/trees/", 502, times=6))
    await redis_world.push_and_deliver()
    await redis_world.settle()
    assert redis_world.standin.faults[0].times == 0
    assert len(redis_world.standin.open_pulls(FULL)) == 1
    assert redis_world.standin.check_runs == []
    assert redis_world.docs_branch_tree() == redis_world.generated_tree(redis_world.pushed)


async def test_a_job_failing_every_try_shows_a_check_run_and_releases_its_delivery(redis_world: World):
    from tests.standin.server import Fault

    seed(redis_world)
    redis_world.standin.faults.append(Fault("GET", "/repos/octo-org/demo/git/trees/", 500, times=1000))
    await redis_world.push_and_deliver(delivery="flaky")
    await redis_world.settle()
    assert redis_world.standin.open_pulls(FULL) == []
    [run] = redis_world.standin.check_runs
    assert (run["name"], run["conclusion"], run["head_sha"]) == ("repodoc", "failure", redis_world.pushed)
    assert "500" in run["output"]["summary"] and "Tried 5 time(s)" in run["output"]["summary"]
    redis_world.standin.faults.clear()
    again = await redis_world.deliver("push", redis_world.push_payload("0" * 40, redis_world.pushed), "flaky")
    assert again.status == 202
    await redis_world.settle()
    assert len(redis_world.standin.open_pulls(FULL)) == 1


async def test_a_permanent_failure_is_not_retried_by_arq(redis_world: World):
    from tests.standin.server import Fault

    seed(redis_world)
    redis_world.standin.faults.append(Fault("GET", "/repos/octo-org/demo/git/trees/", 404, times=1))
    await redis_world.push_and_deliver()
    await redis_world.settle()
    assert len([r for r in redis_world.standin.requests if r.path.startswith("/repos/octo-org/demo/git/trees/")]) == 1
    [run] = redis_world.standin.check_runs
    assert run["conclusion"] == "failure" and "Tried 1 time(s)" in run["output"]["summary"]
    assert redis_world.standin.open_pulls(FULL) == []


async def test_a_deferred_job_is_queued_again_for_later_in_redis(redis_world: World, caplog):
    from tests.standin.server import Fault

    caplog.set_level(logging.INFO, "repodoc.worker")
    seed(redis_world)
    reset = int(time.time()) + 3  # far enough ahead to still be ahead when the request is answered
    spent = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    redis_world.standin.faults.append(Fault("GET", "/repos/octo-org/demo/git/trees/", 403, times=1, headers=spent))
    await redis_world.push_and_deliver(delivery="spent")
    await redis_world.settle()  # the burst worker waits for the deferred job, then runs it
    assert "job spent for octo-org/demo deferred" in caplog.text
    assert redis_world.standin.check_runs == []
    assert len(redis_world.standin.open_pulls(FULL)) == 1
    assert redis_world.docs_branch_tree() == redis_world.generated_tree(redis_world.pushed)


async def test_healthz_reports_the_redis_queue(redis_world: World):
    response = await redis_world.client.get("/healthz")
    assert response.status == 200 and (await response.json())["queue"] == "redis"


async def test_repodoc_worker_process(redis_world: World, tmp_path):
    seed(redis_world)
    await redis_world.push_and_deliver()
    env = app_env(tmp_path, redis_world.standin.url, secret=False, REDIS_URL=redis_world.redis_url or "")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not redis_world.standin.open_pulls(FULL):
            assert time.monotonic() < deadline, "the worker made no pull request"
            await asyncio.sleep(0.1)
        from redis.asyncio import Redis

        async with Redis.from_url(redis_world.redis_url or "") as redis:  # the job has finished (SIGTERM mid-job
            while await redis.keys("arq:in-progress:*"):  # is the operations issue's shutdown work)
                assert time.monotonic() < deadline, "the job did not finish"
                await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        code = proc.wait(timeout=20)
    assert code == 0  # a clean shutdown on SIGTERM
    assert redis_world.docs_branch_tree() == redis_world.generated_tree(redis_world.pushed)


def test_worker_needs_redis_url():
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "GITHUB_APP_ID": APP_ID, "GITHUB_PRIVATE_KEY": app_keys()[0]},
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "repodoc worker: REDIS_URL is not set: a worker takes its jobs from Redis"
    ]


async def test_pull_requests_and_commands_run_through_redis(redis_world: World):
    """Every kind of job crosses Redis as primitives and runs in a worker: a pull request's check and
    companion, then a command on it."""
    seed(redis_world)
    await redis_world.push_and_deliver()
    await redis_world.settle()
    redis_world.merge_docs_pull()
    redis_world.push_feature("feature", {"pkg/b.py": '"""B."""\nB = 2\n'})
    pull = redis_world.standin.open_user_pull(FULL, "feature", "main")
    assert (await redis_world.deliver("pull_request", redis_world.pull_payload(pull["number"], "opened"))).status == 202
    await redis_world.settle()
    [companion] = [p for p in redis_world.standin.open_pulls(FULL) if p["head"] == f"repodoc/pr-{pull['number']}"]
    assert companion["base"] == "feature"
    comment = redis_world.standin.add_comment(FULL, pull["number"], "/docs status")
    await redis_world.deliver("issue_comment", redis_world.comment_payload(comment, pull["number"]))
    await redis_world.settle()
    assert [r["content"] for r in redis_world.standin.reactions if r["comment_id"] == comment["id"]] == [
        "eyes",
        "rocket",
    ]


async def test_removal_drops_the_repositorys_queued_jobs_in_redis(redis_world: World):
    from tests.standin import spec

    seed(redis_world)
    redis_world.push()
    await redis_world.push_and_deliver()  # queued, not run: no worker yet
    removed = spec.webhook_example("installation_repositories", lambda e: e["action"] == "removed")
    removed["installation"]["id"] = 4242
    removed["repositories_removed"] = [{**removed["repositories_removed"][0], "name": "demo", "full_name": FULL}]
    assert (await redis_world.deliver("installation_repositories", removed)).status == 202
    await redis_world.settle()
    assert redis_world.standin.requests == []  # the worker dropped the sync queued before the removal
