"""`GET /metrics`: Prometheus' text format, read back with prometheus_client's own parser after real work,
in the embedded mode and from a real `repodoc worker` process in Redis mode."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterable
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.appworld import FULL, INSTALLATION, NAME, OWNER, World
from tests.serving import app_env, free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample by name and labels, through prometheus_client's parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every sample of name whose labels include these."""
    return sum(v for (n, found), v in samples.items() if n == name and set(labels.items()) <= set(found))


def label_values(samples: Samples) -> Iterable[str]:
    return (v for (_, labels), _ in samples.items() for _, v in labels)


def assert_no_names(samples: Samples) -> None:
    for label in label_values(samples):
        assert OWNER not in label and NAME not in label, label


async def scrape(world: World) -> Samples:
    response = await world.client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(await response.text())


def seed(world: World) -> None:
    world.local.write("pkg/a.py", '"""A."""\nA = 1\n')
    world.local.commit("seed")


async def test_metrics_count_deliveries_jobs_and_github_requests(world: World):
    before = await scrape(world)
    seed(world)
    assert (await world.push_and_deliver(delivery="m-1")).status == 202
    await world.settle()
    again = await world.deliver("push", world.push_payload("0" * 40, world.pushed), "m-1")
    assert again.status == 200  # a redelivery
    assert (await world.deliver("push", {"zen": 1}, signature="sha256=00")).status == 401
    after = await scrape(world)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("repodoc_deliveries_total", event="push", outcome="queued") == 1
    assert moved("repodoc_deliveries_total", event="push", outcome="duplicate") == 1
    assert moved("repodoc_deliveries_total", event="unverified", outcome="unauthorized") == 1
    assert moved("repodoc_delivery_answer_seconds_count") == 3
    assert moved("repodoc_jobs_total", kind="sync", outcome="opened") == 1
    assert moved("repodoc_job_duration_seconds_count", kind="sync") == 1
    assert moved("repodoc_job_duration_seconds_sum", kind="sync") > 0
    # what the stand-in answered, by method class and status
    answered: dict[tuple[str, str], int] = {}
    for request in world.standin.requests:
        kind = "read" if request.method in ("GET", "HEAD") else "write"
        answered[kind, str(request.status)] = answered.get((kind, str(request.status)), 0) + 1
    answered.pop(("read", "302"), None)  # the archive's download: followed by aiohttp, not a request of its own
    for (method, status), count in answered.items():
        if status.startswith("2"):
            assert moved("repodoc_github_requests_total", method=method, status=status) == count, (method, status)
    assert moved("repodoc_github_requests_total", method="write", status="201") >= 3  # tree, commit, pull
    remaining = value(after, "repodoc_github_rate_limit_remaining", installation=str(INSTALLATION))
    budget = world.standin.limits.budget(world.standin.limits.key(f"token {next(iter(world.standin.tokens))}"))
    assert remaining == budget.limit - budget.used
    assert value(after, "repodoc_queue_up") == 1
    assert value(after, "repodoc_queue_jobs", state="pending") == 0
    assert_no_names(after)


async def test_metrics_of_redis_mode_server_and_a_worker_process(redis_world: World, tmp_path):
    """The server's /metrics shows the Redis queue's depth; each `repodoc worker` shows its jobs and GitHub
    requests on its own --metrics-port; its stderr (a file: not a terminal) is JSON lines."""
    seed(redis_world)
    await redis_world.push_and_deliver(delivery="redis-1")
    served = await scrape(redis_world)
    assert value(served, "repodoc_queue_up") == 1
    assert value(served, "repodoc_queue_jobs", state="pending") == 1
    assert value(served, "repodoc_deliveries_total", event="push", outcome="queued") >= 1
    port = free_port()
    env = app_env(tmp_path, redis_world.standin.url, secret=False, REDIS_URL=redis_world.redis_url or "")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker", "--metrics-host", "127.0.0.1", "--metrics-port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 60
        samples: Samples = {}
        async with aiohttp.ClientSession() as session:
            while total(samples, "repodoc_jobs_total", kind="sync") < 1:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.2)
                try:
                    async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                        samples = parse(await response.text())
                except aiohttp.ClientConnectionError:
                    continue
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
    assert value(samples, "repodoc_jobs_total", kind="sync", outcome="opened") == 1
    assert value(samples, "repodoc_job_duration_seconds_count", kind="sync") == 1
    assert total(samples, "repodoc_github_requests_total", method="read") > 0
    assert total(samples, "repodoc_github_requests_total", method="write", status="201") >= 3
    assert value(samples, "repodoc_github_rate_limit_remaining", installation=str(INSTALLATION)) > 0
    assert_no_names(samples)
    assert len(redis_world.standin.open_pulls(FULL)) == 1
    lines = [_json(line) for line in log.read_text().splitlines()]
    [done] = [line for line in lines if line.get("logger") == "repodoc.worker" and line.get("delivery") == "redis-1"]
    assert (done["kind"], done["outcome"], done["key"]) == (
        "sync",
        "opened",
        FULL,
    )  # the default branch: the repository's key
    assert done["requests"] > 5 and done["duration_ms"] > 0


def _json(line: str) -> dict[str, Any]:
    import json

    parsed = json.loads(line)
    assert isinstance(parsed, dict), line
    return parsed
