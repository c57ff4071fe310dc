"""The distributed mode: jobs queued in Redis with arq and run by `repodoc worker` processes.

The webhook server only enqueues (a delivery id is claimed with SET NX for a day, so a redelivery of a
queued or finished delivery is answered as a duplicate; a failed job releases its claim; past
`bound` jobs queued a delivery is answered 503). Each arq job carries one job (an `Entry`) or asks to
drain a key. A worker that picks it up works under the job's key (`Job.key`), with three records in Redis:

- `repodoc:lock:{key}`: which arq job holds the key (`<arq job id> <pid> <nonce>`), for a lease of
  `lease` seconds that a heartbeat renews every third of it while the job runs, together with arq's
  own in-progress marker (`arq:in-progress:<id>`, which arq sets for the whole job timeout): after a
  SIGKILL both lapse within a lease, arq gives the job to another worker, and that worker takes over
  the key (the lock names the same arq job) and runs what the dead one was running;
- `repodoc:run:{key}`: the entry running now (so that it is not lost with its worker);
- `repodoc:next:{key}`: the entries waiting for the key, coalesced (`bot.jobs.coalesce`: sync work
  merges into one follow-up, commands stay in order).

A worker finding the key held adds its job to `next` and ends ("coalesced"); the holder, when its entry
ends, releases the key and, when `next` is not empty, queues an arq job that drains it, in one
transaction. Every read-modify-write of these records is a WATCH/MULTI transaction, so the exclusion and
the coalescing hold across any number of workers and servers. A job failing for a transient reason is
queued again with backoff (its tries counted in the entry); a deferred one (GitHub asks for a pause) is
queued afresh for the time GitHub named, which costs it no try; one that fails for good shows a failed
`repodoc` check run. On SIGTERM a worker takes no more jobs, gives running ones `grace` seconds, then
hands them back (into `next`, with a drain job queued) and exits. Every job's end is pushed onto
`repodoc:recent`, a capped list that `recent()` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from arq.connections import ArqRedis, RedisSettings
from arq.constants import default_queue_name, expires_extra_ms, in_progress_key_prefix, job_key_prefix
from arq.jobs import serialize_job
from arq.worker import Worker, func
from redis.exceptions import RedisError, WatchError

from . import metrics
from .github.auth import AppCredentials
from .github.limits import Limits
from .github.pacing import RedisPacer
from .jobs import (
    BOOTSTRAP_SPACING,
    RECENT,
    RETRY_DELAY,
    Bootstrap,
    Entry,
    Finished,
    Forget,
    Job,
    QueueUnavailable,
    Retries,
    Runner,
    Waiting,
    coalesce,
    deferral,
    describe,
    transient,
)
from .queueing import CONCURRENCY, GRACE_SECONDS, LEASE_SECONDS, QUEUE_BOUND

log = logging.getLogger("repodoc.worker")
FUNCTION = "repodoc_sync"
DELIVERY_KEY = "repodoc:delivery:{}"
SWEEP_KEY = "repodoc:sweep"
LOCK_KEY = "repodoc:lock:{}"  # the arq job holding a key, with a lease
RUN_KEY = "repodoc:run:{}"  # the entry running on a key: {"entry", "started", "token"}
NEXT_KEY = "repodoc:next:{}"  # the entries waiting for a key (JSON list, coalesced)
FORGOTTEN_KEY = "repodoc:forgotten:{}"  # when the App lost access to a repository (its earlier jobs are dropped)
RECENT_KEY = "repodoc:recent"  # a capped list of Finished records (JSON), newest first
CLAIM_SECONDS = 24 * 3600
JOB_TIMEOUT = 900
REDIS_TIMEOUT = 5.0  # seconds to connect or answer: a delivery must not wait on a dead Redis
DOWN = (RedisError, OSError, asyncio.TimeoutError)  # what a Redis that is down or unreachable raises
# renew the key's lease when this arq job holds it, and arq's in-progress marker in any case
RENEW = """
redis.call('pexpire', KEYS[2], ARGV[2])
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


