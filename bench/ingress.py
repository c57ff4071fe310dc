"""Ingress benchmark: how fast `repodoc serve` acknowledges signed deliveries, idle and while it (or, in Redis
mode, a worker) bootstraps a 5,000-file repository, and how many syncs a burst of pushes to one branch runs.

Every part is a process of its own, over loopback: the GitHub stand-in (tests/standin, serving the repository
as bench/api_calls.py does), `repodoc serve` (RECONCILE_INTERVAL=0), in Redis mode a real redis-server and
`repodoc worker` processes, and the load generator (an aiohttp client) that sends the deliveries.

The deliveries measured are signed `push` deliveries of a tag: verified, parsed and routed like any push, and
answered 200 "ignored" without queueing work (a queued push would make the server sync the repository, which
at 2,000 a second no machine absorbs; the burst below measures queued pushes). Phases, for each mode:
- acknowledged: as many deliveries as the server answers, 32 in flight at once, for --seconds;
- idle: --rate deliveries a second (open loop: sent on schedule, whatever the answers) for --seconds;
- bootstrap: the same rate from the moment the bootstrap downloads the repository's archive (its files are
  rendered next) until its docs pull request opens (at most --bootstrap-seconds), only the deliveries sent in
  that window counted;
- burst: --burst commits pushed to main (after the bootstrap), one push delivery each, sent one after the
  other as fast as the server answers; syncs run = the listings of those commits the stand-in served.
The time to the answer is measured from the moment the load generator sends the request.

Targets (issue 9): p99 under 50 ms at 500 deliveries a second idle and during the bootstrap; at least 2,000
deliveries a second acknowledged; 50 pushes to one branch -> at most 2 syncs.

Usage: python bench/ingress.py [--mode embedded|redis|both] [--seconds 10] [--rate 500] [--files 5000]
       [--burst 50] [--workers 1]      (needs `npm ci` for GitHub's OpenAPI description, and redis-server)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
IN_FLIGHT = 32  # deliveries in flight at once in the acknowledged phase
TARGET_P99_MS = 50.0
TARGET_RATE = 2000.0
TARGET_SYNCS = 2


# -- the GitHub stand-in's process ------------------------------------------------------------------------
def standin_main(root: str, public_key: str, files: int, conn: Connection) -> None:
    """Serve the stand-in with one repository of `files` files on a free port; answer the parent's commands
    (status, burst, stop) on conn from a thread while the event loop serves."""
    from aiohttp import web

    from tests.appworld import World
    from tests.conftest import APP_ID
    from tests.standin.gitstore import ZEROS
    from tests.standin.server import GitHubStandIn
    from tests.test_scale import corpus, fast_commit

    tmp = Path(root)
    (tmp / "github").mkdir()
    standin = GitHubStandIn(tmp / "github", APP_ID, public_key)
    world = World(tmp, standin, None)
    head = fast_commit(world, corpus(files), "corpus")
    world.push()
    bootstrap = world.push_payload(ZEROS, head)
    world.pushed = head
    tag = world.push_payload(ZEROS, head, commits=0)  # as GitHub sends a new tag: no commits listed
    tag.update(ref="refs/tags/bench", base_ref=None)

    async def serve() -> None:
        runner = web.AppRunner(standin.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        conn.send({"url": f"http://127.0.0.1:{port}", "bootstrap": bootstrap, "tag": tag})
        threading.Thread(target=commands, args=(loop, stopped), daemon=True).start()
        await stopped.wait()
        await runner.cleanup()

    def commands(loop: asyncio.AbstractEventLoop, stopped: asyncio.Event) -> None:
        while True:
            verb, arg = conn.recv()
            if verb == "stop":
                loop.call_soon_threadsafe(stopped.set)
                return
            if verb == "status":
                conn.send(status(arg))
            elif verb == "burst":
                conn.send(burst(arg))

    def status(shas: list[str]) -> dict[str, Any]:
        requests = list(standin.requests)
        listings = sum(1 for r in requests if r.method == "GET" and any(f"/git/trees/{sha}" in r.path for sha in shas))
        pulls = standin.open_pulls("octo-org/demo")
        return {
            "requests": len(requests),
            "archive": any("/tarball/" in r.path for r in requests),
            "pulls": len(pulls),
            "listings": listings,
            "documented": bool(shas) and any(shas[-1] in (p.get("body") or "") for p in pulls),
            "errors": len(standin.errors),
        }

    def burst(count: int) -> dict[str, Any]:
        payloads, shas = [], []
        for n in range(count):
            before = world.pushed
            after = fast_commit(world, {f"pkg0/mod_{n}.py": f'"""Burst {n}."""\nX = {n}\n'.encode()}, f"burst {n}")
            payloads.append(world.push_payload(before, after))
            world.pushed = after
            shas.append(after)
        world.push(force=True)
        return {"payloads": payloads, "shas": shas}

    asyncio.run(serve())


# -- the load generator's process ---------------------------------------------------------------------------
def load_main(url: str, body: bytes, signature: str, plan: dict[str, Any], stop: Any, conn: Connection) -> None:
    """Send deliveries as `plan` says; send back [(sent at (monotonic), seconds to the answer, status)]."""
    conn.send(asyncio.run(_load(url, body, signature, plan, stop)))


async def _load(
    url: str, body: bytes, signature: str, plan: dict[str, Any], stop: Any
) -> list[tuple[float, float, int]]:
    import aiohttp

    results: list[tuple[float, float, int]] = []
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": signature}

    async def one(session: aiohttp.ClientSession, data: bytes = body, sign: dict[str, str] | None = None) -> None:
        sent = time.monotonic()
        try:
            async with session.post(
                url, data=data, headers={**headers, **(sign or {}), "X-GitHub-Delivery": str(uuid.uuid4())}
            ) as answer:
                await answer.read()
                status = answer.status
        except aiohttp.ClientError:
            status = 0
        results.append((sent, time.monotonic() - sent, status))

    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(20):  # warm the connections
            await one(session)
        results.clear()
        began = time.monotonic()
        if plan["kind"] == "closed":

            async def loop() -> None:
                while time.monotonic() - began < plan["seconds"]:
                    await one(session)

            await asyncio.gather(*(loop() for _ in range(plan["in_flight"])))
        elif plan["kind"] == "open":
            tasks = set()
            n = 0
            while time.monotonic() - began < plan["seconds"] and not stop.is_set():
                at = began + n / plan["rate"]
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(one(session))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                n += 1
            await asyncio.gather(*tasks)
        else:  # the burst: these bodies, in order, each sent once the previous one is answered
            for data, sign in plan["deliveries"]:
                await one(session, data, {"X-Hub-Signature-256": sign})
    return results


def run_load(url: str, body: bytes, signature: str, plan: dict[str, Any], stop: Any = None) -> list[Any]:
    context = multiprocessing.get_context("spawn")
    stop = stop or context.Event()
    parent, child = context.Pipe()
    proc = context.Process(target=load_main, args=(url, body, signature, plan, stop, child))
    proc.start()
    results = parent.recv()
    proc.join()
    return list(results)


# -- the processes under test ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (bash .ci/test installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], env=env, stdout=out, stderr=out, cwd=ROOT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def health(port: int) -> dict[str, Any] | None:
    with contextlib.suppress(OSError, ValueError):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        answer = conn.getresponse()
        if answer.status == 200:
            return dict(json.loads(answer.read()))
    return None


def post(port: int, body: bytes, event: str = "push") -> int:
    from tests.appworld import sign

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body),
    }
    conn.request("POST", "/webhooks", body=body, headers=headers)
    return conn.getresponse().status


# -- figures ------------------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary(samples: list[tuple[float, float, int]], seconds: float | None = None) -> dict[str, Any]:
    if not samples:
        return {"n": 0, "rate": 0.0, "answered": 0.0, "p50": float("nan"), "p99": float("nan"), "failed": 0}
    sent = [s[0] for s in samples]
    span = seconds or max(max(sent) - min(sent), 1e-9)
    good = [s for s in samples if 200 <= s[2] < 300]
    return {
        "n": len(samples),
        "rate": len(samples) / span,
        "answered": len(good) / span,
        "p50": percentile([s[1] for s in samples], 0.50) * 1000,
        "p99": percentile([s[1] for s in samples], 0.99) * 1000,
        "failed": len(samples) - len(good),
    }


def line(label: str, figures: dict[str, Any], target: str) -> str:
    return (
        f"| {label} | {figures['n']:,} | {figures['rate']:,.0f}/s | {figures['answered']:,.0f}/s | "
        f"{figures['p50']:.1f} ms | {figures['p99']:.1f} ms | {figures['failed']} | {target} |"
    )


def measure(mode: str, args: argparse.Namespace) -> list[str]:
    from tests.appworld import SECRET, sign
    from tests.conftest import APP_ID, app_keys

    rows: list[str] = []
    print(f"{mode}: load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    private, public = app_keys()
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        (tmp / "standin").mkdir()
        parent, child = context.Pipe()
        standin = context.Process(target=standin_main, args=(str(tmp / "standin"), public, args.files, child))
        standin.start()
        stack.callback(standin.join, 30)
        stack.callback(parent.send, ("stop", None))
        ready = parent.recv()

        def status(shas: list[str] | None = None) -> dict[str, Any]:
            parent.send(("status", shas or []))
            return dict(parent.recv())

        key = tmp / "app.pem"
        key.write_text(private)
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GITHUB_APP_ID": APP_ID,
            "GITHUB_PRIVATE_KEY_FILE": str(key),
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": ready["url"],
            "RECONCILE_INTERVAL": "0",
            "PORT": str(port),
        }
        env.pop("GITHUB_PRIVATE_KEY", None)
        if mode == "redis":
            env["REDIS_URL"] = stack.enter_context(redis_server(tmp))
            for n in range(args.workers):
                stack.enter_context(process(["worker"], env, tmp / f"worker-{n}.log"))
        stack.enter_context(process(["serve", "--host", "127.0.0.1"], env, tmp / "serve.log"))
        deadline = time.monotonic() + 60
        while health(port) is None:
            assert time.monotonic() < deadline, (tmp / "serve.log").read_text()
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/webhooks"
        body = json.dumps(ready["tag"]).encode()
        signature = sign(body)
        assert post(port, body) == 200, "a tag push should be answered 200 (ignored)"

        closed = run_load(url, body, signature, {"kind": "closed", "seconds": args.seconds, "in_flight": IN_FLIGHT})
        rows.append(
            line(
                f"{mode}: acknowledged, {IN_FLIGHT} in flight",
                summary(closed, args.seconds),
                f">= {TARGET_RATE:,.0f}/s",
            )
        )
        idle = run_load(url, body, signature, {"kind": "open", "seconds": args.seconds, "rate": args.rate})
        rows.append(line(f"{mode}: idle, {args.rate}/s", summary(idle), f"p99 < {TARGET_P99_MS:.0f} ms"))
        print(rows[-2], rows[-1], sep="\n", flush=True)

        began = time.monotonic()
        assert post(port, json.dumps(ready["bootstrap"]).encode()) == 202
        while not status()["archive"]:
            assert time.monotonic() - began < 600, "the bootstrap never downloaded the archive"
            time.sleep(0.05)
        rendering = time.monotonic()
        stop = context.Event()
        results: list[Any] = []
        loader = threading.Thread(
            target=lambda: results.extend(
                run_load(
                    url, body, signature, {"kind": "open", "seconds": args.bootstrap_seconds, "rate": args.rate}, stop
                )
            )
        )
        loader.start()
        while status()["pulls"] == 0 and time.monotonic() - rendering < args.bootstrap_seconds:
            time.sleep(0.1)
        opened = time.monotonic()
        stop.set()
        loader.join()
        while status()["pulls"] == 0:
            assert time.monotonic() - began < 1200, "the bootstrap never opened its pull request"
            time.sleep(0.2)
        during = [s for s in results if rendering <= s[0] < opened]
        rows.append(
            line(
                f"{mode}: during the bootstrap ({opened - rendering:.1f} s of {time.monotonic() - began:.1f} s), {args.rate}/s",
                summary(during),
                f"p99 < {TARGET_P99_MS:.0f} ms",
            )
        )
        print(rows[-1], flush=True)

        parent.send(("burst", args.burst))
        burst = parent.recv()
        deliveries = []
        for payload in burst["payloads"]:
            data = json.dumps(payload).encode()
            deliveries.append((data, sign(data)))
        sent = run_load(url, body, signature, {"kind": "burst", "deliveries": deliveries})
        took = max(s[0] + s[1] for s in sent) - min(s[0] for s in sent)
        quiet, last = time.monotonic(), -1
        while True:  # settled: nothing queued, and the stand-in served no request for 5 s
            now = status(burst["shas"])
            queued = (health(port) or {}).get("pending", 1)
            if now["requests"] != last or queued:
                quiet, last = time.monotonic(), now["requests"]
            elif time.monotonic() - quiet > 5:
                break
            assert time.monotonic() - quiet < 900, "the burst's syncs did not settle"
            time.sleep(0.2)
        accepted = sum(1 for s in sent if s[2] == 202)
        rows.append(
            f"| {mode}: burst, {args.burst} pushes to main in {took:.2f} s ({accepted} answered 202) | "
            f"{now['listings']} syncs run; newest head documented: {'yes' if now['documented'] else 'no'} | "
            f"| | | | | <= {TARGET_SYNCS} syncs |"
        )
        print(rows[-1], flush=True)
        if now["errors"]:
            print(f"  the stand-in recorded {now['errors']} errors", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("embedded", "redis", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="of each idle phase")
    parser.add_argument("--rate", type=int, default=500, help="deliveries a second in the open-loop phases")
    parser.add_argument("--files", type=int, default=5000, help="of the bootstrapped repository")
    parser.add_argument("--bootstrap-seconds", type=float, default=120.0, help="longest load during the bootstrap")
    parser.add_argument("--burst", type=int, default=50, help="pushes to one branch")
    parser.add_argument("--workers", type=int, default=1, help="`repodoc worker` processes in Redis mode")
    args = parser.parse_args()
    header = [
        "| phase | deliveries | sent | acknowledged (2xx) | p50 | p99 | not 2xx | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    print("\n".join(header), flush=True)
    rows = []
    for mode in ("embedded", "redis") if args.mode == "both" else (args.mode,):
        rows += measure(mode, args)
    print()
    print(f"{os.cpu_count()} cores; deliveries: signed pushes of a tag (answered 200, nothing queued), over loopback")
    print("\n".join(header + rows))


if __name__ == "__main__":
    main()
