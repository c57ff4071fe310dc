"""The queues under load and failure: coalescing per key, keys in parallel, a bounded queue, SIGTERM and
SIGKILL; in-process and through a real Redis with real `repodoc worker` processes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.github.sync import Outcome
from bot.jobs import (
    Bootstrap,
    CheckPull,
    CloseDocs,
    Entry,
    Finished,
    InProcessQueue,
    QueueUnavailable,
    RunCommand,
    SyncBranch,
    coalesce,
)
from tests.appworld import FULL, World
from tests.conftest import APP_ID, app_keys
from tests.serving import Client, app_env, serve_process
from tests.standin.gitstore import ZEROS
from webhooks.settings import Settings, SettingsError

DEADLINE = 120.0  # seconds any wait in these tests may take before it fails


def seed(world: World) -> None:
    world.local.write("pkg/a.py", '"""A."""\nA = 1\n')
    world.local.write("README.md", "# Demo\n")
    world.local.commit("seed")


async def until(what: str, check: Any, seconds: float = DEADLINE) -> None:
    """Wait (keeping the event loop, and so the stand-in, running) until check() is true."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def exited(proc: subprocess.Popen[bytes], seconds: float = DEADLINE) -> int:
    """Wait for a process to exit without blocking the event loop; its exit code."""
    await until("the process did not exit", lambda: proc.poll() is not None, seconds)
    return int(proc.returncode)


# -- coalescing, pure ------------------------------------------------------------------------------------
def sync(delivery: str, after: str | None, **kw: Any) -> SyncBranch:
    return SyncBranch(delivery, 1, "Octo", "Demo", branch=kw.pop("branch", "main"), after=after, **kw)


def test_keys_name_the_repository_and_its_target():
    assert sync("d", "a", default_branch="main").key == "octo/demo"  # the default branch: the repository's key
    assert sync("d", "a", branch="").key == "octo/demo"
    assert sync("d", "a", branch="feature", default_branch="main").key == "octo/demo:feature"
    assert Bootstrap("d", 1, "Octo", "Demo").key == "octo/demo"  # it moves the default branch's docs
    assert CloseDocs("d", 1, "Octo", "Demo", branch="feature").key == "octo/demo:feature"
    assert CheckPull("d", 1, "Octo", "Demo", number=7).key == RunCommand("e", 1, "Octo", "Demo", number=7).key


def test_a_burst_of_syncs_coalesces_into_one_that_works_from_the_newest_state():
    entries: list[Entry] = []
    absorbed: list[Entry] = []
    for n in range(50):
        job = sync(f"d{n}", f"{n:040x}", before=f"{n - 1:040x}", paths=(f"f{n}.py",), full=n == 7)
        entries, gone = coalesce(entries, Entry.of(job, float(n)))
        absorbed += gone
    [entry] = entries
    job = entry.job
    assert isinstance(job, SyncBranch)
    assert (job.delivery, job.after, job.before, job.full) == ("d49", f"{49:040x}", f"{-1:040x}", True)
    assert job.paths == tuple(f"f{n}.py" for n in range(50))
    assert len(entry.deliveries) == 50 and [e.job.delivery for e in absorbed] == [f"d{n}" for n in range(49)]
    # a sync whose head is unknown (None: the head when it runs) is the newest state
    merged, _ = coalesce(entries, Entry.of(sync("x", None), 99.0))
    assert merged[0].job.after is None  # type: ignore[attr-defined]
    # a delivery already waiting is not added twice; an older one arriving late does not win
    assert coalesce(entries, Entry.of(sync("d3", "3" * 40), 3.0)) == (entries, [])
    late, _ = coalesce(entries, Entry.of(sync("retry", "f" * 40), 1.5))
    assert late[0].job.after == f"{49:040x}"  # type: ignore[attr-defined]


def test_commands_keep_their_order_and_a_bootstrap_absorbs_a_sync():
    check = CheckPull("c1", 1, "o", "r", number=3)
    command = RunCommand("k1", 1, "o", "r", number=3, comment_id=1, verbs=("full",))
    entries: list[Entry] = []
    for n, job in enumerate([check, command, CheckPull("c2", 1, "o", "r", number=3, full=True), command]):
        entries, _ = coalesce(entries, Entry.of(job, float(n)))
    assert [e.job.kind for e in entries] == ["pull", "command", "pull"]  # the same command once
    boot, _ = coalesce([Entry.of(Bootstrap("b", 1, "o", "r"), 0.0)], Entry.of(sync("s", "a" * 40, full=True), 1.0))
    assert isinstance(boot[0].job, Bootstrap) and boot[0].job.full and boot[0].job.delivery == "s"
    gone, absorbed = coalesce(
        [Entry.of(sync("s", "a" * 40, branch="x"), 0.0)], Entry.of(CloseDocs("c", 1, "o", "r", branch="x"), 1.0)
    )
    assert [e.job.kind for e in gone] == ["close"] and [e.job.delivery for e in absorbed] == ["s"]


