from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


import functools  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

APP_ID = "123456"


@functools.cache
def app_keys() -> tuple[str, str]:
    """A fresh RSA key pair (PEM private, PEM public) for the test App."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
async def standin(tmp_path: Path, aiohttp_server):
    from tests.standin.server import GitHubStandIn

    fake = GitHubStandIn(tmp_path / "github", APP_ID, app_keys()[1])
    (tmp_path / "github").mkdir()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    yield fake
    assert fake.errors == [], "\n\n".join(fake.errors)


@pytest.fixture
async def world(tmp_path: Path, standin, aiohttp_client):
    from tests.appworld import SECRET, World
    from webhooks.app import create_app
    from webhooks.settings import Settings

    settings = Settings(APP_ID, app_keys()[0], SECRET, api_url=standin.url)
    client = await aiohttp_client(create_app(settings, backoff=0))
    return World(tmp_path, standin, client)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server on a free loopback port for the session (installed by .ci/test)."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run `bash .ci/test`, which installs it")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
async def redis_url(redis_server):
    """The session's Redis, emptied for this test."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_server)
    await client.flushdb()
    await client.aclose()
    return redis_server


@pytest.fixture
async def redis_world(tmp_path: Path, standin, aiohttp_client, redis_url):
    """The App in distributed mode: the server queues in Redis, `settle` runs a worker."""
    from tests.appworld import SECRET, World
    from webhooks.app import create_app
    from webhooks.settings import Settings

    settings = Settings(APP_ID, app_keys()[0], SECRET, api_url=standin.url, redis_url=redis_url)
    client = await aiohttp_client(create_app(settings, backoff=0))
    return World(tmp_path, standin, client, redis_url=redis_url)
