"""The sweep: at start-up and every RECONCILE_INTERVAL, a sync queued for every documented branch whose
docs are stale, found from listings alone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import aiohttp
import pytest

from bot.sweep import Swept, sweep
from tests.appworld import FULL, OWNER, SECRET, World
from tests.conftest import APP_ID, app_keys
from tests.serving import Client, free_port, healthy
from tests.standin.server import Fault
from webhooks.app import QUEUE, RUNNER
from webhooks.settings import RECONCILE_INTERVAL, Settings, SettingsError


def seed(world: World) -> None:
    world.local.write("pkg/a.py", '"""A."""\nA = 1\n')
    world.local.write("README.md", "# Demo\n")
    world.local.commit("seed")


async def sweep_now(world: World, **kwargs) -> Swept:
    return await sweep(world.client.app[RUNNER], world.client.app[QUEUE], pace=0, **kwargs)


def writes_since(world: World, mark: int) -> list[str]:
    """Requests after mark that are not reads (an installation token is not a write to a repository)."""
    return [
        f"{r.method} {r.path}"
        for r in world.standin.requests[mark:]
        if r.method != "GET" and not r.path.startswith("/app/installations/")
    ]


async def test_a_push_never_delivered_is_caught_up(world: World):
    seed(world)
    head = world.push()  # GitHub's delivery lost (or the server was down)
    found = await sweep_now(world)
    assert found.queued == [f"{FULL}:main"] and found.repositories == 1 and found.errors == []
    await world.settle()
    assert len(world.standin.open_pulls(FULL)) == 1
    assert world.docs_branch_tree() == world.generated_tree(head)


async def test_a_sweep_over_current_docs_writes_nothing(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    mark = len(world.standin.requests)
    found = await sweep_now(world)  # the open docs pull request matches the head
    assert (found.queued, found.current) == ([], 1)
    world.merge_docs_pull()
    found = await sweep_now(world)  # the docs on main match
    assert (found.queued, found.current) == ([], 1)
    await world.settle()
    assert writes_since(world, mark) == []
    assert not any("/git/blobs/" in r.path for r in world.standin.requests[mark:])  # nothing rendered


async def test_an_open_pull_request_made_for_an_older_commit_may_still_match(world: World):
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    world.local.write("node_modules/dep/index.js", "module.exports = 1;\n")  # never documented
    world.local.commit("a file the docs do not depend on")
    world.push()
    mark = len(world.standin.requests)
    found = await sweep_now(world)  # the PR's marker names the older commit, but its docs are right
    assert (found.queued, found.current) == ([], 1)
    assert writes_since(world, mark) == []
    world.local.write(".github/repodoc.yml", "footer: '*made here*'\n")
    world.local.commit("a config that changes every page")
    world.push()
    assert (await sweep_now(world)).queued == [f"{FULL}:main"]
    await world.settle()
    assert world.docs_branch_tree() == world.generated_tree(world.store.resolve("refs/heads/main") or "")


async def test_installations_and_repositories_are_paged(world: World):
    world.standin.page_size = 1
    seed(world)
    world.push()
    world.standin.add_repo(f"{OWNER}/empty")  # no commit yet: nothing to document
    other = world.standin.add_repo(f"{OWNER}/other")
    world.local.git("push", "-q", str(other.path), "HEAD:refs/heads/main")
    found = await sweep_now(world)
    assert found.repositories == 3 and found.errors == []
    assert sorted(found.queued) == [f"{FULL}:main", f"{OWNER}/other:main"]
    assert any("page=2" in r.path for r in world.standin.requests if r.path.startswith("/installation/"))
    await world.settle()
    assert len(world.standin.open_pulls(f"{OWNER}/other")) == 1


async def test_syncs_are_queued_paced(world: World):
    seed(world)
    for name in ("two", "three"):
        store = world.standin.add_repo(f"{OWNER}/{name}")
        world.local.git("push", "-q", str(store.path), "HEAD:refs/heads/main")
    world.push()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    found = await sweep(world.client.app[RUNNER], world.client.app[QUEUE], pace=7.5, sleep=sleep)
    assert len(found.queued) == 3 and slept == [7.5, 7.5, 7.5]
    await world.settle()


async def test_configured_branches_are_swept_and_others_are_not(world: World):
    world.local.write(".github/repodoc.yml", "branches: [dev]\n")
    seed(world)
    world.push()
    world.local.git("push", "-q", str(world.store.path), "HEAD:refs/heads/dev")
    world.local.git("push", "-q", str(world.store.path), "HEAD:refs/heads/other")
    found = await sweep_now(world)
    assert sorted(found.queued) == [f"{FULL}:dev", f"{FULL}:main"] and found.branches == 2
    await world.settle()
    assert sorted(p["head"] for p in world.standin.open_pulls(FULL)) == ["repodoc/dev", "repodoc/main"]


async def test_a_generator_upgrade_reaches_the_repository_through_the_sweep(world: World, monkeypatch):
    import bot.engine.tree

    seed(world)
    await world.push_and_deliver()
    await world.settle()
    world.merge_docs_pull()
    old = bot.engine.tree.__version__
    monkeypatch.setattr(bot.engine.tree, "__version__", "99.0.0")
    found = await sweep_now(world)
    assert found.queued == [f"{FULL}:main"]
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    assert f"repodoc {old}" in pull["body"] and "repodoc 99.0.0" in pull["body"]
    head = world.store.resolve("refs/heads/main")
    assert head is not None
    assert world.docs_branch_tree() == world.generated_tree(head)


async def test_a_sweep_survives_a_failing_repository(world: World):
    seed(world)
    world.push()
    world.standin.faults.append(Fault("GET", "/repos/octo-org/demo/git/ref/", 404, times=1))
    found = await sweep_now(world)  # the branch vanished between the listing and the read: nothing to do
    assert found.queued == [] and found.errors == []
    world.standin.faults.append(Fault("GET", "/repos/octo-org/demo/git/trees/", 400, times=1))
    found = await sweep_now(world)
    assert found.queued == [] and len(found.errors) == 1 and "400" in found.errors[0]
    assert (await sweep_now(world)).queued == [f"{FULL}:main"]
    await world.settle()


async def test_the_sweep_runs_once_for_many_servers_in_redis_mode(redis_world: World, aiohttp_client):
    from webhooks.app import create_app

    seed(redis_world)
    redis_world.push()
    settings = Settings(
        APP_ID,
        app_keys()[0],
        SECRET,
        api_url=redis_world.standin.url,
        redis_url=redis_world.redis_url,
        reconcile_interval=3600,
    )
    servers = [await aiohttp_client(create_app(settings, backoff=0)) for _ in range(2)]
    pool = servers[0].app[QUEUE].pool  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while len(await pool.queued_jobs()) < 1:
        assert time.monotonic() < deadline, "no sweep queued a sync"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    listed = [r for r in redis_world.standin.requests if r.path.startswith("/app/installations?")]
    assert len(listed) == 1 and len(await pool.queued_jobs()) == 1
    await redis_world.settle()
    assert len(redis_world.standin.open_pulls(FULL)) == 1
    assert redis_world.docs_branch_tree() == redis_world.generated_tree(redis_world.store.resolve("refs/heads/main"))


def test_reconcile_interval_setting():
    base = {"GITHUB_APP_ID": APP_ID, "GITHUB_PRIVATE_KEY": app_keys()[0], "GITHUB_WEBHOOK_SECRET": "s"}
    assert Settings.from_env(base).reconcile_interval == RECONCILE_INTERVAL == 21600
    assert Settings.from_env({**base, "RECONCILE_INTERVAL": "0"}).reconcile_interval == 0
    assert Settings.from_env({**base, "RECONCILE_INTERVAL": " 600 "}).reconcile_interval == 600
    for bad in ("-1", "six hours", "1.5"):
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({**base, "RECONCILE_INTERVAL": bad})
        assert str(caught.value) == "RECONCILE_INTERVAL must be a whole number of seconds (0 turns sweeps off)"


def _serve(world: World, key: str, port: int, **extra: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GITHUB_APP_ID": APP_ID,
        "GITHUB_PRIVATE_KEY_FILE": key,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": world.standin.url,
        "PORT": str(port),
        "REPODOC_GRACE_SECONDS": "1",  # the stand-in shares the event loop that proc.wait blocks
        **extra,
    }
    for name in ("GITHUB_PRIVATE_KEY", "RECONCILE_INTERVAL", "REDIS_URL"):
        if name not in extra:
            env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_a_restart_with_work_outstanding_is_caught_up_by_the_start_up_sweep(world: World, tmp_path):
    key = tmp_path / "app.pem"
    key.write_text(app_keys()[0])
    seed(world)
    # GitHub fails the installation token for now: the job waits for a retry when the server stops
    world.standin.faults.append(Fault("POST", "/app/installations/", 502, times=10_000))
    port = free_port()
    first = _serve(world, str(key), port, RECONCILE_INTERVAL="0")
    try:
        async with aiohttp.ClientSession() as session:
            base = f"http://127.0.0.1:{port}"
            await healthy(session, base)
            world.client = Client(session, base)
            assert (await world.push_and_deliver()).status == 202
            deadline = time.monotonic() + 30
            while not any(r.path.startswith("/app/installations/") for r in world.standin.requests):
                assert time.monotonic() < deadline, "the job never started"
                await asyncio.sleep(0.05)
    finally:
        first.terminate()
        assert first.wait(timeout=20) == 0
    assert world.standin.open_pulls(FULL) == []
    world.standin.faults.clear()
    port = free_port()
    second = _serve(world, str(key), port)  # RECONCILE_INTERVAL unset: a sweep at start-up
    try:
        deadline = time.monotonic() + 60
        while not world.standin.open_pulls(FULL):
            assert time.monotonic() < deadline, "the start-up sweep made no pull request"
            assert second.poll() is None, "repodoc serve exited"
            await asyncio.sleep(0.1)
    finally:
        second.terminate()
        second.wait(timeout=20)
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
