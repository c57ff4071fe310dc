"""Logs: JSON lines when stderr is not a terminal (every line, the delivery's id on a delivery's lines),
text on a terminal, and no secret in either."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import logs
from tests.appworld import FULL, SECRET, World
from tests.conftest import app_keys
from tests.serving import Client, app_env, free_port, serve_process

TOKEN = "ghs_" + "a1B2" * 9


def lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed as one JSON object (fails on any other line)."""
    parsed = []
    for line in text.splitlines():
        found = json.loads(line)
        assert isinstance(found, dict), line
        parsed.append(found)
    return parsed


@contextlib.contextmanager
def configured(stream: Any) -> Iterator[logs.Redactor]:
    """The root logger configured by logs.configure into stream; everything it changed restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, sys.excepthook, threading.excepthook
    try:
        yield logs.configure([SECRET, app_keys()[0], "redis-pass"], stream)
    finally:
        root.handlers[:], sys.excepthook, threading.excepthook = saved[0], saved[2], saved[3]
        root.setLevel(saved[1])
        logging.captureWarnings(False)


@pytest.fixture
def captured():
    """logs.configure into a string (not a terminal)."""
    stream = io.StringIO()
    with configured(stream) as redact:
        yield stream, redact


def test_secrets_are_redacted_wherever_they_appear(captured):
    stream, _ = captured
    log = logging.getLogger("repodoc.test")
    key = app_keys()[0]
    log.info("secret %s and key %s", SECRET, key, extra={"delivery": "d-1", "header": f"token {TOKEN}"})
    log.info("headers %s", {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})
    log.info("Authorization: token %s", "opaque-value-1234")
    log.warning("Redis at redis://:redis-pass@127.0.0.1:6379/0 and redis://user:other@host/0")
    log.info("a JWT eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJl in passing")
    log.info("one line of the key: %s", key.splitlines()[3])
    try:
        raise RuntimeError(f"failed with {SECRET!r}")
    except RuntimeError:
        log.exception("a bug")
    warnings_logger = logging.getLogger("arq.worker")
    warnings_logger.info("library line with %s", TOKEN)
    text = stream.getvalue()
    found = lines(text)
    assert len(found) == 8
    for secret in (SECRET, json.dumps(SECRET)[1:-1], TOKEN, "opaque-value-1234", "redis-pass", "other", "c2lnbmF0dXJl"):
        assert secret not in text, secret
    for line in key.splitlines()[1:-1]:
        assert line not in text
    assert "BEGIN PRIVATE KEY" not in text
    assert found[0]["delivery"] == "d-1" and found[0]["header"] == "token [redacted]"
    assert "application/json" in found[1]["message"]  # what is not a secret stays
    assert found[3]["message"] == "Redis at redis://:[redacted]@127.0.0.1:6379/0 and redis://user:[redacted]@host/0"
    assert found[6]["level"] == "error" and "RuntimeError" in found[6]["exception"]
    assert found[7]["logger"] == "arq.worker"


def test_text_on_a_terminal():
    main, follower = os.openpty()
    try:
        with os.fdopen(os.dup(follower), "w") as terminal, configured(terminal):
            logging.getLogger("repodoc.test").info("plain text with %s", SECRET)
        output = os.read(main, 4096).decode()
    finally:
        os.close(main)
        os.close(follower)
    assert "repodoc.test INFO plain text with [redacted]" in output
    with pytest.raises(json.JSONDecodeError):
        json.loads(output.splitlines()[0])


async def test_serve_process_logs_json_lines_with_the_delivery_id(world: World, tmp_path: Path):
    """`repodoc serve` with stderr to a file: every line is JSON, the delivery's lines carry its id (the
    access log's with the event and outcome, the job's with its key, outcome, duration and requests)."""
    with serve_process(tmp_path, world.standin.url) as (base, _, log):
        async with aiohttp.ClientSession() as session:
            world.client = Client(session, base)
            world.local.write("m.py", '"""A module."""\n')
            world.local.commit("one")
            assert (await world.push_and_deliver(delivery="delivery-42")).status == 202
            deadline = time.monotonic() + 60
            while '"job delivery-42' not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.1)
    text = log.read_text()
    found = lines(text)
    assert SECRET not in text and "BEGIN" not in text
    ours = [line for line in found if "delivery-42" in line["message"]]
    assert ours and all(line["delivery"] == "delivery-42" for line in ours)
    [access] = [line for line in ours if line["logger"] == "aiohttp.access"]
    assert (access["event"], access["outcome"], access["status"], access["path"]) == (
        "push",
        "queued",
        202,
        "/webhooks",
    )
    [job] = [line for line in ours if line["logger"] == "repodoc.jobs"]
    assert (job["kind"], job["key"], job["outcome"]) == (
        "sync",
        FULL,
        "opened",
    )  # the default branch: the repository's key
    assert job["requests"] >= 5 and job["duration_ms"] > 0
    assert {line["logger"] for line in found} >= {"repodoc.webhooks", "aiohttp.access", "repodoc.jobs"}


def test_serve_process_on_a_terminal_writes_text(tmp_path: Path):
    port = free_port()
    env = app_env(tmp_path, "http://127.0.0.1:9", RECONCILE_INTERVAL="0", PORT=str(port))
    main, follower = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    try:
        deadline = time.monotonic() + 60
        while b"sweeps: off" not in output:
            assert proc.poll() is None and time.monotonic() < deadline, output
            if select.select([main], [], [], 0.2)[0]:
                output += os.read(main, 4096)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        os.close(main)
    text = output.decode()
    assert "repodoc.webhooks INFO queue: in-process; this server runs the jobs" in text
    assert not text.lstrip().startswith("{") and SECRET not in text
