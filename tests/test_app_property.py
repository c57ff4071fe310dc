"""Property: whatever is pushed, and whenever the docs pull request is merged (as a merge commit, as
GitHub merges), the docs the App proposes (or main's, when nothing is proposed) are what `repodoc generate`
writes for the pushed commit; pushes that change only an undocumented file leave a correct pull request
alone, on its older source commit, and it still merges to the right docs."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.appworld import FULL, SECRET, World
from tests.conftest import APP_ID, app_keys
from tests.standin.server import GitHubStandIn
from tests.strategies import apply, ops
from webhooks.app import create_app
from webhooks.settings import Settings

pushes = st.lists(
    st.tuples(st.lists(ops, min_size=0, max_size=3), st.booleans(), st.booleans()), min_size=1, max_size=5
)


def docs_of_main(world: World) -> dict[str, bytes]:
    head = world.store.resolve("refs/heads/main")
    return {
        e["path"][5:]: world.store.blob(e["sha"])
        for e in world.store.ls_tree(str(head), True)
        if e["type"] == "blob" and str(e["path"]).startswith("docs/")
    }


async def scenario(tmp: Path, history: list[tuple[list[tuple[str, str, str]], bool, bool]]) -> None:
    (tmp / "github").mkdir()
    standin = GitHubStandIn(tmp / "github", APP_ID, app_keys()[1])
    server = TestServer(standin.app())
    await server.start_server()
    settings_ = Settings(APP_ID, app_keys()[0], SECRET, api_url=str(server.make_url("")).rstrip("/"))
    client = TestClient(TestServer(create_app(settings_, backoff=0)))
    await client.start_server()
    try:
        world = World(tmp, standin, client)
        world.local.write("a/x.py", "x = 1\n")
        world.local.commit("start")
        for step, (changes, merge, unrelated) in enumerate(history):
            for op in changes:
                apply(world.local, op)
            if unrelated or not changes:
                world.local.write("assets/logo.png", b"\x89PNG" + bytes([step]))  # never documented
            world.local.commit(f"step {step}")
            await world.push_and_deliver()
            await world.settle()
            proposed = world.standin.open_pulls(FULL)
            docs = world.docs_branch_tree() if proposed else docs_of_main(world)
            assert docs == world.generated_tree(world.pushed), f"step {step}"
            if merge and proposed:
                world.merge_docs_pull()
                world.pushed = world.local.git("rev-parse", "HEAD").strip()
        assert standin.errors == [], standin.errors
    finally:
        await client.close()
        await server.close()


@settings(
    max_examples=int(os.environ.get("REPODOC_APP_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(pushes)
def test_app_docs_always_equal_a_full_run(history):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp), history))
