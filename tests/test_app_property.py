"""Property: whatever is pushed, and whenever the docs pull request is merged (as a merge commit, as
GitHub merges), the docs the App proposes (or main's, when nothing is proposed) are what `repodoc generate`
writes for the pushed commit; pushes that change only an undocumented file leave a correct pull request
alone, on its older source commit, and it still merges to the right docs; and so whatever GitHub fault
is injected on the way (5xx beyond the client's retries, answers lost after the effect happened)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.appworld import FULL, SECRET, World
from tests.conftest import APP_ID, app_keys
from tests.standin.server import Fault, GitHubStandIn
from tests.strategies import apply, ops
from webhooks.app import create_app
from webhooks.settings import Settings

# faults GitHub shows for real: 5xx (more than the client retries: the job is retried), answers lost
# after the effect happened (a pull request or commit made, its answer never received)
faults = st.sampled_from(
    [
        None,
        ("fault", "GET", "/git/trees/", 502, 6),
        ("fault", "POST", "/git/trees", 502, 1),
        ("fault", "POST", "/pulls", 502, 1),
        ("lost", "POST", "/pulls", 0, 1),
        ("lost", "POST", "/git/commits", 0, 1),
        ("lost", "PATCH", "/git/refs/", 0, 1),
    ]
)
pushes = st.lists(
    st.tuples(st.lists(ops, min_size=0, max_size=3), st.booleans(), st.booleans(), faults), min_size=1, max_size=5
)


def docs_of_main(world: World) -> dict[str, bytes]:
    head = world.store.resolve("refs/heads/main")
    return {
        e["path"][5:]: world.store.blob(e["sha"])
        for e in world.store.ls_tree(str(head), True)
        if e["type"] == "blob" and str(e["path"]).startswith("docs/")
    }


Fault_ = tuple[str, str, str, int, int] | None


@contextlib.asynccontextmanager
async def app_on_loopback(tmp: Path) -> AsyncIterator[World]:
    """The GitHub stand-in and a repodoc App, both on loopback, for one hypothesis example (pytest's
    fixtures last a whole test, not an example)."""
    (tmp / "github").mkdir()
    standin = GitHubStandIn(tmp / "github", APP_ID, app_keys()[1])
    server = TestServer(standin.app())
    await server.start_server()
    settings_ = Settings(APP_ID, app_keys()[0], SECRET, api_url=str(server.make_url("")).rstrip("/"))
    client = TestClient(TestServer(create_app(settings_, backoff=0)))
    await client.start_server()
    try:
        yield World(tmp, standin, client)
    finally:
        await client.close()
        await server.close()


async def scenario(tmp: Path, history: list[tuple[list[tuple[str, str, str]], bool, bool, Fault_]]) -> None:
    async with app_on_loopback(tmp) as world:
        standin = world.standin
        world.local.write("a/x.py", "x = 1\n")
        world.local.commit("start")
        for step, (changes, merge, unrelated, fault) in enumerate(history):
            for op in changes:
                apply(world.local, op)
            if unrelated or not changes:
                world.local.write("assets/logo.png", b"\x89PNG" + bytes([step]))  # never documented
            world.local.commit(f"step {step}")
            if fault is not None:
                kind, method, tail, status, times = fault
                injected = Fault(method, f"/repos/{FULL}{tail}", status, times)
                (standin.faults if kind == "fault" else standin.lost).append(injected)
            await world.push_and_deliver()
            await world.settle()
            standin.faults.clear()
            standin.lost.clear()
            proposed = world.standin.open_pulls(FULL)
            assert len(proposed) <= 1, f"step {step}: {len(proposed)} docs pull requests"
            docs = world.docs_branch_tree() if proposed else docs_of_main(world)
            assert docs == world.generated_tree(world.pushed), f"step {step}"
            if merge and proposed:
                world.merge_docs_pull()
                world.pushed = world.local.git("rev-parse", "HEAD").strip()
        assert standin.errors == [], standin.errors


@settings(
    max_examples=int(os.environ.get("REPODOC_APP_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(pushes)
def test_app_docs_always_equal_a_full_run(history):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp), history))