async def test_the_in_process_queue_is_bounded_and_remembers():
    release = asyncio.Event()
    ran: list[str] = []

    async def run(job: Any) -> Outcome:
        await release.wait()
        ran.append(job.delivery)
        return Outcome("updated", "ok", pull=5)

    queue = InProcessQueue(run, concurrency=2, bound=3)
    server = asyncio.create_task(queue.serve())
    try:
        for n in range(5):  # two run, three wait (each on its own key)
            assert await queue.enqueue(sync(f"d{n}", "a" * 40, branch=f"b{n}"))
            if n == 1:
                await until("two jobs did not start", lambda: len(queue._running) == 2)
        with pytest.raises(QueueUnavailable):
            await queue.enqueue(sync("d9", "a" * 40, branch="b9"))
        assert await queue.enqueue(sync("d0", "a" * 40, branch="b0")) is False  # a duplicate delivery
        assert await queue.enqueue(sync("d10", "b" * 40, branch="b4"))  # coalesces: takes no room
        states = sorted(w.state for w in await queue.snapshot())
        assert states == ["pending", "pending", "pending", "running", "running"]
        release.set()
        await queue.join()
        recent = await queue.recent()
        assert {f.delivery for f in recent if f.action == "updated"} == {"d0", "d1", "d2", "d3", "d10"}
        [gone] = [f for f in recent if f.action == "coalesced"]
        assert gone.delivery == "d4" and gone.key == "octo/demo:b4"
        assert all(isinstance(f, Finished) and f.pull == 5 for f in recent if f.action == "updated")
        assert await queue.snapshot() == [] and len(await queue.recent(2)) == 2
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)


def test_queue_settings():
    base = {"GITHUB_APP_ID": APP_ID, "GITHUB_PRIVATE_KEY": app_keys()[0], "GITHUB_WEBHOOK_SECRET": "s"}
    settings = Settings.from_env(base)
    assert settings.concurrency >= 4 and settings.lease_seconds == 90 and settings.queue_bound == 10_000
    given = Settings.from_env(
        {
            **base,
            "REPODOC_CONCURRENCY": "3",
            "REPODOC_LEASE_SECONDS": "20",
            "REPODOC_QUEUE_BOUND": "50",
            "REPODOC_GRACE_SECONDS": "0",
        }
    )
    assert (given.concurrency, given.lease_seconds, given.queue_bound, given.grace_seconds) == (3, 20, 50, 0)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**base, "REPODOC_CONCURRENCY": "0", "REPODOC_LEASE_SECONDS": "a minute"})
    assert str(caught.value).splitlines() == [
        "REPODOC_CONCURRENCY must be a whole number, at least 1 (it is '0')",
        "REPODOC_LEASE_SECONDS must be a whole number, at least 2 (it is 'a minute')",
    ]


# -- bursts and parallel keys, in-process ------------------------------------------------------------------
def burst_of_pushes(world: World, count: int) -> list[tuple[str, dict[str, Any]]]:
    """`count` commits on main, each with the push payload GitHub would send for it alone (the stand-in has
    the objects; main is moved by `move`)."""
    heads = []
    before = world.pushed
    for n in range(count):
        world.local.write(f"pkg/m{n % 5}.py", f'"""Module, version {n}."""\nV = {n}\n')
        heads.append(world.local.commit(f"change {n}"))
    world.local.git("push", "-q", "--force", str(world.store.path), "HEAD:refs/heads/objects")
    world.store.git("update-ref", "-d", "refs/heads/objects")
    pushes = []
    for head in heads:
        pushes.append((head, world.push_payload(before, head)))
        before = head
    return pushes


async def send_burst(world: World, pushes: list[tuple[str, dict[str, Any]]]) -> None:
    for head, payload in pushes:
        world.store.set_ref("refs/heads/main", head)
        assert (await world.deliver("push", payload)).status == 202
    world.pushed = pushes[-1][0]


