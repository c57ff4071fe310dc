"""GitHub's rate limits, paced writes and the ETag cache, through real HTTP against the stand-in.

Time is a fake clock shared by the App's client (whose sleeps advance it) and the stand-in (whose budgets
and secondary limit are measured with it): waits are asserted as computed, never timed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.github.auth import AppCredentials
from bot.github.caches import EtagCache
from bot.github.client import Deferred, GitHubClient
from bot.github.limits import Limits
from bot.github.pacing import MemoryPacer, Pacer, RedisPacer, Window, endpoint
from bot.jobs import Job, Runner, SyncBranch
from tests.appworld import FULL, INSTALLATION, NAME, OWNER, World
from tests.conftest import APP_ID, app_keys
from tests.standin.ratelimits import SecondaryLimit
from tests.standin.server import Fault

START = 1_900_000_000.0
SMALL = (Window(3, 60.0), Window(5, 600.0), Window(2, 10.0, per_endpoint=True))


class FakeClock:
    """Seconds since the epoch that move only when someone sleeps; every wait is recorded."""

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as made:
        yield made


def runner(world: World, session: aiohttp.ClientSession, clock: FakeClock, backoff: float = 0, **kw: object) -> Runner:
    """A runner on the stand-in whose limits run on the fake clock, shared with the stand-in."""
    world.standin.limits.clock = clock
    pacer = kw.pop("pacer", None) or MemoryPacer(clock)
    limits = Limits(pacer, clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]
    return Runner(session, AppCredentials(APP_ID, app_keys()[0]), world.standin.url, backoff, limits)


def job(world: World, delivery: str = "d") -> Job:
    """A job for the local head, pushed to the stand-in (as `world.pushed`)."""
    world.pushed = world.push()
    return SyncBranch(delivery, INSTALLATION, OWNER, NAME, branch="main", after=world.pushed, default_branch="main")


def seeded(world: World) -> World:
    world.local.write("a/x.py", "x = 1\n")
    world.local.write("a/y.py", "import a.x\n")
    world.local.write("b/z.md", "# z\n")
    world.local.commit("start")
    return world


def sent(world: World, method: str, tail: str, status: int | None = None) -> int:
    return sum(
        1
        for r in world.standin.requests
        if r.method == method and r.path.split("?")[0].endswith(tail) and status in (None, r.status)
    )


def keeps(times: list[float], windows: tuple[Window, ...]) -> bool:
    """Whether no window of any of `windows` holds more sends than its limit (one endpoint only)."""
    return all(sum(1 for u in times if t - w.period < u <= t) <= w.limit for w in windows for t in times)


# -- the primary budget ---------------------------------------------------------------------------------
async def test_a_budget_spent_mid_job_defers_it_until_the_reset_then_it_finishes(world: World, session):
    clock = FakeClock()
    app = runner(seeded(world), session, clock)
    reset = clock.now + 1800
    world.standin.limits.set_budget(INSTALLATION, limit=20, used=14, reset=reset)  # 6 requests left this hour
    with pytest.raises(Deferred) as caught:
        await app.run(job(world))
    assert caught.value.until == reset
    asked = len(world.standin.requests)
    with pytest.raises(Deferred) as again:  # another job of the installation: deferred before any request
        await app.run(job(world, "d2"))
    assert again.value.until == reset and len(world.standin.requests) == asked
    clock.now = reset + 1  # the queue runs it again after the reset
    outcome = await app.run(job(world, "d3"))
    assert outcome.action == "opened" and clock.waits == []
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_a_403_with_no_budget_left_defers_to_its_reset(world: World, session):
    clock = FakeClock()
    app = runner(seeded(world), session, clock)
    world.standin.limits.set_budget(INSTALLATION, limit=10, used=10, reset=clock.now + 99)
    with pytest.raises(Deferred) as caught:
        await app.run(job(world))
    assert caught.value.until == clock.now + 99 and world.standin.limits.refused == 1
    assert "API rate limit exceeded for installation ID 4242" in caught.value.reason
    assert app.limits.budget(str(INSTALLATION)).remaining == 0


# -- secondary limits -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("retry_after", "period", "waits"),
    [(7, 5.0, [7.0]), (None, 100.0, [60.0, 120.0])],  # retry-after as given; else a minute, then doubled
)
async def test_secondary_limits_are_waited_out_and_retried(world: World, session, retry_after, period, waits):
    clock = FakeClock()
    app = runner(seeded(world), session, clock, backoff=1, max_sleep=1000)
    world.standin.limits.secondary = SecondaryLimit(writes=1, period=period, retry_after=retry_after)
    outcome = await app.run(job(world))
    assert outcome.action == "opened"
    writes = len(world.standin.limits.writes)  # trees, commit, ref update (422), ref creation, pull request
    assert writes == 5 and world.standin.limits.refused == (writes - 1) * len(waits)
    assert clock.waits == waits * (writes - 1)
    assert sent(world, "POST", "/pulls") == 1 + len(waits)  # a refused request had no effect: sent again
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


@pytest.mark.parametrize("retry_after", [600, None])
async def test_a_secondary_wait_past_the_threshold_defers_the_job(world: World, session, retry_after):
    clock = FakeClock()
    app = runner(seeded(world), session, clock, backoff=1)  # max_sleep: 60 s
    world.standin.limits.secondary = SecondaryLimit(writes=1, period=1000, retry_after=retry_after)
    with pytest.raises(Deferred) as caught:
        await app.run(job(world))
    assert caught.value.until == clock.now + (600 if retry_after else 120)
    assert clock.waits == ([] if retry_after else [60.0])


# -- 5xx: only what is harmless to send twice is sent twice ---------------------------------------------------
async def test_a_502_on_creating_a_pull_request_is_not_resent_blindly(world: World, session):
    app = runner(seeded(world), session, FakeClock())
    world.standin.faults.append(Fault("POST", f"/repos/{FULL}/pulls", 502))
    assert (await app.run(job(world))).action == "opened"
    calls = [(r.method, r.status) for r in world.standin.requests if r.path.split("?")[0] == f"/repos/{FULL}/pulls"]
    first = calls.index(("POST", 502))
    # the client does not resend it; the sync looks for the pull request first, then creates it once
    assert ("GET", 200) in calls[first + 1 :] and calls[-1] == ("POST", 201)
    assert sent(world, "POST", "/pulls") == 2 and len(world.standin.open_pulls(FULL)) == 1


async def test_a_502_on_posting_a_tree_is_resent(world: World, session):
    clock = FakeClock()
    app = runner(seeded(world), session, clock)
    world.standin.faults.append(Fault("POST", f"/repos/{FULL}/git/trees", 502, times=2))
    assert (await app.run(job(world))).action == "opened"
    assert sent(world, "POST", "/git/trees", 502) == 2 and sent(world, "POST", "/git/trees", 201) == 1
    assert clock.waits == [0.0, 0.0]  # jittered backoff, scaled to 0 in tests


# -- the pacer ----------------------------------------------------------------------------------------------
async def _check_runs(gh: GitHubClient, count: int) -> None:
    for n in range(count):
        data = {"name": f"pace {n}", "head_sha": "a" * 40, "status": "completed", "conclusion": "success"}
        await gh.post("/repos/{owner}/{repo}/check-runs", {"owner": OWNER, "repo": NAME}, data=data)


async def _clients(app: Runner) -> GitHubClient:
    return app.client(await app.tokens.token(app.client(), INSTALLATION), INSTALLATION)


async def test_two_jobs_of_an_installation_share_one_pacer(world: World, session):
    clock = FakeClock()
    app = runner(world, session, clock, pacer=MemoryPacer(clock, SMALL), max_sleep=1000)
    first, second = await _clients(app), await _clients(app)  # two jobs' clients
    for _ in range(6):  # taking turns
        await _check_runs(first, 1)
        await _check_runs(second, 1)
    times = world.standin.limits.writes
    assert len(times) == 12 and keeps(times, SMALL)
    assert times[-1] - times[0] >= 1200  # at most 5 in any 10 minutes: 12 writes span two windows more
    assert world.standin.limits.refused == 0


async def test_a_pacer_wait_past_the_threshold_defers(world: World, session):
    clock = FakeClock()
    app = runner(world, session, clock, pacer=MemoryPacer(clock, (Window(2, 3600.0),)))
    gh = await _clients(app)
    await _check_runs(gh, 2)
    with pytest.raises(Deferred) as caught:
        await _check_runs(gh, 1)
    assert caught.value.until == START + 3600 and len(world.standin.limits.writes) == 2
    await gh.getitem("/repos/{owner}/{repo}", {"owner": OWNER, "repo": NAME})  # reads are not paced


async def test_the_redis_pacer_shares_the_windows_across_runners(world: World, session, redis_url):
    from redis.asyncio import Redis

    clock = FakeClock()
    redis = Redis.from_url(redis_url)
    try:
        one = runner(world, session, clock, pacer=RedisPacer(redis, clock, SMALL), max_sleep=1000)
        two = runner(world, session, clock, pacer=RedisPacer(redis, clock, SMALL), max_sleep=1000)
        first, second = await _clients(one), await _clients(two)
        for _ in range(5):
            await _check_runs(first, 1)
            await _check_runs(second, 1)
    finally:
        await redis.aclose()
    times = world.standin.limits.writes
    assert len(times) == 10 and keeps(times, SMALL) and sum(clock.waits) > 0


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_concurrent_bookings_keep_every_window(kind, redis_url):
    from redis.asyncio import Redis

    clock = FakeClock()
    redis = Redis.from_url(redis_url)
    pacer: Pacer = MemoryPacer(clock, SMALL) if kind == "memory" else RedisPacer(redis, clock, SMALL)
    try:
        waits = await asyncio.gather(*(pacer.book("7", "POST /x", 10_000) for _ in range(12)))
        assert keeps([clock.now + w for w in waits], SMALL)
        assert sorted(waits) == [0, 0, 10, 60, 60, 600, 600, 610, 660, 660, 1200, 1200]
        assert await pacer.book("7", "POST /x", 30) > 30  # too far: nothing booked
        assert await pacer.book("8", "POST /x", 0) == 0  # another installation has its own windows
    finally:
        await redis.aclose()


def test_endpoints_generalise_ids_and_refs():
    assert endpoint("PATCH", "http://h/repos/o/r/pulls/12?x=1") == "PATCH /repos/o/r/pulls/{n}"
    assert endpoint("PATCH", "http://h/repos/o/r/git/refs/heads/repodoc/main") == "PATCH /repos/o/r/git/refs/{ref}"
    assert endpoint("POST", "/repos/o/r/git/trees") == "POST /repos/o/r/git/trees"


# -- the ETag cache -----------------------------------------------------------------------------------------
async def test_the_etag_cache_keeps_only_the_pull_request_lookup_and_refs(world: World, session):
    app = runner(seeded(world), session, FakeClock())
    world.pushed = world.push()
    for delivery in ("d1", "d2", "d3"):  # the third finds the docs PR as the second left it
        await app.run(SyncBranch(delivery, INSTALLATION, OWNER, NAME, branch="main", default_branch="main"))
    kept = sorted(url.split("/repos/octo-org/demo")[1] for url in app.caches.etags)
    assert kept == [  # refs and pull request lookups: the docs PR, one closed by a person, the App's own PRs
        "/git/ref/heads/main",
        "/pulls?state=all&head=octo-org%3Arepodoc%2Fmain&per_page=1",
        "/pulls?state=open&base=main&per_page=100",
        "/pulls?state=open&per_page=100",
    ], kept
    assert sent(world, "GET", "/git/trees/" + world.pushed) == 3  # a tree read is never conditional
    lookups = [r for r in world.standin.requests if "/pulls?state=open&base=" in r.path and r.status == 304]
    assert len(lookups) == 1  # the third lookup: the PR is as the second left it
    assert sent(world, "GET", "/git/ref/heads/main", 200) == 1  # every read of main but the first is a 304
    assert sent(world, "GET", "/git/ref/heads/main", 304) >= 2
    counted = [r for r in world.standin.requests if "/access_tokens" not in r.path and r.status != 304]
    assert world.standin.limits.budget(str(INSTALLATION)).used == len(counted)  # 304 answers are free


def test_the_etag_cache_refuses_trees_and_blobs():
    cache = EtagCache()
    for url in ("https://api.github.com/repos/o/r/git/trees/abc?recursive=1", "http://h/repos/o/r/git/blobs/abc"):
        cache[url] = ("etag", None, {"tree": []}, None)
        assert url not in cache and len(cache) == 0
    cache["http://h/api/v3/repos/o/r/pulls?state=open"] = ("etag", None, [], None)
    assert len(cache) == 1


# -- the stand-in -------------------------------------------------------------------------------------------
async def test_every_answer_carries_the_rate_limit_headers_and_unknown_routes_are_errors(world: World, session):
    async with session.get(f"{world.standin.url}/repos/{FULL}/labels") as answer:
        assert answer.status == 404
        assert answer.headers["x-ratelimit-remaining"] == "4999" and answer.headers["x-ratelimit-resource"] == "core"
    assert world.standin.errors == [f"request GET /repos/{FULL}/labels: no route of the stand-in matches"]
    world.standin.errors.clear()


@pytest.mark.parametrize(("tail", "sends"), [("/pulls", 1), ("/git/trees", 2)])
async def test_a_timeout_resends_only_what_is_harmless_to_send_twice(world: World, session, monkeypatch, tail, sends):
    import gidgethub.aiohttp

    real = gidgethub.aiohttp.GitHubAPI._request
    timed_out: list[str] = []

    async def once_late(self, method, url, headers, body=b""):  # type: ignore[no-untyped-def]
        if method == "POST" and url.endswith(tail) and not timed_out:
            timed_out.append(url)
            await real(self, method, url, headers, body)  # GitHub got it; its answer never arrived
            raise TimeoutError
        return await real(self, method, url, headers, body)

    monkeypatch.setattr(gidgethub.aiohttp.GitHubAPI, "_request", once_late)
    app = runner(seeded(world), session, FakeClock())
    # a lost pull request answer: the sync finds the pull request GitHub made instead of sending it again
    assert (await app.run(job(world))).action in ("opened", "updated")
    assert sent(world, "POST", tail) == sends and len(world.standin.open_pulls(FULL)) == 1


def test_what_is_harmless_to_send_twice():
    from bot.github.client import repeatable

    for method, url in [
        ("GET", "/repos/o/r/pulls"),
        ("PATCH", "/repos/o/r/git/refs/heads/x"),
        ("POST", "http://h/api/v3/repos/o/r/git/commits"),
        ("POST", "/repos/o/r/git/blobs"),
        ("POST", "/app/installations/7/access_tokens"),
    ]:
        assert repeatable(method, url), (method, url)
    for url in ["/repos/o/r/pulls", "/repos/o/r/git/refs", "/repos/o/r/issues/3/comments", "/repos/o/r/check-runs"]:
        assert not repeatable("POST", url), url
