"""`repodoc serve` as a real process: environment in, signed webhook over loopback, pull request out."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.appworld import FULL, World
from tests.serving import Client, serve_process


async def test_repodoc_serve_process_end_to_end(world: World, tmp_path):
    with serve_process(tmp_path, world.standin.url) as (base, _, _):
        async with aiohttp.ClientSession() as session:
            world.client = Client(session, base)
            world.local.write("m.py", '"""A module."""\n')
            world.local.commit("one")
            response = await world.push_and_deliver()
            assert response.status == 202
            deadline = time.monotonic() + 60
            while not world.standin.open_pulls(FULL):
                assert time.monotonic() < deadline, "no pull request appeared"
                await asyncio.sleep(0.1)
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
