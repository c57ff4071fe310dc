"""Content-creating requests paced under GitHub's documented secondary limits, per installation.

"In general, no more than 80 content-generating requests per minute and no more than 500 content-generating
requests per hour", and "no more than 900 points per minute" per REST endpoint, a POST, PATCH, PUT or
DELETE costing 5 points
(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits).
Each limit is a sliding window of send times; a request books the earliest moment that keeps every window
of its installation, so concurrent jobs queue behind each other (first come, first booked). One pacer is
shared by every job of a runner: `MemoryPacer` in one process, `RedisPacer` across `repodoc worker`s.
"""

from __future__ import annotations

import bisect
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import cachetools


@dataclass(frozen=True)
class Window:
    """At most `limit` content-creating requests in any `period` seconds (per endpoint, or in all)."""

    limit: int
    period: float
    per_endpoint: bool = False


WRITE_POINTS = 5
WINDOWS = (Window(80, 60.0), Window(500, 3600.0), Window(900 // WRITE_POINTS, 60.0, per_endpoint=True))
_VARIABLE = re.compile(r"/(?:\d+|[0-9a-f]{40})(?=/|$)")


def endpoint(method: str, url: str) -> str:
    """The endpoint a request counts against: method and path, numbers and shas generalised, no query;
    everything after `git/refs/` is one ref."""
    path = re.sub(r"^[a-z]+://[^/]+", "", url).split("?", 1)[0]
    path = re.sub(r"/git/refs/.*$", "/git/refs/{ref}", path)
    return f"{method} {_VARIABLE.sub('/{n}', path)}"


class Pacer(Protocol):
    """Books send times for content-creating requests, shared by every job of an installation."""

    async def book(self, installation: str, endpoint: str, max_wait: float) -> float:
        """Book the earliest send time within `max_wait` seconds that keeps every window, and return the
        seconds until it (0: send now); past `max_wait`, book nothing and return the wait it would take."""
        ...


def _earliest(now: float, sent: list[list[float]], windows: tuple[Window, ...]) -> float:
    """The earliest time ≥ now, and ≥ every booked time, at which one more request keeps each window
    (`sent[i]`: the ascending times booked in windows[i])."""
    at = max([now] + [times[-1] for times in sent if times])
    for times, window in zip(sent, windows, strict=True):
        if len(times) >= window.limit:
            at = max(at, times[len(times) - window.limit] + window.period)
    return at


class MemoryPacer:
    """The pacer of one process (the embedded queue): windows kept in memory, per installation."""

    def __init__(
        self, clock: Callable[[], float] = time.time, windows: tuple[Window, ...] = WINDOWS, keys: int = 10_000
    ) -> None:
        self.clock = clock
        self.windows = windows
        self._sent: cachetools.LRUCache[str, list[float]] = cachetools.LRUCache(maxsize=keys)

    def _times(self, key: str, horizon: float) -> list[float]:
        times = self._sent.get(key)
        if times is None:
            times = self._sent[key] = []
        del times[: bisect.bisect_right(times, horizon)]
        return times

    async def book(self, installation: str, endpoint: str, max_wait: float) -> float:
        now = self.clock()
        keys = [f"{installation} {i}" + (" " + endpoint if w.per_endpoint else "") for i, w in enumerate(self.windows)]
        sent = [self._times(key, now - w.period) for key, w in zip(keys, self.windows, strict=True)]
        at = _earliest(now, sent, self.windows)
        if at - now <= max_wait:
            for times in sent:
                times.append(at)
        return at - now


# KEYS: one sorted set per window; ARGV: now, max_wait, a unique member, then limit and period per window.
# Scores are send times; answers the wait as a string (Lua numbers would come back as integers).
_BOOK = """
local now, max_wait, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local at = now
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[3 + 2 * i]))
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then at = math.max(at, tonumber(last[2])) end
end
for i, key in ipairs(KEYS) do
  local limit, period = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local oldest = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
    at = math.max(at, tonumber(oldest[2]) + period)
  end
end
if at - now <= max_wait then
  for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, at, member)
    redis.call('PEXPIRE', key, math.ceil((at - now + tonumber(ARGV[3 + 2 * i])) * 1000) + 1000)
  end
end
return tostring(at - now)
"""


class RedisPacer:
    """The pacer of `repodoc worker`s: the same windows as sorted sets in Redis, booked atomically by one
    Lua script, so every worker of every installation's jobs shares them."""

    PREFIX = "repodoc:pace:"

    def __init__(
        self, redis: Any, clock: Callable[[], float] = time.time, windows: tuple[Window, ...] = WINDOWS
    ) -> None:
        self.redis = redis
        self.clock = clock
        self.windows = windows
        self._script = redis.register_script(_BOOK)

    async def book(self, installation: str, endpoint: str, max_wait: float) -> float:
        keys = [
            f"{self.PREFIX}{installation}:{i}" + (":" + endpoint if w.per_endpoint else "")
            for i, w in enumerate(self.windows)
        ]
        args: list[Any] = [repr(self.clock()), repr(max_wait), uuid.uuid4().hex]
        for w in self.windows:
            args += [w.limit, repr(w.period)]
        return float(await self._script(keys=keys, args=args))