def redacted(url: str) -> str:
    """The Redis URL without its password, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


class RedisQueue:
    """The webhook server's side: enqueue jobs for workers, and read what they hold and did."""

    def __init__(self, pool: ArqRedis, spacing: float = BOOTSTRAP_SPACING, bound: int = QUEUE_BOUND) -> None:
        self.pool = pool
        self.spacing = spacing
        self.bound = max(1, bound)

    @classmethod
    def connect(cls, url: str, spacing: float = BOOTSTRAP_SPACING, bound: int = QUEUE_BOUND) -> RedisQueue:
        """A queue on the Redis server at url; connects on first use, so the server starts (and answers
        503) while Redis is down."""
        pool = ArqRedis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
        return cls(pool, spacing, bound)

    async def enqueue(self, job: Job) -> bool:
        """Claim the delivery and queue the job; QueueUnavailable (claim released) when Redis fails or
        `bound` jobs are queued already."""
        key = DELIVERY_KEY.format(job.delivery)
        try:
            async with self.pool.pipeline(transaction=False) as pipe:
                pipe.set(key, "queued", nx=True, ex=CLAIM_SECONDS)
                pipe.zcard(default_queue_name)
                claimed, queued = await pipe.execute()
        except DOWN as exc:
            raise QueueUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc
        if not claimed:
            return False
        try:
            if isinstance(job, Forget):  # the workers drop every job of the repository queued before now
                await self.pool.set(FORGOTTEN_KEY.format(job.repository), str(time.time()), ex=CLAIM_SECONDS)
                return True
            if int(queued) >= self.bound:
                await self.pool.delete(key)
                raise QueueUnavailable(f"the queue is full ({self.bound} jobs queued)")
            delay = job.position * self.spacing if isinstance(job, Bootstrap) else 0
            data = Entry.of(job, time.time()).to_dict()
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
            pending = int(await self.pool.zcard(default_queue_name))
        except DOWN as exc:
            raise QueueUnavailable(f"Redis: {type(exc).__name__}") from exc
        return {"status": "ok", "queue": "redis", "pending": pending}

    async def recent(self, limit: int = 100) -> list[Finished]:
        """The last jobs the workers ended, newest first (from the capped list they push to)."""
        if limit <= 0:
            return []
        try:
            rows = await self.pool.lrange(RECENT_KEY, 0, limit - 1)  # type: ignore[misc]
        except DOWN as exc:
            raise QueueUnavailable(f"Redis: {type(exc).__name__}") from exc
        return [Finished.from_dict(json.loads(row)) for row in rows]

    async def snapshot(self) -> list[Waiting]:
        """What the workers run (`run` records), what waits on a key (`next`), and what arq holds queued:
        pending, or retrying when it waits for a later try."""
        try:
            return await self._snapshot()
        except DOWN as exc:
            raise QueueUnavailable(f"Redis: {type(exc).__name__}") from exc

    async def _snapshot(self) -> list[Waiting]:
        found: list[Waiting] = []
        async for name in self.pool.scan_iter(match=RUN_KEY.format("*"), count=500):
            raw = await self.pool.get(name)
            if raw is not None:
                record = json.loads(raw)
                entry = Entry.from_dict(record["entry"])
                job = entry.job
                found.append(Waiting(job.key, job.kind, job.delivery, "running", record["started"], entry.tries))
        async for name in self.pool.scan_iter(match=NEXT_KEY.format("*"), count=500):
            for entry in _entries(await self.pool.get(name)):
                job = entry.job
                found.append(Waiting(job.key, job.kind, job.delivery, "pending", entry.queued, entry.tries))
        queued = await self.pool.queued_jobs()
        async with self.pool.pipeline(transaction=False) as pipe:
            for info in queued:
                pipe.exists(in_progress_key_prefix + (info.job_id or ""))
            running = await pipe.execute()
        now = time.time() * 1000
        for info, started in zip(queued, running, strict=True):
            data = info.args[0] if info.args else {}
            if started or not isinstance(data, dict) or "drain" in data:
                continue
            entry = Entry.from_dict(data)
            later = info.score is not None and info.score > now
            state = "retrying" if later and (entry.tries or data.get("deferred")) else "pending"
            job = entry.job
            since = entry.queued if state == "pending" else (info.enqueue_time.timestamp())
            found.append(Waiting(job.key, job.kind, job.delivery, state, since, entry.tries))
        return sorted(found, key=lambda w: w.since)

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


