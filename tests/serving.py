"""`repodoc serve` as a real process in tests: a free port, the process itself, waiting for it, a client."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from tests.appworld import SECRET
from tests.conftest import APP_ID, app_keys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(tmp_path: Path, api_url: str, *, secret: bool = True, **extra: str) -> dict[str, str]:
    """The environment of a `repodoc serve` (secret) or `repodoc worker` process: the App's id, its key in a
    file under tmp_path, the GitHub API at api_url, and `extra`."""
    key = tmp_path / "app.pem"
    key.write_text(app_keys()[0])
    env = {**os.environ, "GITHUB_APP_ID": APP_ID, "GITHUB_PRIVATE_KEY_FILE": str(key), "GITHUB_API_URL": api_url}
    env.pop("GITHUB_PRIVATE_KEY", None)
    env.pop("GITHUB_WEBHOOK_SECRET", None)  # a worker has none (whatever this shell holds)
    if secret:
        env["GITHUB_WEBHOOK_SECRET"] = SECRET
    return {**env, **extra}


@contextlib.contextmanager
def serve_process(tmp_path: Path, api_url: str, **extra: str) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """`repodoc serve` as a real process on a free port: its base URL, the process and its log file."""
    port = free_port()
    # a job still running at the end gets a second: the stand-in shares this test's event loop, which
    # proc.wait blocks, so a longer grace would only wait for answers that cannot come; `extra` may say otherwise
    env = app_env(tmp_path, api_url, **{"PORT": str(port), "REPODOC_GRACE_SECONDS": "1", **extra})
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/healthz")
                if conn.getresponse().status in (200, 503):
                    break
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield base, proc, log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def healthy(session: aiohttp.ClientSession, base: str) -> None:
    """Wait until a `repodoc serve` process answers 200 on /healthz (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            async with session.get(base + "/healthz") as health:
                if health.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        assert time.monotonic() < deadline, "repodoc serve did not start"
        await asyncio.sleep(0.1)


class Client:
    """Just enough of aiohttp's test client for World.deliver."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base

    async def post(self, path: str, data: bytes, headers: dict[str, str]) -> aiohttp.ClientResponse:
        async with self.session.post(self.base + path, data=data, headers=headers) as response:
            await response.read()
            return response
