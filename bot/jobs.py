"""Jobs: what a webhook asks for (ids and primitives only), the queue, and the runner."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from http import HTTPStatus
from typing import Any, Protocol

import aiohttp
import cachetools
import gidgethub

from .github import writes
from .github.auth import AppCredentials, TokenCache
from .github.caches import Caches
from .github.client import Deferred, GitHubClient
from .github.limits import Limits
from .github.sync import Outcome, Target, sync_branch

log = logging.getLogger("repodoc.jobs")
USER_AGENT = "repodoc"
RETRY_TRIES = 5  # tries in all for a job failing for a transient reason
RETRY_DELAY = 30.0  # seconds before the first retry; doubled for each further one
RETRY_MAX_DELAY = 1800.0
REASON_CHARS = 1000  # of an error's text in a check run's summary


@dataclass(frozen=True)
class Retries:
    """How a job that fails for a transient reason is tried again: `tries` in all, the n-th retry
    after delay * 2**(n-1) seconds (at most max_delay, plus up to 10% jitter); clock and sleep are
    the queue's time (injected by tests)."""

    tries: int = RETRY_TRIES
    delay: float = RETRY_DELAY
    max_delay: float = RETRY_MAX_DELAY
    clock: Callable[[], float] = field(default=time.time, compare=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def wait(self, failures: int) -> float:
        """Seconds to wait after the failures-th failed try."""
        base = min(self.delay * 2 ** (failures - 1), self.max_delay)
        return base * (1 + random.random() / 10)  # noqa: S311 - jitter, not a secret


def deferral(exc: BaseException) -> float | None:
    """When a job that raised exc may run again (seconds since the epoch), if GitHub asked for a pause:
    the client's Deferred, or gidgethub's RateLimitExceeded (primary budget spent until its reset)."""
    if isinstance(exc, Deferred):
        return exc.until
    if isinstance(exc, gidgethub.RateLimitExceeded) and exc.rate_limit is not None:
        return float(exc.rate_limit.reset_datetime.timestamp())
    return None


def transient(exc: BaseException) -> bool:
    """Whether trying again later may succeed: GitHub's 5xx and rate limits, timeouts, connection errors.
    A 4xx that is not a rate limit, or any other exception (a bug), is permanent."""
    if isinstance(exc, gidgethub.HTTPException):
        status = int(exc.status_code)
        return status >= 500 or status == 429 or (status == 403 and "rate limit" in str(exc).lower())
    return isinstance(exc, TimeoutError | aiohttp.ClientError | ConnectionError)


def describe(exc: BaseException) -> str:
    """A short human reason for a failed job."""
    if isinstance(exc, gidgethub.HTTPException):
        status = int(exc.status_code)
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        text = f"GitHub answered {status} {phrase}".rstrip() + (f": {exc}" if str(exc) else "")
    elif isinstance(exc, TimeoutError):
        text = "GitHub did not answer in time"
    elif isinstance(exc, aiohttp.ClientError | ConnectionError):
        text = f"GitHub could not be reached ({type(exc).__name__}: {exc})"
    else:
        text = f"an error in repodoc ({type(exc).__name__}: {exc})"
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


class QueueUnavailable(Exception):
    """The queue cannot take work now (Redis down): the delivery is answered 503, so GitHub shows it failed."""


@dataclass(frozen=True)
class Job:
    """Sync the docs of one branch; branch/after None mean the default branch and its head;
    default_branch None: looked up; paths: what a complete push touched (None: not known)."""

    delivery: str
    installation_id: int
    owner: str
    repo: str
    branch: str | None = None
    after: str | None = None
    before: str = ""
    default_branch: str | None = None
    paths: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Primitives only, for a queue that serialises jobs."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        """A job from to_dict's output; keys it does not know (a job queued by an older server) are left out."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


class JobQueue(Protocol):
    """Where the webhook handler puts jobs; the in-process queue or a Redis one."""

    async def enqueue(self, job: Job) -> bool:
        """Queue a job; False when the delivery was already queued or done; QueueUnavailable when it cannot."""
        ...

    async def health(self) -> dict[str, Any]:
        """What /healthz shows; raises when the queue cannot take work."""
        ...


class Runner:
    """Runs jobs with one shared session, token cache, caches, and view of GitHub's limits (each
    installation's budget; the pacer of its writes, a Redis one across workers)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        creds: AppCredentials,
        api_url: str,
        backoff: float = 1.0,
        limits: Limits | None = None,
    ) -> None:
        self.session = session
        self.api_url = api_url.rstrip("/")
        self.tokens = TokenCache(creds)
        self.caches = Caches()
        self.backoff = backoff
        self.limits = limits or Limits()

    def client(self, token: str | None = None, installation: int | None = None) -> GitHubClient:
        """A gidgethub client on the shared session, caches and limits, as `installation` (None: the App)."""
        return GitHubClient(
            self.session,
            USER_AGENT,
            oauth_token=token,
            base_url=self.api_url,
            caches=self.caches,
            backoff=self.backoff,
            limits=self.limits,
            installation=installation,
        )

    async def run(self, job: Job) -> Outcome:
        """Authenticate as the installation and sync the job's branch."""
        gh = await self._as_installation(job)
        names = {"owner": job.owner, "repo": job.repo}
        default = job.default_branch or await _default_branch(gh, names)
        target = Target(job.owner, job.repo, job.branch or default)
        after = job.after or await writes.head_of(gh, target, target.branch)
        if after is None:
            return Outcome("ignored", f"no commit on {target.branch} yet (an empty repository)")
        return await sync_branch(gh, target, after, before=job.before, default_branch=default, paths=job.paths)

    async def report_failure(self, job: Job, reason: str, tries: int) -> bool:
        """Show a job that will not be tried again as a failed `repodoc` check run on its commit (the head
        of its branch when the job names none); False when there is no commit or GitHub refuses."""
        if job.after is not None and set(job.after) == {"0"}:
            return False
        names = {"owner": job.owner, "repo": job.repo}
        again = (
            "the next push, or the App's periodic sweep, tries again" if tries > 1 else "trying again would not help"
        )
        summary = f"repodoc could not refresh the docs of this commit: {reason}.\n\nTried {tries} time(s); {again}."
        try:
            gh = await self._as_installation(job)
            target = Target(job.owner, job.repo, job.branch or job.default_branch or await _default_branch(gh, names))
            after = job.after or await writes.head_of(gh, target, target.branch)
            if after is None:
                raise LookupError(f"{target.branch} has no commit to show it on")
            await writes.check_run(gh, target, after, "failure", "repodoc could not refresh the docs", summary)
        except Exception as exc:  # noqa: BLE001 - the failure is logged either way
            log.error("job %s: the failure could not be shown on GitHub: %s", job.delivery, describe(exc))
            return False
        return True

    async def _as_installation(self, job: Job) -> GitHubClient:
        """A client authenticated as the job's installation (its token cached across jobs)."""
        return self.client(await self.tokens.token(self.client(), job.installation_id), job.installation_id)


async def _default_branch(gh: GitHubClient, names: dict[str, str]) -> str:
    """The repository's default branch."""
    return str((await gh.getitem("/repos/{owner}/{repo}", names))["default_branch"])


class InProcessQueue:
    """An asyncio queue served by one task; jobs for one App run one at a time, in order. A job failing
    for a transient reason is queued again after a backoff (a deferred one at the time GitHub named,
    not counted as a try); one that fails for good is reported by `report`. Nothing survives a restart:
    the start-up sweep (bot/sweep.py) finds what was left undone."""

    def __init__(
        self,
        run: Callable[[Job], Awaitable[Outcome]],
        *,
        report: Callable[[Job, str, int], Awaitable[bool]] | None = None,
        retries: Retries | None = None,
    ) -> None:
        self._run = run
        self._report = report
        self.retries = retries or Retries()
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._seen: cachetools.TTLCache[str, str] = cachetools.TTLCache(maxsize=100_000, ttl=24 * 3600)
        self._failures: dict[str, int] = {}  # delivery -> failed tries so far
        self._waiting: set[asyncio.Task[None]] = set()  # jobs waiting for their next try
        self.outcomes: cachetools.LRUCache[str, Outcome] = cachetools.LRUCache(maxsize=1000)

    async def enqueue(self, job: Job) -> bool:
        if self._seen.get(job.delivery) in ("queued", "done"):
            return False
        self._seen[job.delivery] = "queued"
        await self._queue.put(job)
        return True

    async def health(self) -> dict[str, Any]:
        return {"status": "ok", "queue": "in-process", "pending": self._queue.qsize(), "waiting": len(self._waiting)}

    async def join(self) -> None:
        """Wait until every queued job has run, retries and deferred runs included."""
        while True:
            await self._queue.join()
            if not self._waiting:
                return
            await asyncio.wait(set(self._waiting))

    async def close(self) -> None:
        """Drop the jobs waiting for a later try (the next start-up sweep finds their work)."""
        for task in list(self._waiting):
            task.cancel()
        await asyncio.gather(*self._waiting, return_exceptions=True)

    def _later(self, job: Job, delay: float) -> None:
        async def wait() -> None:
            await self.retries.sleep(max(delay, 0.0))
            await self._queue.put(job)

        task = asyncio.create_task(wait())
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def serve(self) -> None:
        """Run jobs until cancelled; one job's failure never stops the queue."""
        while True:
            job = await self._queue.get()
            try:
                outcome = await self._attempt(job)
            finally:
                self._queue.task_done()
            self.outcomes[job.delivery] = outcome
            log.info("job %s for %s/%s: %s %s", job.delivery, job.owner, job.repo, outcome.action, outcome.reason)

    async def _attempt(self, job: Job) -> Outcome:
        """One try of a job: its outcome, a retry or deferral scheduled, or the failure reported."""
        try:
            outcome = await self._run(job)
        except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the queue
            until = deferral(exc)
            if until is not None:
                self._later(job, until - self.retries.clock())
                return Outcome("deferred", f"GitHub asks to wait until {time.ctime(until)}")
            failures = self._failures.get(job.delivery, 0) + 1
            reason = describe(exc)
            log.error("job %s for %s/%s failed (try %d): %s", job.delivery, job.owner, job.repo, failures, reason)
            if transient(exc) and failures < self.retries.tries:
                self._failures[job.delivery] = failures
                self._later(job, self.retries.wait(failures))
                return Outcome("retrying", reason)
            self._failures.pop(job.delivery, None)
            self._seen[job.delivery] = "failed"
            if self._report is not None:
                await self._report(job, reason, failures)
            return Outcome("failed", reason)
        self._failures.pop(job.delivery, None)
        self._seen[job.delivery] = "done"
        return outcome
