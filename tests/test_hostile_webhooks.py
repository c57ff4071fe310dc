"""Hostile deliveries and repositories: cheap refusals, payloads of the wrong shape, Redis down,
branch names that are not URL-safe, whose config decides, docs folders elsewhere, failing files."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.appworld import FULL, INSTALLATION, SECRET, World, sign
from tests.conftest import APP_ID, app_keys
from tests.serving import free_port, serve_process
from tests.standin import spec

MiB = 1024 * 1024


def seed(world: World) -> None:
    world.local.write("a.py", "A = 1\n")
    world.local.commit("seed")


# -- 13: cheap refusal before expensive reading ----------------------------------------------------


async def exchange(client: Any, head: dict[str, str], body: bytes = b"") -> int:
    """Send a request's head (and maybe part of its body) on a raw connection; the answer's status.
    A server that waits for the rest of the body never answers: the test times out."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        lines = ["POST /webhooks HTTP/1.1", f"Host: {client.server.host}", *(f"{k}: {v}" for k, v in head.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 60)
        return int(status.split()[1])
    finally:
        writer.close()


SIGNED = {"X-Hub-Signature-256": sign(b"{}"), "X-GitHub-Event": "push", "X-GitHub-Delivery": "d1"}


@pytest.mark.parametrize(
    ("head", "status"),
    [
        ({"X-GitHub-Event": "push", "X-GitHub-Delivery": "d1", "Content-Length": "1000"}, 401),
        ({"X-Hub-Signature-256": sign(b"{}"), "X-GitHub-Delivery": "d1", "Content-Length": "1000"}, 400),
        ({**SIGNED, "Content-Length": str(25 * MiB + 1)}, 413),
    ],
)
async def test_headers_alone_refuse_without_reading_the_body(world: World, head: dict[str, str], status: int):
    assert await exchange(world.client, {"Content-Type": "application/json", **head}) == status


async def test_slow_senders_are_cut_off(world: World, aiohttp_client):
    from webhooks.app import create_app
    from webhooks.settings import Settings

    client = await aiohttp_client(create_app(Settings(APP_ID, app_keys()[0], SECRET), read_seconds=0.2))
    head = {**SIGNED, "Content-Type": "application/json", "Content-Length": "100"}
    assert await exchange(client, head, b'{"ref": ') == 408  # the other 92 bytes never come
    assert (await client.get("/healthz")).status == 200


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def flood(base: str, body: bytes, headers: dict[str, str], connections: int) -> list[int]:
    """Post body on `connections` connections at once; the statuses (0: the server hung up)."""

    async def one(n: int) -> int:
        try:
            async with session.post(
                base + "/webhooks", data=body, headers={**headers, "X-GitHub-Delivery": str(n)}
            ) as r:
                return r.status
        except aiohttp.ClientError:
            return 0

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        return list(await asyncio.gather(*(one(n) for n in range(connections))))


async def test_forty_large_unsigned_bodies_do_not_grow_the_server(tmp_path: Path):
    body = b"x" * (24 * MiB)
    common = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
    with serve_process(tmp_path, "http://127.0.0.1:9") as (base, proc, _):
        before = peak_rss_mib(proc.pid)
        unsigned = await flood(base, body, common, 40)
        wrongly_signed = await flood(base, body, {**common, "X-Hub-Signature-256": "sha256=" + "0" * 64}, 40)
        peak = peak_rss_mib(proc.pid)
        async with aiohttp.ClientSession() as session, session.get(base + "/healthz") as health:
            assert health.status == 200
    assert set(unsigned) <= {401, 0} and 401 in unsigned
    # 503: no room within the read limit; 408: a body that did not arrive in time (a loaded machine reads slowly)
    assert set(wrongly_signed) <= {401, 503, 408} and 401 in wrongly_signed
    # reads in progress hold at most 50 MiB of bodies (today: 40 x 24 MiB, never given back)
    assert peak - before < 250, f"peak {peak:.0f} MiB, {before:.0f} MiB before the flood"


# -- 14: payloads of the wrong shape -----------------------------------------------------------------


def push_example() -> dict[str, Any]:
    data = spec.webhook_example("push", lambda e: e["ref"].startswith("refs/heads/") and "installation" in e)
    data["installation"]["id"] = INSTALLATION
    data["commits"] = [{**data["commits"][0], "added": ["a.py"], "removed": [], "modified": []}]
    return data


