"""The distributed mode: jobs queued in Redis with arq and run by `repodoc worker` processes.

The webhook server only enqueues (a delivery id is claimed with SET NX for a day, so a redelivery
of a queued or finished delivery is answered as a duplicate; a failed job releases its claim).
Workers take one repository at a time under a Redis lock, so pushes to one repository never race.
A job failing for a transient reason is retried by arq (`Retry(defer=...)`, `max_tries`); a deferred
one (GitHub asks for a pause) is queued afresh for the time GitHub named, which costs it no try; one
that fails for good shows a failed `repodoc` check run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Retry, Worker, func
from redis.exceptions import RedisError

from . import metrics
from .github.auth import AppCredentials
from .github.limits import Limits
from .github.pacing import RedisPacer
from .jobs import (
    BOOTSTRAP_SPACING,
    RETRY_DELAY,
    Bootstrap,
    Forget,
    Job,
    QueueUnavailable,
    Retries,
    Runner,
    deferral,
    describe,
    job_from_dict,
    transient,
)

log = logging.getLogger("repodoc.worker")
FUNCTION = "repodoc_sync"
DELIVERY_KEY = "repodoc:delivery:{}"
SWEEP_KEY = "repodoc:sweep"
LOCK_KEY = "repodoc:lock:{}/{}"
FORGOTTEN_KEY = "repodoc:forgotten:{}/{}"  # when the App lost access to a repository (its earlier jobs are dropped)
CLAIM_SECONDS = 24 * 3600
JOB_TIMEOUT = 900
REDIS_TIMEOUT = 5.0  # seconds to connect or answer: a delivery must not wait on a dead Redis
DOWN = (RedisError, OSError, asyncio.TimeoutError)  # what a Redis that is down or unreachable raises


def redacted(url: str) -> str:
    """The Redis URL without its password, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


class RedisQueue:
    """The webhook server's side: enqueue jobs for workers."""

    def __init__(self, pool: ArqRedis, spacing: float = BOOTSTRAP_SPACING) -> None:
        self.pool = pool
        self.spacing = spacing

    @classmethod
    def connect(cls, url: str, spacing: float = BOOTSTRAP_SPACING) -> RedisQueue:
        """A queue on the Redis server at url; connects on first use, so the server starts (and answers
        503) while Redis is down."""
        return cls(ArqRedis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT), spacing)

    async def enqueue(self, job: Job) -> bool:
        """Claim the delivery and queue the job; QueueUnavailable (claim released) when Redis fails."""
        key = DELIVERY_KEY.format(job.delivery)
        try:
            if not await self.pool.set(key, "queued", nx=True, ex=CLAIM_SECONDS):
                return False
        except DOWN as exc:
            raise QueueUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc
        try:
            data = {**job.to_dict(), "queued_at": time.time()}
            if isinstance(job, Forget):  # the workers drop every job of the repository queued before now
                await self.pool.set(
                    FORGOTTEN_KEY.format(job.owner, job.repo).lower(), str(time.time()), ex=CLAIM_SECONDS
                )
            else:
                delay = job.position * self.spacing if isinstance(job, Bootstrap) else 0
                await self.pool.enqueue_job(FUNCTION, data, _defer_by=delay or None)  # de-duplicated by the claim
        except DOWN as exc:
            with contextlib.suppress(*DOWN):
                await self.pool.delete(key)
            raise QueueUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc
        return True

    async def health(self) -> dict[str, Any]:
        """Raises QueueUnavailable when Redis does not answer."""
        try:
            await self.pool.ping()
            pending = len(await self.pool.queued_jobs())
        except DOWN as exc:
            raise QueueUnavailable(f"Redis: {type(exc).__name__}") from exc
        return {"status": "ok", "queue": "redis", "pending": pending}

    async def claim_sweep(self, seconds: int) -> bool:
        """Whether this server runs the sweep now: the first to ask in `seconds` does (SET NX), so one
        sweep runs however many servers share the Redis; False too while Redis is down."""
        try:
            return bool(await self.pool.set(SWEEP_KEY, "claimed", nx=True, ex=max(int(seconds), 1)))
        except DOWN as exc:
            log.error("sweep skipped: Redis: %s", type(exc).__name__)
            return False

    async def close(self) -> None:
        await self.pool.aclose()


async def sync(ctx: dict[str, Any], job_data: dict[str, Any]) -> str:
    """The worker's job: one repository at a time. A transient failure raises arq's Retry (with
    backoff) until the last try; a deferral queues the job again for later; a failure for good is
    reported as a check run and releases the delivery's claim, so that a redelivery can retry it."""
    job = job_from_dict(job_data)
    redis: ArqRedis = ctx["redis"]
    forgotten = await redis.get(FORGOTTEN_KEY.format(job.owner, job.repo).lower())
    if forgotten is not None and float(forgotten) > float(job_data.get("queued_at") or 0):
        done = metrics.job_finished(job, "dropped")
        log.info("job %s (%s %s): dropped, the App's access ended", job.delivery, job.kind, job.key, extra=done)
        return "dropped"
    runner: Runner = ctx["runner"]
    retries: Retries = ctx["retries"]
    tries = int(ctx.get("job_try") or 1)
    try:
        async with redis.lock(LOCK_KEY.format(job.owner, job.repo), timeout=JOB_TIMEOUT, blocking_timeout=JOB_TIMEOUT):
            outcome = await runner.run(job)
    except Exception as exc:  # noqa: BLE001 - reported here; arq keeps only the word "failed"
        until = deferral(exc)
        if until is not None:
            await redis.enqueue_job(FUNCTION, job_data, _defer_until=datetime.fromtimestamp(until, UTC))
            done = metrics.job_finished(job, "deferred")
            log.info("job %s for %s/%s deferred until %s", job.delivery, job.owner, job.repo, until, extra=done)
            return "deferred"
        reason = describe(exc)
        again = (transient(exc) or isinstance(exc, RedisError)) and tries < retries.tries
        done = {**metrics.job_finished(job, "retrying" if again else "failed"), "try": tries}
        log.error("job %s for %s/%s failed (try %d): %s", job.delivery, job.owner, job.repo, tries, reason, extra=done)
        if again:
            raise Retry(defer=retries.wait(tries)) from exc
        await redis.delete(DELIVERY_KEY.format(job.delivery))
        await runner.report_failure(job, reason, tries)
        return "failed"
    done = metrics.job_finished(job, outcome.action)
    log.info("job %s (%s %s): %s %s", job.delivery, job.kind, job.key, outcome.action, outcome.reason, extra=done)
    return outcome.action


def make_worker(
    redis_url: str,
    creds: AppCredentials,
    api_url: str,
    *,
    burst: bool = False,
    backoff: float = 1.0,
    handle_signals: bool = True,
    retries: Retries | None = None,
) -> Worker:
    """An arq worker running sync jobs with one shared session, token cache and ETag cache; its writes
    are paced in Redis, with every other worker's; retries default to RETRY_DELAY scaled by backoff
    (0 in tests: retried at once)."""
    policy = retries or Retries(delay=RETRY_DELAY * backoff)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["session"] = aiohttp.ClientSession()
        ctx["runner"] = Runner(ctx["session"], creds, api_url, backoff, Limits(RedisPacer(ctx["redis"])))
        ctx["retries"] = policy

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["session"].close()

    return Worker(
        functions=[func(sync, name=FUNCTION, max_tries=policy.tries, timeout=JOB_TIMEOUT)],
        redis_settings=RedisSettings.from_dsn(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=handle_signals,
        max_jobs=4,
        keep_result=3600,
        poll_delay=0.2,
    )
