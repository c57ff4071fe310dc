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