def syncs_run(recent: list[Finished]) -> list[Finished]:
    return [f for f in recent if f.kind == "sync" and f.action not in ("coalesced", "retrying", "deferred")]


async def test_a_burst_of_pushes_to_one_branch_runs_at_most_two_syncs_in_process(world: World):
    from webhooks.app import QUEUE

    seed(world)
    world.pushed = world.push()
    pushes = burst_of_pushes(world, 50)
    world.standin.latency = 0.2  # GitHub answers slowly: the first sync runs while the burst arrives
    await send_burst(world, pushes)
    await world.settle()
    recent = await world.client.app[QUEUE].recent(200)
    assert len(syncs_run(recent)) <= 2
    assert len([f for f in recent if f.action == "coalesced"]) >= 48
    [pull] = world.standin.open_pulls(FULL)
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)  # the newest head documented
    assert world.pushed in pull["body"]


def add_repositories(world: World, count: int) -> list[tuple[str, str]]:
    """`count` more repositories of the installation, each with one commit on main: (full name, head)."""
    made = []
    for n in range(count):
        name = f"octo-org/r{n}"
        store = world.standin.add_repo(name)
        [blob] = store.write_blobs([f'"""R{n}."""\nR = {n}\n'.encode()])
        head = store.commit(store.make_tree(None, [("pkg/r.py", "100644", blob)]), [], "seed")
        store.set_ref("refs/heads/main", head)
        made.append((name, head))
    return made


def push_to(world: World, full_name: str, head: str) -> dict[str, Any]:
    """A push payload creating main at head in another repository of the installation."""
    data = world.push_payload(ZEROS, world.pushed)
    owner, name = full_name.split("/")
    data.update(after=head, commits=[], head_commit=None)
    data["repository"].update(name=name, full_name=full_name)
    return data


async def test_keys_run_in_parallel_in_process(world: World):
    seed(world)
    world.pushed = world.push()
    repos = add_repositories(world, 9)
    world.standin.gate = asyncio.Event()  # GitHub holds every request until the test lets it go
    assert (await world.deliver("push", world.push_payload(ZEROS, world.pushed))).status == 202
    for name, head in repos:
        assert (await world.deliver("push", push_to(world, name, head))).status == 202
    await until("fewer than four repositories were worked on at once", lambda: len(world.standin.held) >= 4)
    world.standin.gate.set()
    await world.settle()
    for name, _ in [(FULL, world.pushed), *repos]:
        assert len(world.standin.open_pulls(name)) == 1, name


# -- Redis, with real worker processes -----------------------------------------------------------------
def worker_env(world: World, tmp_path: Path, **extra: str) -> dict[str, str]:
    return app_env(tmp_path, world.standin.url, secret=False, REDIS_URL=world.redis_url or "", **extra)


@asynccontextmanager
async def workers(
    world: World, tmp_path: Path, count: int, name: str = "worker", **extra: str
) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    """`count` `repodoc worker` processes (logs: tmp_path / f"{name}-{n}.log"); SIGTERMed at the end, each
    to exit 0 (or to have been killed by the test)."""
    procs = []
    for n in range(count):
        with (tmp_path / f"{name}-{n}.log").open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "worker"],
                    env=worker_env(world, tmp_path, **extra),
                    stdout=out,
                    stderr=out,
                )
            )
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = [await exited(proc) for proc in procs]
    assert all(code in (0, -signal.SIGKILL) for code in codes), codes


async def test_a_burst_of_pushes_to_one_branch_runs_at_most_two_syncs_across_two_workers(
    redis_world: World, tmp_path: Path
):
    from webhooks.app import QUEUE

    world = redis_world
    seed(world)
    world.pushed = world.push()
    pushes = burst_of_pushes(world, 50)
    world.standin.latency = 0.2
    async with workers(world, tmp_path, 2):
        await send_burst(world, pushes)
        await until("no pull request appeared", lambda: bool(world.standin.open_pulls(FULL)))
        queue = world.client.app[QUEUE]

        async def settled() -> bool:
            return (await queue.health())["pending"] == 0 and not await queue.snapshot()

        deadline = time.monotonic() + DEADLINE
        while not await settled():
            assert time.monotonic() < deadline, "the workers did not finish"
            await asyncio.sleep(0.1)
        recent = await queue.recent(200)
    assert len(syncs_run(recent)) <= 2, syncs_run(recent)
    assert len({f.delivery for f in recent if f.action == "coalesced"}) >= 48
    [pull] = world.standin.open_pulls(FULL)
    assert world.pushed in pull["body"]
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)  # the newest head documented