def _entries(raw: bytes | str | None) -> list[Entry]:
    return [Entry.from_dict(item) for item in json.loads(raw)] if raw else []


def _dump(entries: list[Entry]) -> str:
    return json.dumps([entry.to_dict() for entry in entries])


async def remember(redis: ArqRedis, finished: Finished) -> None:
    """Push a job's end onto the capped list recent() reads."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(RECENT_KEY, json.dumps(finished.to_dict()))
        pipe.ltrim(RECENT_KEY, 0, RECENT - 1)
        await pipe.execute()


@dataclass(frozen=True)
class Holder:
    """What a worker needs to work under a key: its arq job id, the lock's value, the lease in ms."""

    key: str
    job_id: str
    token: str
    lease_ms: int

    @property
    def lock(self) -> str:
        return LOCK_KEY.format(self.key)

    @property
    def run(self) -> str:
        return RUN_KEY.format(self.key)

    @property
    def next(self) -> str:
        return NEXT_KEY.format(self.key)


def _queue_drain(pipe: Any, key: str) -> None:
    """Queue, inside a transaction, an arq job that drains a key's waiting entries (as enqueue_job would)."""
    now = int(time.time() * 1000)
    job_id = uuid.uuid4().hex
    pipe.psetex(job_key_prefix + job_id, expires_extra_ms, serialize_job(FUNCTION, ({"drain": key},), {}, None, now))
    pipe.zadd(default_queue_name, {job_id: now})


async def take(redis: ArqRedis, holder: Holder, entry: Entry | None) -> Entry | None:
    """Take the key and the entry to run now (an orphan a dead worker was running first, then what waits,
    with `entry` coalesced in); or, while another arq job holds the key, add `entry` to what waits (None).
    A lock naming this arq job is its own earlier try's, dead (arq runs a job again only after its
    in-progress marker lapsed), and is taken over."""
    absorbed: list[Entry] = []
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(holder.lock, holder.next, holder.run)
                lock, waiting, running = await pipe.mget(holder.lock, holder.next, holder.run)
                entries = _entries(waiting)
                lock = lock.decode() if isinstance(lock, bytes) else lock
                if lock is not None and lock.split(" ")[0] != holder.job_id:
                    if entry is None:
                        await pipe.reset()
                        return None
                    entries, absorbed = coalesce(entries, entry)
                    pipe.multi()
                    pipe.set(holder.next, _dump(entries))
                    await pipe.execute()
                    head = None
                else:
                    if running is not None:  # what a dead worker was running: first
                        entries.insert(0, Entry.from_dict(json.loads(running)["entry"]))
                    if entry is not None:
                        entries, absorbed = coalesce(entries, entry)
                    pipe.multi()
                    if not entries:
                        pipe.delete(holder.lock, holder.run)
                        await pipe.execute()
                        return None
                    head, rest = entries[0], entries[1:]
                    record = {"entry": head.to_dict(), "started": time.time(), "token": holder.token}
                    pipe.set(holder.lock, holder.token, px=holder.lease_ms)
                    pipe.set(holder.run, json.dumps(record))
                    if rest:
                        pipe.set(holder.next, _dump(rest))
                    else:
                        pipe.delete(holder.next)
                    await pipe.execute()
                break
            except WatchError:
                absorbed = []
                continue
    for gone in absorbed:
        await _ended(redis, gone, "coalesced", f"merged into a later job of {holder.key}", time.time(), 0.0)
    return head