def installation_example() -> dict[str, Any]:
    data = spec.webhook_example("installation", lambda e: e["action"] == "created")
    data["installation"]["id"] = INSTALLATION
    return data


def mutated(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """data with the value at a dotted path (numbers index lists) replaced."""
    *keys, last = [int(k) if k.isdigit() else k for k in path.split(".")]
    node: Any = data
    for key in keys:
        node = node[key]
    node[last] = value
    return data


async def post_raw(client: Any, event: str, body: bytes, delivery: str = "probe") -> int:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body),
    }
    return int((await client.post("/webhooks", data=body, headers=headers)).status)


@pytest.mark.parametrize(
    ("event", "path", "value"),
    [
        ("push", "commits", "x"),
        ("push", "commits", [1]),
        ("push", "commits.0.added", ["docs/x", 5]),
        ("push", "ref", 5),
        ("push", "ref", None),
        ("push", "ref", ["refs/heads/main"]),
        ("push", "ref", "refs/heads/a/../../../pulls/1"),
        ("push", "ref", "refs/heads//x"),
        ("push", "after", "../../x"),
        ("push", "repository.owner", "x"),
        ("push", "repository.name", ".."),
        ("push", "installation.id", "1e400"),
        ("push", "installation.id", True),
        ("push", "action", []),
        ("installation", "repositories.0.full_name", 5),
        ("installation", "repositories.0.full_name", "no-slash"),
        ("installation", "installation", None),
    ],
)
async def test_signed_payloads_of_the_wrong_shape_are_400(world: World, event: str, path: str, value: Any):
    data = push_example() if event == "push" else installation_example()
    body = json.dumps(mutated(data, path, "@@VALUE@@")).encode()
    raw = value if value == "1e400" else json.dumps(value)  # 1e400: a number JSON allows, Python reads as inf
    body = body.replace(b'"@@VALUE@@"', raw.encode())
    assert await post_raw(world.client, event, body) == 400
    assert (await world.client.get("/healthz")).status == 200


async def test_a_bug_in_a_handler_is_500_and_logged_with_the_delivery(world: World, monkeypatch, caplog):
    from webhooks import push

    def broken(data: Any) -> Any:
        raise KeyError("a bug, not the payload's fault")

    monkeypatch.setattr(push.Push, "from_payload", staticmethod(broken))
    caplog.set_level(logging.ERROR)
    body = json.dumps(push_example()).encode()
    assert await post_raw(world.client, "push", body, delivery="delivery-with-a-bug") == 500
    assert "delivery-with-a-bug" in caplog.text and "KeyError" in caplog.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
PATHS = [
    "ref",
    "before",
    "after",
    "deleted",
    "commits",
    "commits.0",
    "commits.0.added",
    "commits.0.modified",
    "repository",
    "repository.name",
    "repository.owner",
    "repository.owner.login",
    "repository.default_branch",
    "installation",
    "installation.id",
    "action",
]
deliveries = st.one_of(  # (event, the whole payload) or (event, changes to a published example)
    st.tuples(st.sampled_from(["push", "installation", "installation_repositories", "star"]), json_values, st.none()),
    st.tuples(
        st.just("push"), st.none(), st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=3)
    ),
    st.tuples(
        st.just("installation"),
        st.none(),
        st.lists(
            st.tuples(st.sampled_from(["repositories", "repositories.0", "repositories.0.full_name"]), json_values),
            min_size=1,
            max_size=2,
        ),
    ),
)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    with serve_process(tmp_path_factory.mktemp("serve"), "http://127.0.0.1:9") as running:
        yield running


def post_sync(base: str, event: str, body: bytes, delivery: str) -> int:
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body),
    }
    conn.request("POST", "/webhooks", body=body, headers=headers)
    return conn.getresponse().status


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delivery=deliveries, n=st.integers(0, 10**9))
def test_random_signed_payloads_never_answer_5xx(live_server, delivery, n):
    base, proc, log = live_server
    event, data, changes = delivery
    if changes is not None:
        data = push_example() if event == "push" else installation_example()
        for path, value in changes:
            with contextlib.suppress(KeyError, IndexError, TypeError):
                data = mutated(data, path, value)
    body = json.dumps(data).encode()
    assert post_sync(base, event, body, f"random-{n}") < 500, body[:300]
    assert proc.poll() is None


