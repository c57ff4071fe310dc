"""No job lost, in-process: transient failures retried, deferrals run later, failures shown as check runs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.jobs import Retries
from tests.appworld import FULL, SECRET, World
from tests.conftest import APP_ID, app_keys
from tests.standin.server import Fault

TREES = "/repos/octo-org/demo/git/trees/"


def seed(world: World) -> None:
    world.local.write("pkg/a.py", '"""A."""\nA = 1\n')
    world.local.write("README.md", "# Demo\n")
    world.local.commit("seed")


class Clock:
    """The queue's time: sleeps are recorded, return at once and move this clock on."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.ahead = 0.0

    def now(self) -> float:
        return time.time() + self.ahead

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.ahead += seconds
        await asyncio.sleep(0)


async def world_with(tmp_path: Path, standin, aiohttp_client, retries: Retries) -> World:
    from webhooks.app import create_app
    from webhooks.settings import Settings

    settings = Settings(APP_ID, app_keys()[0], SECRET, api_url=standin.url)
    client = await aiohttp_client(create_app(settings, backoff=0, retries=retries))
    return World(tmp_path, standin, client)


async def test_a_transient_failure_is_retried_and_succeeds(world: World):
    seed(world)
    # 6 answers 502: more than the client's own 4 attempts, so the job's first try fails
    world.standin.faults.append(Fault("GET", TREES, 502, times=6))
    assert (await world.push_and_deliver()).status == 202
    await world.settle()
    assert world.standin.faults[0].times == 0
    assert len(world.standin.open_pulls(FULL)) == 1
    assert world.standin.check_runs == []
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_retries_back_off(tmp_path: Path, standin, aiohttp_client):
    clock = Clock()
    world = await world_with(tmp_path, standin, aiohttp_client, Retries(delay=30, sleep=clock.sleep))
    seed(world)
    world.standin.faults.append(Fault("GET", TREES, 502, times=10))  # two failed tries, the third succeeds
    await world.push_and_deliver()
    await world.settle()
    assert len(world.standin.open_pulls(FULL)) == 1
    assert len(clock.slept) == 2 and 30 <= clock.slept[0] <= 33 and 60 <= clock.slept[1] <= 66


async def test_a_permanent_failure_shows_a_failed_check_run_at_once(world: World):
    seed(world)
    world.standin.faults.append(Fault("GET", TREES, 404, times=1))  # a 4xx: trying again would not help
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.open_pulls(FULL) == []
    assert len([r for r in world.standin.requests if r.path.startswith(TREES)]) == 1
    [run] = world.standin.check_runs
    assert (run["name"], run["status"], run["conclusion"]) == ("repodoc", "completed", "failure")
    assert run["head_sha"] == world.pushed and run["repo"] == FULL
    assert "GitHub answered 404" in run["output"]["summary"] and "Tried 1 time(s)" in run["output"]["summary"]


async def test_a_job_failing_every_try_shows_a_failed_check_run(world: World):
    seed(world)
    world.standin.faults.append(Fault("GET", TREES, 500, times=1000))
    await world.push_and_deliver()
    await world.settle()
    assert world.standin.open_pulls(FULL) == []
    assert len([r for r in world.standin.requests if r.path.startswith(TREES)]) == 5 * 4  # 5 tries of 4 attempts
    [run] = world.standin.check_runs
    assert run["conclusion"] == "failure" and "Tried 5 time(s)" in run["output"]["summary"]
    assert "500" in run["output"]["summary"]


async def test_a_deferred_job_runs_again_at_the_time_github_named(tmp_path: Path, standin, aiohttp_client):
    from webhooks.app import RUNNER

    clock = Clock()
    world = await world_with(tmp_path, standin, aiohttp_client, Retries(delay=30, clock=clock.now, sleep=clock.sleep))
    world.client.app[RUNNER].limits.clock = clock.now  # the client sees the same time pass as the queue
    seed(world)
    reset = int(time.time()) + 3600
    spent = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    world.standin.faults.append(Fault("GET", TREES, 403, times=1, headers=spent))  # the primary budget is spent
    await world.push_and_deliver()
    await world.settle()
    [waited] = clock.slept
    assert 3500 < waited <= 3600  # until the reset, not a backoff
    assert len(world.standin.open_pulls(FULL)) == 1
    assert world.standin.check_runs == []  # a deferral is not a failure
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_health_counts_jobs_waiting_for_a_retry(tmp_path: Path, standin, aiohttp_client):
    gate = asyncio.Event()

    async def held(seconds: float) -> None:
        await gate.wait()

    world = await world_with(tmp_path, standin, aiohttp_client, Retries(sleep=held))
    seed(world)
    world.standin.faults.append(Fault("GET", TREES, 502, times=4))
    await world.push_and_deliver()
    for _ in range(200):
        health = await (await world.client.get("/healthz")).json()
        if health["waiting"] == 1:
            break
        await asyncio.sleep(0.02)
    assert health == {"status": "ok", "queue": "in-process", "pending": 0, "running": 0, "waiting": 1}
    gate.set()
    await world.settle()
    assert len(world.standin.open_pulls(FULL)) == 1


async def test_a_failed_installation_job_is_shown_on_the_default_branch_head(world: World):
    from tests.appworld import INSTALLATION
    from tests.standin import spec

    seed(world)
    head = world.push()
    payload = spec.webhook_example("installation", lambda e: e["action"] == "created")
    payload["installation"]["id"] = INSTALLATION
    payload["repositories"] = [{**payload["repositories"][0], "name": "demo", "full_name": FULL}]
    world.standin.faults.append(Fault("GET", TREES, 422, times=1))
    assert (await world.deliver("installation", payload)).status == 202
    await world.settle()
    [run] = world.standin.check_runs  # the job named no commit: the head of the default branch it synced
    assert run["head_sha"] == head and run["conclusion"] == "failure"
