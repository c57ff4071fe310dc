"""`repodoc serve` as a real process: environment in, signed webhook over loopback, pull request out."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import aiohttp

from tests.appworld import FULL, SECRET, World
from tests.conftest import APP_ID, app_keys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_repodoc_serve_process_end_to_end(world: World, tmp_path):
    key = tmp_path / "app.pem"
    key.write_text(app_keys()[0])
    port = free_port()
    env = {
        **os.environ,
        "GITHUB_APP_ID": APP_ID,
        "GITHUB_PRIVATE_KEY_FILE": str(key),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": world.standin.url,
        "PORT": str(port),
    }
    env.pop("GITHUB_PRIVATE_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            await healthy(session, base)
            deadline = time.monotonic() + 30
            world.client = _Client(session, base)
            world.local.write("m.py", '"""A module."""\n')
            world.local.commit("one")
            response = await world.push_and_deliver()
            assert response.status == 202
            while not world.standin.open_pulls(FULL):
                assert time.monotonic() < deadline + 30, "no pull request appeared"
                await asyncio.sleep(0.1)
        assert world.docs_branch_tree() == world.generated_tree(world.pushed)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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


class _Client:
    """Just enough of aiohttp's test client for World.deliver."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base

    async def post(self, path: str, data: bytes, headers: dict[str, str]) -> aiohttp.ClientResponse:
        async with self.session.post(self.base + path, data=data, headers=headers) as response:
            await response.read()
            return response
