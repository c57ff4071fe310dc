"""Benchmark of the App's GitHub traffic: requests and bytes sent per push, against the stand-in.

For repositories of 50 and 5,000 files it prints what a one-file push costs once the docs are in
step: the number of API requests (target: at most 10, the same for both sizes) and the bytes sent
against the size of the pages that changed (target: within 1.2x).

Usage: python bench/api_calls.py   (needs `npm ci` for GitHub's OpenAPI description)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.appworld import SECRET, World  # noqa: E402
from tests.conftest import APP_ID, app_keys  # noqa: E402
from tests.standin.server import GitHubStandIn  # noqa: E402
from webhooks.app import create_app  # noqa: E402
from webhooks.settings import Settings  # noqa: E402


def populate(world: World, files: int) -> None:
    per_folder = 100
    for n in range(files):
        folder = f"pkg{n // per_folder}" if files > per_folder else "pkg"
        world.local.write(f"{folder}/mod_{n}.py", f'"""Module {n}."""\n\ndef f_{n}(x):\n    return x + {n}\n')
    world.local.commit("corpus")


async def measure(files: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "github").mkdir()
        standin = GitHubStandIn(tmp / "github", APP_ID, app_keys()[1])
        server = TestServer(standin.app())
        await server.start_server()
        settings = Settings(APP_ID, app_keys()[0], SECRET, api_url=str(server.make_url("")).rstrip("/"))
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        try:
            world = World(tmp, standin, client)
            populate(world, files)
            await world.push_and_deliver()
            await world.settle()
            world.merge_docs_pull()
            world.pushed = world.local.git("rev-parse", "HEAD").strip()
            world.local.write("pkg0/mod_7.py" if files > 100 else "pkg/mod_7.py", '"""Changed."""\nX = 1\n')
            world.local.commit("one file")
            start = len(standin.requests)
            await world.push_and_deliver()
            await world.settle()
            sent = standin.requests[start:]
            base = world.store.resolve("refs/heads/main")
            docs = world.store.resolve("refs/heads/repodoc/main")
            changed = [
                p for p in world.store.git("diff", "--name-only", str(base), str(docs)).decode().split("\n") if p
            ]
            head = {e["path"]: e["sha"] for e in world.store.ls_tree(str(docs), True) if e["type"] == "blob"}
            page_bytes = sum(len(world.store.blob(head[p])) for p in changed if p in head)
            assert standin.errors == [], standin.errors
            kinds = Counter(f"{r.method} {r.path.split('?')[0].split('/repos/')[-1].split('/', 2)[-1]}" for r in sent)
            print(f"  {files} files: " + ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())))
            return {
                "requests": len(sent),
                "bytes": sum(r.bytes_sent for r in sent),
                "pages": page_bytes,
                "changed": len(changed),
            }
        finally:
            await client.close()
            await server.close()


async def main() -> None:
    results = {}
    for files in (50, 5000):
        results[files] = await measure(files)
    for files, r in results.items():
        print(
            f"{files:>5} files: {r['requests']} requests for a one-file push; {r['bytes']:,} bytes sent for "
            f"{r['changed']} changed pages of {r['pages']:,} bytes: ratio {r['bytes'] / r['pages']:.2f} (target <= 1.2)"
        )
    print(f"requests 5000 vs 50 files: {results[5000]['requests']} vs {results[50]['requests']} (target: equal, <= 10)")


if __name__ == "__main__":
    asyncio.run(main())