async def release(redis: ArqRedis, holder: Holder, *, hand_back: bool = False) -> None:
    """The key's entry has ended (or, hand_back, is given back to the front of what waits): release the
    key and, when entries wait, queue a drain job, in one transaction; nothing when the lease was lost."""
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(holder.lock, holder.next, holder.run)
                lock, waiting, running = await pipe.mget(holder.lock, holder.next, holder.run)
                if (lock.decode() if isinstance(lock, bytes) else lock) != holder.token:
                    await pipe.reset()
                    log.warning("key %s: the lease lapsed while its job ran (another worker took over)", holder.key)
                    return
                entries = _entries(waiting)
                if hand_back and running is not None:
                    back = Entry.from_dict(json.loads(running)["entry"])
                    entries.insert(0, replace(back, tries=back.tries + 1))  # a hand-back counts as a try
                pipe.multi()
                pipe.delete(holder.lock, holder.run)
                if entries:
                    pipe.set(holder.next, _dump(entries))
                    _queue_drain(pipe, holder.key)
                await pipe.execute()
                return
            except WatchError:
                continue


async def heartbeat(redis: ArqRedis, holder: Holder) -> None:
    """Renew the key's lease and arq's in-progress marker every third of the lease, until cancelled."""
    renew = redis.register_script(RENEW)
    marker = in_progress_key_prefix + holder.job_id
    while True:
        await asyncio.sleep(holder.lease_ms / 3000)
        try:
            if not await renew(keys=[holder.lock, marker], args=[holder.token, holder.lease_ms]):
                log.warning("key %s: the lease was lost; another worker may run this job too", holder.key)
        except DOWN as exc:
            log.error("key %s: the lease could not be renewed: %s", holder.key, type(exc).__name__)


async def sync(ctx: dict[str, Any], job_data: dict[str, Any]) -> str:
    """The worker's job: take the job's key (or add the job to what waits for it), run the entry under a
    heartbeat, then release the key (queueing a drain job when more waits). Cancelled (SIGTERM after the
    grace period, or the job timeout), it hands its entry back first."""
    redis: ArqRedis = ctx["redis"]
    lease: int = ctx["lease"]
    job_id = str(ctx.get("job_id") or uuid.uuid4().hex)
    await redis.pexpire(in_progress_key_prefix + job_id, lease * 1000)  # lapses a lease after a crash
    entry = None if "drain" in job_data else Entry.from_dict(job_data)
    key = str(job_data["drain"]) if entry is None else entry.job.key
    holder = Holder(key, job_id, f"{job_id} {os.getpid()} {uuid.uuid4().hex[:8]}", lease * 1000)
    head = await take(redis, holder, entry)
    if head is None:
        return "coalesced" if entry is not None else "idle"
    beat = asyncio.create_task(heartbeat(redis, holder))
    try:
        action = await run_entry(ctx, head)
    except asyncio.CancelledError:
        log.info("job %s (%s %s): handed back", head.job.delivery, head.job.kind, key)
        await release(redis, holder, hand_back=True)
        raise
    finally:
        beat.cancel()
    await release(redis, holder)
    return action


