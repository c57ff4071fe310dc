"""The distributed mode: jobs queued in Redis with arq and run by `repodoc worker` processes.

The webhook server only enqueues (a delivery id is claimed with SET NX for a day, so a redelivery
of a queued or finished delivery is answered as a duplicate; a failed job releases its claim).
Workers take one repository at a time under a Redis lock, so pushes to one repository never race.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import aiohttp
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, func

from .github.auth import AppCredentials
from .jobs import Job, Runner

log = logging.getLogger("repodoc.worker")
FUNCTION = "repodoc_sync"
DELIVERY_KEY = "repodoc:delivery:{}"
LOCK_KEY = "repodoc:lock:{}/{}"
CLAIM_SECONDS = 24 * 3600
JOB_TIMEOUT = 900


class RedisQueue:
    """The webhook server's side: enqueue jobs for workers."""

    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, url: str) -> RedisQueue:
        """A queue on the Redis server at url."""
        return cls(await create_pool(RedisSettings.from_dsn(url)))

    async def enqueue(self, job: Job) -> bool:
        if not await self.pool.set(DELIVERY_KEY.format(job.delivery), "queued", nx=True, ex=CLAIM_SECONDS):
            return False
        await self.pool.enqueue_job(FUNCTION, asdict(job))  # deliveries are de-duplicated by the claim above
        return True

    async def health(self) -> dict[str, Any]:
        """Raises when Redis does not answer."""
        await self.pool.ping()
        return {"status": "ok", "queue": "redis", "pending": len(await self.pool.queued_jobs())}

    async def close(self) -> None:
        await self.pool.aclose()


async def sync(ctx: dict[str, Any], job_data: dict[str, Any]) -> str:
    """The worker's job: one repository at a time; a failure is logged and releases the delivery's
    claim, so that GitHub's redelivery can retry it."""
    job = Job(**job_data)
    redis: ArqRedis = ctx["redis"]
    runner: Runner = ctx["runner"]
    async with redis.lock(LOCK_KEY.format(job.owner, job.repo), timeout=JOB_TIMEOUT, blocking_timeout=JOB_TIMEOUT):
        try:
            outcome = await runner.run(job)
        except Exception as exc:  # noqa: BLE001 - reported here; arq keeps only the word "failed"
            await redis.delete(DELIVERY_KEY.format(job.delivery))
            log.error("job %s for %s/%s failed: %s: %s", job.delivery, job.owner, job.repo, type(exc).__name__, exc)
            return "failed"
    log.info("job %s for %s/%s: %s %s", job.delivery, job.owner, job.repo, outcome.action, outcome.reason)
    return outcome.action


def make_worker(
    redis_url: str,
    creds: AppCredentials,
    api_url: str,
    *,
    burst: bool = False,
    backoff: float = 1.0,
    handle_signals: bool = True,
) -> Worker:
    """An arq worker running sync jobs with one shared session, token cache and ETag cache."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["session"] = aiohttp.ClientSession()
        ctx["runner"] = Runner(ctx["session"], creds, api_url, backoff)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["session"].close()

    return Worker(
        functions=[func(sync, name=FUNCTION, max_tries=1, timeout=JOB_TIMEOUT)],  # API calls retry themselves
        redis_settings=RedisSettings.from_dsn(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=handle_signals,
        max_jobs=4,
        keep_result=3600,
        poll_delay=0.2,
    )