async def test_ten_repositories_run_in_parallel_across_two_workers(redis_world: World, tmp_path: Path):
    world = redis_world
    seed(world)
    world.pushed = world.push()
    repos = add_repositories(world, 9)
    world.standin.gate = asyncio.Event()
    async with workers(world, tmp_path, 2, REPODOC_CONCURRENCY="2"):
        assert (await world.deliver("push", world.push_payload(ZEROS, world.pushed))).status == 202
        for name, head in repos:
            assert (await world.deliver("push", push_to(world, name, head))).status == 202
        # two jobs a worker: four repositories at once means both workers work, each on two keys
        await until("four repositories were not worked on at once", lambda: len(world.standin.held) >= 4)
        world.standin.gate.set()
        everyone = [FULL, *(name for name, _ in repos)]
        await until(
            "not every repository got its pull request", lambda: all(world.standin.open_pulls(n) for n in everyone)
        )
    for name in everyone:
        assert len(world.standin.open_pulls(name)) == 1, name


async def lock_holder(world: World, key: str) -> int:
    """The pid of the worker holding a key (from the lock's value: arq job id, pid, nonce)."""
    from redis.asyncio import Redis

    async with Redis.from_url(world.redis_url or "") as redis:
        deadline = time.monotonic() + DEADLINE
        while (value := await redis.get(f"repodoc:lock:{key}")) is None:
            assert time.monotonic() < deadline, "no worker took the key"
            await asyncio.sleep(0.05)
    return int(value.split()[1])


async def test_a_worker_killed_mid_job_loses_nothing(redis_world: World, tmp_path: Path):
    world = redis_world
    seed(world)
    world.standin.gate = asyncio.Event()
    async with workers(world, tmp_path, 2, REPODOC_LEASE_SECONDS="2") as procs:
        assert (await world.push_and_deliver()).status == 202
        await until("the job did not start", lambda: bool(world.standin.held))
        pid = await lock_holder(world, "octo-org/demo")
        [killed] = [proc for proc in procs if proc.pid == pid]
        killed.send_signal(signal.SIGKILL)
        assert await exited(killed) == -signal.SIGKILL
        world.standin.gate.set()
        # after the lease the other worker takes the job over and finishes it
        await until("the other worker did not finish the job", lambda: bool(world.standin.open_pulls(FULL)))
        [other] = [proc for proc in procs if proc is not killed]
        assert other.poll() is None
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_sigterm_hands_a_running_job_back_to_redis(redis_world: World, tmp_path: Path):
    world = redis_world
    seed(world)
    world.standin.gate = asyncio.Event()
    async with workers(world, tmp_path, 1, REPODOC_GRACE_SECONDS="1") as [first]:
        assert (await world.push_and_deliver()).status == 202
        await until("the job did not start", lambda: bool(world.standin.held))
        first.send_signal(signal.SIGTERM)
        assert await exited(first) == 0  # the job did not finish within the grace period: handed back
    assert world.standin.open_pulls(FULL) == []
    assert "handed back" in (tmp_path / "worker-0.log").read_text()
    world.standin.gate.set()
    async with workers(world, tmp_path, 1, name="second"):
        await until("the job handed back did not run", lambda: bool(world.standin.open_pulls(FULL)))
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_sigterm_lets_a_running_job_finish_in_process(world: World, tmp_path: Path):
    seed(world)
    world.standin.gate = asyncio.Event()
    with serve_process(tmp_path, world.standin.url, REPODOC_GRACE_SECONDS="120", RECONCILE_INTERVAL="0") as (
        base,
        proc,
        log,
    ):
        async with aiohttp.ClientSession() as session:
            world.client = Client(session, base)
            assert (await world.push_and_deliver()).status == 202
            await until("the job did not start", lambda: bool(world.standin.held))
            proc.send_signal(signal.SIGTERM)
            await until("the server did not start shutting down", lambda: "shutting down" in log.read_text())
            answer = await world.deliver("push", world.push_payload(ZEROS, world.pushed))
            assert answer.status == 503  # no deliveries taken while it drains
            world.standin.gate.set()
            assert await exited(proc) == 0
    assert len(world.standin.open_pulls(FULL)) == 1  # the running job finished before the server exited
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
