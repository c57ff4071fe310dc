"""Benchmark of the App's GitHub traffic against the stand-in, for repositories of 50, 5,000 and 50,000 files.

For each size: the bootstrap (first push, no docs yet), then, once its docs pull request is merged, a one-file
push with the runner's caches as the bootstrap left them (warm), and another with a fresh runner's caches
(cold). It reports API requests (the archive download is not one: GitHub does not count it), bytes sent, the
pages posted, and the peak of Python memory during the push (tracemalloc; the stand-in runs in the same
process, so this is an upper bound on the App's), with the runner's tree and blob caches' sizes.
Targets: bootstrap <= 10 requests plus one per MB of pages posted; a one-file push <= 10 requests on 50 files
and at most 2 more on 50,000 (past GitHub's 100,000-entry recursive limit, applied here as GitHub applies it).

Usage: python bench/api_calls.py [SIZES...]   (needs `npm ci` for GitHub's OpenAPI description; the 50,000-file
repository takes about ten minutes, most of it the stand-in checking megabyte bodies against the description)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.github.caches import Caches  # noqa: E402
from tests.appworld import SECRET, World  # noqa: E402
from tests.conftest import APP_ID, app_keys  # noqa: E402
from tests.standin.server import CODELOAD, GitHubStandIn  # noqa: E402
from tests.test_scale import corpus, fast_commit, merge_without_checkout  # noqa: E402
from webhooks.app import QUEUE, create_app  # noqa: E402
from webhooks.settings import Settings  # noqa: E402

MB = 1024 * 1024


def kind(path: str) -> str:
    if path.startswith(CODELOAD):
        return "download"
    tail = path.split("?")[0].split("/repos/")[-1].split("/", 2)[-1]
    return tail.split("/")[0] + ("/" + tail.split("/")[1] if tail.startswith("git/") else "")


async def one_push(world: World, standin: GitHubStandIn) -> dict[str, Any]:
    """Push main, let the App sync it; what it cost."""
    start = len(standin.requests)
    tracemalloc.start()
    began = time.perf_counter()
    await world.push_and_deliver()
    await world.settle()
    seconds = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"    pushed and synced in {seconds:.1f} s", flush=True)
    sent = standin.requests[start:]
    api = [r for r in sent if not r.path.startswith(CODELOAD)]
    posted = sum(r.bytes_sent for r in api if r.method == "POST" and r.path.endswith("/git/trees"))
    kinds = Counter(f"{r.method} {kind(r.path)}" for r in sent)
    return {
        "requests": len(api),
        "bytes": sum(r.bytes_sent for r in api),
        "posted": posted,
        "peak": peak,
        "seconds": seconds,
        "kinds": ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())),
    }


async def measure(files: int) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "github").mkdir()
        standin = GitHubStandIn(tmp / "github", APP_ID, app_keys()[1])  # GitHub's 100,000-entry limit
        server = TestServer(standin.app())
        await server.start_server()
        settings = Settings(APP_ID, app_keys()[0], SECRET, api_url=str(server.make_url("")).rstrip("/"))
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        try:
            world = World(tmp, standin, client)
            runner = client.app[QUEUE]._run.__self__  # type: ignore[attr-defined]
            fast_commit(world, corpus(files), "corpus")
            results = {"bootstrap": await one_push(world, standin)}
            for label in ("warm", "cold"):
                merge_without_checkout(world)
                if label == "cold":
                    runner.caches = Caches()
                fast_commit(world, {"pkg0/mod_7.py": f'"""Changed {label}."""\nX = 1\n'.encode()}, "one file")
                results[label] = await one_push(world, standin)
                caches = runner.caches
                results[label]["cached"] = caches.trees.currsize + caches.blobs.currsize
            assert standin.errors == [], standin.errors
            return results
        finally:
            await client.close()
            await server.close()


async def main(sizes: list[int]) -> None:
    table = []
    for files in sizes:
        for label, r in (await measure(files)).items():
            print(f"  {files} files, {label}: {r['kinds']}", flush=True)
            table.append((files, label, r))
    print()
    print("| files | push | API requests | bytes sent | pages posted | peak Python memory | caches after | time |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for files, label, r in table:
        cached = f"{r['cached'] / MB:.1f} MB" if "cached" in r else ""
        target = 10 + r["posted"] / MB if label == "bootstrap" else (10 if files <= 50 else 12)
        print(
            f"| {files:,} | {label} | {r['requests']} (target <= {target:.0f}) | {r['bytes']:,} | "
            f"{r['posted'] / MB:.1f} MB | {r['peak'] / MB:.1f} MB | {cached} | {r['seconds']:.1f} s |"
        )


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [50, 5000, 50000]))