def test_the_server_is_healthy_after_random_payloads(live_server):
    base, proc, log = live_server
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200
    assert post_sync(base, "push", json.dumps(push_example()).encode(), "after-the-storm") == 202
    assert "a bug in repodoc" not in log.read_text()


# -- 15: Redis mode tells the truth --------------------------------------------------------------------


async def test_redis_down_answers_503(world: World, aiohttp_client):
    from webhooks.app import create_app
    from webhooks.settings import Settings

    closed = f"redis://127.0.0.1:{free_port()}/0"
    settings_ = Settings(APP_ID, app_keys()[0], SECRET, api_url=world.standin.url, redis_url=closed)
    client = await aiohttp_client(create_app(settings_))
    seed(world)
    body = json.dumps(world.push_payload("0" * 40, world.push())).encode()
    assert await post_raw(client, "push", body) == 503
    assert (await client.get("/healthz")).status == 503


def test_the_start_up_log_names_the_queue_in_use(tmp_path: Path, redis_url: str):
    with serve_process(tmp_path, "http://127.0.0.1:9", REDIS_URL=redis_url) as (base, _, log):
        conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
        conn.request("GET", "/healthz")
        assert json.loads(conn.getresponse().read())["queue"] == "redis"
    text = log.read_text()
    assert f"queue: Redis at {redis_url}" in text and "in-process" not in text
    with serve_process(tmp_path, "http://127.0.0.1:9") as (_, _, log):
        pass
    assert "queue: in-process" in log.read_text()


# -- 16: branch names are path segments -----------------------------------------------------------------


async def test_branch_names_address_their_own_refs(world: World):
    names = ["feature", "feature#x", "aAb", "a%41b", "a", "a?b"]
    world.local.write(".github/repodoc.yml", f"branches: {json.dumps(names)}\n")
    seed(world)
    head = world.push()
    for name in ("feature", "aAb", "a"):  # their docs branches first
        assert (await world.push_branch(name)).status == 202
        await world.settle()
    before = {name: world.store.resolve(f"refs/heads/repodoc/{name}") for name in ("feature", "aAb", "a")}
    assert None not in before.values()
    for name in ("feature#x", "a%41b"):  # on the same commit: `{+branch}` used to address feature and aAb
        assert (await world.push_branch(name)).status == 202
        await world.settle()
        assert world.docs_branch_tree(f"repodoc/{name}") == world.generated_tree(head)
    payload = world.push_payload("0" * 40, head)  # git refuses `a?b`: a delivery naming it finds no such ref
    payload["ref"] = "refs/heads/a?b"
    assert (await world.deliver("push", payload)).status == 202
    await world.settle()
    assert {name: world.store.resolve(f"refs/heads/repodoc/{name}") for name in before} == before
    heads = sorted((p["head"], p["base"]) for p in world.standin.open_pulls(FULL))
    assert heads == sorted((f"repodoc/{n}", n) for n in ("feature", "feature#x", "aAb", "a%41b", "a"))


# -- 17: whose config decides ------------------------------------------------------------------------------


async def test_a_branch_cannot_enrol_itself(world: World):
    seed(world)
    world.push()
    world.local.git("checkout", "-q", "-b", "feature")
    world.local.write(".github/repodoc.yml", "branches: [feature]\n")
    world.local.commit("enrol myself")
    assert (await world.push_branch("feature")).status == 202
    await world.settle()
    assert world.standin.pulls[FULL] == []


async def test_the_default_branch_enrols_and_the_commit_decides_the_pages(world: World):
    world.local.write(".github/repodoc.yml", "branches: [feature]\n")
    seed(world)
    world.push()
    world.local.git("checkout", "-q", "-b", "feature")
    world.local.write(".github/repodoc.yml", "enabled: false\nfooter: '*made on feature*'\n")
    head = world.local.commit("its own config: turned off, another footer")
    assert (await world.push_branch("feature")).status == 202
    await world.settle()
    assert [p["head"] for p in world.standin.open_pulls(FULL)] == ["repodoc/feature"]
    docs = world.docs_branch_tree("repodoc/feature")
    assert docs == world.generated_tree(head) and b"*made on feature*" in docs["a.py_docs.md"]


# -- 18: docs-only pushes know the configured docs folder ----------------------------------------------------


