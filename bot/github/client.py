"""The gidgethub client the App uses: GitHub's rate limits as documented, paced writes, safe retries.

As https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api and
.../best-practices-for-using-the-rest-api describe them:
- primary limit: every answer's `x-ratelimit-remaining`/`-reset` is kept per installation (`Budget`, in the
  runner's `Limits`); before each request, a spent budget whose reset is ahead raises `Deferred(until=reset)`,
  and so does an answer 403/429 with `x-ratelimit-remaining: 0`: a worker never sleeps until a reset;
- secondary limits (403/429 with `retry-after`, or GitHub's secondary-limit message): wait `retry-after`
  seconds (no cap), else at least a minute, doubling on each refusal; a wait past `Limits.max_sleep`
  raises `Deferred`;
- 5xx, timeouts and dropped connections: retried with jitter, only when sending the request again is
  harmless (reads, PATCH/PUT/DELETE, content-addressed POSTs, access tokens); any other POST (a pull
  request, a comment, a check run, a ref) raises, so that its caller checks whether its effect is there;
- content-creating requests first book a send time with the runner's pacer (`bot/github/pacing.py`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import gidgethub
import gidgethub.aiohttp

from .. import metrics
from . import pacing
from .caches import Caches
from .limits import APP, Limits

MAX_ATTEMPTS = 4  # sends of one request failing with 5xx, a timeout or a dropped connection
RATE_ATTEMPTS = 6  # sends of one request refused by a secondary limit, before the job is deferred
SECONDARY_WAIT = 60.0  # "wait for at least one minute before retrying"
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# POSTs whose repetition is harmless: git objects are addressed by content, a token is just another token
_REPEATABLE_POST = re.compile(r"(/repos/[^/]+/[^/]+/git/(trees|commits|blobs)|/app/installations/\d+/access_tokens)$")
_SECONDARY = ("secondary rate limit", "abuse detection")


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


def repeatable(method: str, url: str) -> bool:
    """Whether sending a request again, after an answer that may have come after its effect, is harmless."""
    return method != "POST" or _REPEATABLE_POST.search(urlsplit(url).path) is not None


class GitHubClient(gidgethub.aiohttp.GitHubAPI):
    """gidgethub's aiohttp client with GitHub's rate limits, paced writes, retries and a traffic count;
    `installation` (None: the App itself) names whose budget and pacer windows its requests count against."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *args: Any,
        backoff: float = 1.0,
        caches: Caches | None = None,
        limits: Limits | None = None,
        installation: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.caches = caches or Caches()
        super().__init__(session, *args, cache=self.caches.etags, **kwargs)
        self.backoff = backoff
        self.limits = limits or Limits()
        self.installation = installation
        self.key = APP if installation is None else str(installation)
        self.budget = self.limits.budget(self.key)
        self.traffic = Traffic()
        self.last_status = 0  # of the last answer (gidgethub returns only the data; 200 vs 201 can matter)

    async def sleep(self, seconds: float) -> None:
        await self.limits.sleep(seconds)

    def _jittered(self, attempt: int) -> float:
        return self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self._admit(method, url)
            self.traffic.requests += 1
            self.traffic.bytes_sent += len(body)
            try:
                status, answer, data = await super()._request(method, url, headers, body)
            except aiohttp.ClientConnectorError:  # never reached GitHub: always safe to send again
                metrics.github_request(method, None, self.key, None)
                if attempt == MAX_ATTEMPTS:
                    raise
            except (TimeoutError, aiohttp.ClientConnectionError):
                metrics.github_request(method, None, self.key, None)
                if attempt == MAX_ATTEMPTS or not repeatable(method, url):
                    raise
            else:
                self.budget.observe(answer)
                metrics.github_request(method, status, self.key, self.budget.remaining)
                self.last_status = status
                return status, answer, data
            await self.sleep(self._jittered(attempt))
        raise AssertionError("unreachable")

    async def _admit(self, method: str, url: str) -> None:
        """Defer while the budget is spent; book a content-creating request's send time, and wait for it."""
        now = self.limits.clock()
        until = self.budget.spent_until(now)
        if until is not None:
            raise Deferred(until, f"the rate limit of {self.key} is spent until {until:.0f}")
        if method not in WRITES or self.installation is None:
            return
        wait = await self.limits.pacer.book(self.key, pacing.endpoint(method, url), self.limits.max_sleep)
        if wait > self.limits.max_sleep:
            raise Deferred(now + wait, f"{self.key} has sent as many content-creating requests as GitHub allows")
        if wait > 0:
            await self.sleep(wait)

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: gidgethub.HTTPException, attempt: int
    ) -> bool:
        """Retry rate-limit refusals as GitHub asks (or defer the job), and 5xx answers when harmless."""
        status = int(exception.status_code)
        headers: Mapping[str, str] = getattr(exception, "headers", None) or {}
        if status in (403, 429):
            wait = self.rate_wait(status, headers, str(exception), attempt)
            if wait is None:
                return False
            now = self.limits.clock()
            if wait > self.limits.max_sleep or attempt >= RATE_ATTEMPTS:
                raise Deferred(now + wait, f"GitHub's rate limit ({status} to {method} {url}): wait {wait:.0f} s")
            await self.sleep(wait)
            return True
        if status >= 500 and attempt < MAX_ATTEMPTS and repeatable(method, url):
            await self.sleep(self._jittered(attempt))
            return True
        return False

    def rate_wait(self, status: int, headers: Mapping[str, str], message: str, attempt: int) -> float | None:
        """Seconds to wait before sending a refused request again, as GitHub documents it; None when the
        refusal is no rate limit (a 403 for lack of permission). A spent primary budget raises Deferred."""
        now = self.limits.clock()
        if headers.get("x-ratelimit-remaining") == "0":
            self.budget.observe(headers)
            until = self.budget.spent_until(now)
            if until is not None:
                raise Deferred(until, f"the rate limit of {self.key} is spent until {until:.0f}: {message}")
            return 0.0
        retry_after = headers.get("retry-after")
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after)
        if status == 429 or any(words in message.lower() for words in _SECONDARY):
            return SECONDARY_WAIT * self.backoff * 2 ** (attempt - 1)
        return None


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
