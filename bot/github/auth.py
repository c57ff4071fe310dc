"""GitHub App authentication: the App's JWT and cached installation tokens.

The JWT is issued 60 s in the past for clock skew and lives 9 minutes, under GitHub's 10-minute cap
(https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app).
Installation tokens live an hour; they are cached per installation and renewed 5 minutes early
(https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app).
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cachetools
import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key

CLOCK_SKEW = 60
JWT_LIFETIME = 540
RENEW_BEFORE = 300


@dataclass(frozen=True)
class AppCredentials:
    """The App's id and private key; repr never shows the key."""

    app_id: str
    private_key: str = field(repr=False)


def app_jwt(creds: AppCredentials, now: float | None = None) -> str:
    """An RS256 JWT identifying the App."""
    issued = int(now if now is not None else time.time()) - CLOCK_SKEW
    payload = {"iat": issued, "exp": issued + JWT_LIFETIME, "iss": creds.app_id}
    return jwt.encode(payload, _signing_key(creds.private_key), algorithm="RS256")


async def app_jwt_off_loop(creds: AppCredentials) -> str:
    """app_jwt in a thread: loading an RSA key takes tens of milliseconds (once per key), signing about
    one, and neither should hold the event loop that answers webhooks."""
    return await asyncio.to_thread(app_jwt, creds)


async def load_key(creds: AppCredentials) -> None:
    """Load the App's private key now, in a thread (at startup, before deliveries come in)."""
    await asyncio.to_thread(_signing_key, creds.private_key)


@functools.lru_cache(maxsize=4)
def _signing_key(pem: str) -> Any:
    """The private key, loaded once (loading checks the RSA key, which is slow); thread-safe."""
    return load_pem_private_key(pem.encode(), password=None)


def _expiry(_key: int, value: tuple[str, float], now: float) -> float:
    return value[1] - RENEW_BEFORE


class TokenCache:
    """Installation tokens per installation id, renewed before they expire."""

    def __init__(self, creds: AppCredentials, maxsize: int = 1024) -> None:
        self.creds = creds
        self._tokens: cachetools.TLRUCache[int, tuple[str, float]] = cachetools.TLRUCache(
            maxsize=maxsize, ttu=_expiry, timer=time.time
        )

    async def token(self, gh: Any, installation_id: int) -> str:
        """A valid installation token, from the cache or freshly requested."""
        cached = self._tokens.get(installation_id)
        if cached is not None:
            return cached[0]
        data = await gh.post(
            f"/app/installations/{installation_id}/access_tokens", data=b"", jwt=await app_jwt_off_loop(self.creds)
        )
        expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00")).timestamp()
        self._tokens[installation_id] = (data["token"], expires)
        return str(data["token"])