async def test_sources_under_docs_refresh_when_the_docs_live_elsewhere(world: World):
    world.local.write(".github/repodoc.yml", "docs_dir: site\n")
    world.local.write("docs/guide.py", "G = 1\n")
    seed(world)
    await world.push_and_deliver()
    await world.settle()
    world.merge_docs_pull()
    world.pushed = world.local.git("rev-parse", "HEAD").strip()
    world.local.write("docs/guide.py", "G = 2\n")
    world.local.commit("a source file under docs/")
    assert (await world.push_and_deliver()).status == 202
    await world.settle()
    assert world.docs_branch_tree(docs_dir="site") == world.generated_tree(world.pushed, docs_dir="site")
    world.merge_docs_pull()
    world.pushed = world.local.git("rev-parse", "HEAD").strip()
    start = len(world.standin.requests)
    world.local.write("site/notes.md", "hand-written\n")
    world.local.commit("only the docs folder")
    assert (await world.push_and_deliver()).status == 202
    await world.settle()
    assert [r.method for r in world.standin.requests[start:]] == ["GET"]  # the tree, then skipped


# -- 8 (App half): a failure on one file fails only that file -------------------------------------------------


async def test_a_file_that_fails_gets_a_page_saying_why(world: World, monkeypatch):
    import bot.local
    from bot.github import sync

    real = sync.render_file

    def flaky(path: str, data: bytes, config: Any) -> Any:
        if path == "pkg/bad.py":
            raise RuntimeError("boom")
        return real(path, data, config)

    monkeypatch.setattr(sync, "render_file", flaky)
    monkeypatch.setattr(bot.local, "render_file", flaky)
    # the App renders in a pool of processes, which a monkeypatch does not reach: a thread of this one here
    inline = ThreadPoolExecutor(1)
    monkeypatch.setattr(sync, "render_pool", lambda: inline)
    world.local.write("pkg/bad.py", "B = 1\n")
    world.local.write("pkg/good.py", "G = 1\n")
    world.local.commit("one good, one bad")
    assert (await world.push_and_deliver()).status == 202
    await world.settle()
    docs = world.docs_branch_tree()
    assert docs == world.generated_tree(world.pushed, failures=1)
    assert b"repodoc failed on this file" in docs["pkg/index.md"] and "pkg/good.py_docs.md" in docs
    inline.shutdown()


# -- 4 (App half): a symlinked config is refused ---------------------------------------------------------------


async def test_a_symlinked_config_is_a_config_error(world: World):
    (world.local.path / ".github").mkdir()
    os.symlink("footer: read from a link", world.local.path / ".github/repodoc.yml")  # its blob is valid YAML
    seed(world)
    assert (await world.push_and_deliver()).status == 202
    await world.settle()
    assert world.standin.pulls[FULL] == []
    [check] = world.standin.check_runs
    assert check["conclusion"] == "failure" and "symbolic link" in check["output"]["summary"]


async def test_a_job_queued_by_an_older_server_still_runs(redis_world: World):
    from arq.connections import ArqRedis

    from bot.redis_queue import FUNCTION

    seed(redis_world)
    head = redis_world.push()
    old = {"delivery": "old", "installation_id": INSTALLATION, "owner": "octo-org", "repo": "demo"}
    pool = ArqRedis.from_url(redis_world.redis_url or "")
    try:
        await pool.enqueue_job(FUNCTION, {**old, "branch": "main", "after": head, "before": "", "is_default": True})
    finally:
        await pool.aclose()
    await redis_world.settle()
    assert redis_world.docs_branch_tree() == redis_world.generated_tree(head)


async def test_the_standin_decodes_ref_paths_once_as_github_does(world: World):
    seed(world)
    world.local.git("push", "-q", str(world.store.path), "HEAD:refs/heads/feature#x", "HEAD:refs/heads/a%41b")
    world.standin.tokens["test-token"] = time.time() + 60
    async with aiohttp.ClientSession(headers={"Authorization": "token test-token"}) as session:
        for quoted, name in (("feature%23x", "feature#x"), ("a%2541b", "a%41b")):
            async with session.get(f"{world.standin.url}/repos/{FULL}/git/ref/heads/{quoted}") as response:
                assert (response.status, (await response.json())["ref"]) == (200, f"refs/heads/{name}")
