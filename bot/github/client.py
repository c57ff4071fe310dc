"""The gidgethub client the App uses: retries on GitHub's transient failures, counts traffic.

gidgethub raises RateLimitExceeded only for a 403 with `x-ratelimit-remaining: 0`; secondary rate
limits (403 or 429 with `retry-after`) and 5xx answers are retried here
(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import gidgethub
import gidgethub.aiohttp

from .caches import Caches

MAX_ATTEMPTS = 4
MAX_WAIT = 60.0


class Deferred(Exception):
    """GitHub asks for a pause longer than a worker should sleep (primary budget spent, a long
    `retry-after`): the queue runs the job again at `until` (seconds since the epoch)."""

    def __init__(self, until: float, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


@dataclass
class Traffic:
    """Requests and bytes sent, for the benchmark and the logs."""

    requests: int = 0
    bytes_sent: int = 0


class GitHubClient(gidgethub.aiohttp.GitHubAPI):
    """gidgethub's aiohttp client with retries and a traffic count."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *args: Any,
        backoff: float = 1.0,
        caches: Caches | None = None,
        **kwargs: Any,
    ) -> None:
        self.caches = caches or Caches()
        super().__init__(session, *args, cache=self.caches.etags, **kwargs)
        self.backoff = backoff
        self.traffic = Traffic()

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.traffic.requests += 1
            self.traffic.bytes_sent += len(body)
            try:
                return await super()._request(method, url, headers, body)
            except (TimeoutError, aiohttp.ClientConnectionError):
                if attempt == MAX_ATTEMPTS:
                    raise
                await self.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: gidgethub.HTTPException, attempt: int
    ) -> bool:
        """Retry 5xx answers and secondary rate limits, waiting as GitHub asks."""
        if attempt >= MAX_ATTEMPTS:
            return False
        status = int(exception.status_code)
        headers = getattr(exception, "headers", None) or {}
        retry_after = headers.get("retry-after")
        if status >= 500 or status == 429 or (status == 403 and retry_after is not None):
            wait = float(retry_after) if retry_after else self.backoff * 2 ** (attempt - 1)
            await self.sleep(min(wait, MAX_WAIT))
            return True
        return False


def usable_ref(ref: str) -> bool:
    """Whether every slash-separated part of a ref name is a path segment of its own (none empty, `.`
    or `..`, which git forbids and a URL would resolve away)."""
    return all(part not in ("", ".", "..") for part in ref.split("/"))


def ref_url(endpoint: str, ref: str) -> str:
    """The URL template of a ref (`endpoint` is `ref` to read one, `refs` to move one): the ref name
    percent-encoded here, once, slashes kept, so that `feature#x`, `a%41b` or `a?b` address their own
    ref; never put a ref name in a URL template's variables (`{+branch}` leaves `#`, `?` and `%41` raw)."""
    if not usable_ref(ref):
        raise ValueError(f"not a usable ref name: {ref!r}")
    return "/repos/{owner}/{repo}/git/" + endpoint + "/" + quote(ref, safe="/")
