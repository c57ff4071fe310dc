"""What a runner knows of GitHub's limits, shared by every job it runs: each installation's primary
budget as GitHub's latest answer reported it, the pacer of content-creating requests, and the clock
and sleep they are measured with (tests inject a fake clock)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import cachetools

from .pacing import MemoryPacer, Pacer

MAX_SLEEP = 60.0  # seconds a worker sleeps through at most; a longer wait defers the job
APP = "app"  # the budget key of requests made as the App (its JWT), not as an installation


@dataclass
class Budget:
    """One installation's primary rate limit (`core`), from the `x-ratelimit-*` headers of every answer."""

    remaining: int | None = None  # None: no answer seen yet
    reset: float = 0.0  # seconds since the epoch

    def observe(self, headers: Mapping[str, str]) -> None:
        """Keep what an answer says; a late answer from an older window changes nothing, and answers
        in flight together keep the lowest count."""
        if headers.get("x-ratelimit-resource", "core") != "core":
            return
        try:
            remaining = int(headers["x-ratelimit-remaining"])
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        if reset < self.reset:
            return
        if reset == self.reset and self.remaining is not None:
            remaining = min(remaining, self.remaining)
        self.remaining, self.reset = remaining, reset

    def spent_until(self, now: float) -> float | None:
        """The reset time when the budget is spent and the reset is still ahead, else None."""
        return self.reset if self.remaining == 0 and self.reset > now else None


class Limits:
    """The runner's view of GitHub's limits, handed to every client it makes."""

    def __init__(
        self,
        pacer: Pacer | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_sleep: float = MAX_SLEEP,
        installations: int = 10_000,
    ) -> None:
        self.pacer: Pacer = pacer if pacer is not None else MemoryPacer(clock)
        self.clock = clock
        self.sleep = sleep
        self.max_sleep = max_sleep
        self._budgets: cachetools.LRUCache[str, Budget] = cachetools.LRUCache(maxsize=installations)

    def budget(self, key: str) -> Budget:
        """The budget of an installation (its id as a string) or of the App (`APP`)."""
        found = self._budgets.get(key)
        if found is None:
            found = self._budgets[key] = Budget()
        return found
