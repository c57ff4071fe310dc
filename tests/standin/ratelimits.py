"""The stand-in's rate limits, as GitHub answers them: `x-ratelimit-*` headers on every answer, a primary
budget per installation (403 with `x-ratelimit-remaining: 0` when spent; answers 304 do not count), and a
secondary limit on content-creating requests (403 or 429 with GitHub's message, `retry-after` if the test
wants one). Tests set budgets and limits, and may replace `clock`.
(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api)
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

WRITES = ("POST", "PATCH", "PUT", "DELETE")
PRIMARY = "API rate limit exceeded for installation ID {}."
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {}."
)
DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
HOUR = 3600.0


@dataclass
class Budget:
    """A primary rate limit: `limit` requests until `reset` (seconds since the epoch), when `used` goes
    back to 0 for another hour."""

    limit: int = 5000
    used: int = 0
    reset: float = 0.0

    def headers(self) -> dict[str, str]:
        """The `x-ratelimit-*` headers GitHub sends with every answer."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.limit - self.used),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(int(self.reset)),
            "x-ratelimit-resource": "core",
        }


@dataclass
class SecondaryLimit:
    """Content-creating requests past `writes` in any `period` seconds are answered `status` with GitHub's
    secondary-limit message, and `retry-after` when set."""

    writes: int
    period: float = 60.0
    retry_after: int | None = None
    status: int = 403
    sent: list[float] = field(default_factory=list)


class RateLimits:
    """Every budget the stand-in keeps, by installation id, "app" (a JWT) or "anonymous"."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.budgets: dict[str, Budget] = {}
        self.installation_of: dict[str, int] = {}  # token → the installation it was issued for
        self.secondary: SecondaryLimit | None = None
        self.refused = 0  # requests answered with a rate-limit refusal
        self.writes: list[float] = []  # when each content-creating request was let through

    def set_budget(self, key: int | str, limit: int, reset: float | None = None, used: int = 0) -> Budget:
        """Give an installation (or "app") `limit` requests until `reset` (default: an hour from now)."""
        budget = Budget(limit, used, self.clock() + HOUR if reset is None else reset)
        self.budgets[str(key)] = budget
        return budget

    def key(self, authorization: str) -> str:
        """Whose budget a request counts against: its token's installation, the App (a JWT), or anonymous."""
        scheme, _, value = authorization.partition(" ")
        if value in self.installation_of:
            return str(self.installation_of[value])
        return "app" if scheme.lower() == "bearer" and value.count(".") == 2 else "anonymous"

    def budget(self, key: str) -> Budget:
        """The key's budget (5,000 an hour unless a test set one), renewed once its reset has passed."""
        budget = self.budgets.get(key) or self.set_budget(key, 5000)
        if budget.reset <= self.clock():
            budget.used, budget.reset = 0, self.clock() + HOUR
        return budget

    def refusal(self, method: str, key: str, spent: bool) -> web.Response | None:
        """GitHub's 403 for a spent primary budget, or for a content-creating request past the secondary limit."""
        if spent:
            message = PRIMARY.format(key) if key.isdigit() else "API rate limit exceeded."
            self.refused += 1
            return _answer(403, message, DOCS, {})
        if method not in WRITES or not key.isdigit():  # an installation's content-creating requests
            return None
        now, limit = self.clock(), self.secondary
        if limit is not None:
            limit.sent[:] = [t for t in limit.sent if t > now - limit.period]
        if limit is None or len(limit.sent) < limit.writes:
            self.writes.append(now)
            if limit is not None:
                limit.sent.append(now)
            return None
        self.refused += 1
        headers = {} if limit.retry_after is None else {"retry-after": str(limit.retry_after)}
        message = SECONDARY.format(secrets.token_hex(8).upper())
        return _answer(limit.status, message, DOCS + "#about-secondary-rate-limits", headers)


def _answer(status: int, message: str, docs: str, headers: dict[str, str]) -> web.Response:
    body = json.dumps({"message": message, "documentation_url": docs})
    return web.Response(text=body, status=status, content_type="application/json", headers=headers)