async def run_entry(ctx: dict[str, Any], entry: Entry) -> str:
    """Run one entry: dropped when the App's access ended after it was queued; a transient failure queued
    again with backoff until the last try; a deferral queued for later; a failure for good reported as a
    check run, releasing its deliveries' claims so that a redelivery can retry."""
    redis: ArqRedis = ctx["redis"]
    runner: Runner = ctx["runner"]
    retries: Retries = ctx["retries"]
    job = entry.job
    started = time.time()
    forgotten = await redis.get(FORGOTTEN_KEY.format(job.repository))
    if forgotten is not None and float(forgotten) > entry.queued:
        await _ended(redis, entry, "dropped", "the App's access to the repository ended", started, 0.0)
        return "dropped"
    try:
        if entry.tries >= retries.tries:
            raise RuntimeError(f"handed back or failed {entry.tries} times")
        outcome = await runner.run(job)
    except Exception as exc:  # noqa: BLE001 - reported here; arq keeps only the word returned
        seconds = time.time() - started
        until = deferral(exc)
        if until is not None:
            data = {**entry.to_dict(), "deferred": True}
            await redis.enqueue_job(FUNCTION, data, _defer_until=datetime.fromtimestamp(until, UTC))
            log.info("job %s for %s/%s deferred until %s", job.delivery, job.owner, job.repo, until)
            await _ended(redis, entry, "deferred", f"GitHub asks to wait until {time.ctime(until)}", started, seconds)
            return "deferred"
        reason = describe(exc)
        tries = entry.tries + 1
        log.error("job %s for %s/%s failed (try %d): %s", job.delivery, job.owner, job.repo, tries, reason)
        if (transient(exc) or isinstance(exc, RedisError)) and tries < retries.tries:
            await redis.enqueue_job(FUNCTION, replace(entry, tries=tries).to_dict(), _defer_by=retries.wait(tries))
            await _ended(redis, entry, "retrying", reason, started, seconds)
            return "retrying"
        await redis.delete(*(DELIVERY_KEY.format(d) for d in entry.deliveries))
        await runner.report_failure(job, reason, tries)
        await _ended(redis, entry, "failed", reason, started, time.time() - started)
        return "failed"
    await _ended(redis, entry, outcome.action, outcome.reason, started, time.time() - started, outcome.pull)
    return outcome.action


async def _ended(
    redis: ArqRedis, entry: Entry, action: str, reason: str, started: float, seconds: float, pull: int = 0
) -> None:
    job = entry.job
    done = metrics.job_finished(job, action)
    log.info("job %s (%s %s): %s %s", job.delivery, job.kind, job.key, action, reason, extra=done)
    with contextlib.suppress(*DOWN):
        await remember(redis, Finished.of(job, action, reason, started, seconds, pull))


def make_worker(
    redis_url: str,
    creds: AppCredentials,
    api_url: str,
    *,
    burst: bool = False,
    backoff: float = 1.0,
    handle_signals: bool = True,
    retries: Retries | None = None,
    concurrency: int = CONCURRENCY,
    lease: int = LEASE_SECONDS,
    grace: int = GRACE_SECONDS,
) -> Worker:
    """An arq worker running up to `concurrency` jobs with one shared session, token cache and ETag cache;
    its writes are paced in Redis, with every other worker's; retries default to RETRY_DELAY scaled by
    backoff (0 in tests: retried at once); `lease`: seconds after which a dead worker's job and key are
    taken over; `grace`: seconds running jobs get on SIGTERM before they are handed back."""
    policy = retries or Retries(delay=RETRY_DELAY * backoff)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["session"] = aiohttp.ClientSession()
        ctx["runner"] = Runner(ctx["session"], creds, api_url, backoff, Limits(RedisPacer(ctx["redis"])))
        ctx["retries"] = policy
        ctx["lease"] = max(int(lease), 1)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["session"].close()

    return Worker(
        # arq's tries count only runs cut short (a crash, a hand-back): repodoc counts its own retries
        functions=[func(sync, name=FUNCTION, max_tries=2 * policy.tries, timeout=JOB_TIMEOUT)],
        redis_settings=RedisSettings.from_dsn(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=handle_signals,
        job_completion_wait=max(int(grace), 0),
        max_jobs=max(int(concurrency), 1),
        keep_result=3600,
        poll_delay=0.2,
    )
