"""Jobs: what a webhook asks for (ids and primitives only), the queue, and the runner."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from http import HTTPStatus
from typing import Any, ClassVar, Protocol

import aiohttp
import cachetools
import gidgethub

from . import metrics
from .github import respond, review, writes
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
# Repositories of one installation event are bootstrapped this many seconds apart: a bootstrap makes about
# five content-creating requests, and GitHub allows 500 of those an hour (the pacer guards the rest).
BOOTSTRAP_SPACING = 36.0


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
class Work:
    """What every job carries: the delivery that asked for it and the repository it is about. Each kind
    of work is a frozen subclass of ids and primitives only, serialised with its `kind` (`to_dict`,
    `job_from_dict`) and run through one table from kind to coroutine (`Runner.run`)."""

    kind: ClassVar[str] = ""
    delivery: str
    installation_id: int
    owner: str
    repo: str

    def to_dict(self) -> dict[str, Any]:
        """Primitives only, with the kind, for a queue that serialises jobs."""
        return {"kind": self.kind, **asdict(self)}

    @property
    def key(self) -> str:
        """What the job works on: the repository and its target (a branch, a pull request)."""
        return f"{self.owner}/{self.repo}"


@dataclass(frozen=True)
class SyncBranch(Work):
    """Sync the docs of one branch to commit `after`; default_branch None: looked up; paths: what a
    complete push touched (None: not known); full: remake every page (`/docs full`); recreate: rebuild
    the docs branch even over commits people added to it (`/docs recreate`)."""

    kind: ClassVar[str] = "sync"
    branch: str = ""
    after: str | None = None  # None: the branch's head
    before: str = ""
    default_branch: str | None = None
    paths: tuple[str, ...] | None = None
    full: bool = False
    recreate: bool = False

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.repo}:{self.branch}"


@dataclass(frozen=True)
class CloseDocs(Work):
    """A branch was deleted: close its docs pull request."""

    kind: ClassVar[str] = "close"
    branch: str = ""

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.repo}:{self.branch}"


@dataclass(frozen=True)
class Bootstrap(Work):
    """The App was installed on a repository: document its default branch, with an introduction.
    position: its place among the repositories of one installation event, which spaces them out."""

    kind: ClassVar[str] = "bootstrap"
    default_branch: str | None = None
    position: int = 0

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.repo}:{self.default_branch or ''}"


@dataclass(frozen=True)
class CheckPull(Work):
    """A pull request was opened, pushed to, retargeted, reopened or closed (or its check re-run):
    bring its check run and companion pull request in step with its live state."""

    kind: ClassVar[str] = "pull"
    number: int = 0
    default_branch: str | None = None
    full: bool = False
    recreate: bool = False

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.repo}#{self.number}"


@dataclass(frozen=True)
class RunCommand(Work):
    """Slash commands in a pull request's comment: verbs in order (`unknown`: a word that was not one)."""

    kind: ClassVar[str] = "command"
    number: int = 0
    comment_id: int = 0
    author: str = ""
    verbs: tuple[str, ...] = ()
    unknown: str = ""
    default_branch: str | None = None

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.repo}#{self.number}"


@dataclass(frozen=True)
class Forget(Work):
    """The App lost access to a repository: its queued work is dropped (done by the queue itself)."""

    kind: ClassVar[str] = "forget"


KINDS: dict[str, type[Work]] = {
    cls.kind: cls for cls in (SyncBranch, CloseDocs, Bootstrap, CheckPull, RunCommand, Forget)
}
ZEROS = "0" * 40


def job_from_dict(data: dict[str, Any]) -> Work:
    """A job from to_dict's output. Keys a kind does not know are left out; a job queued by a server that
    knew only branch syncs (no `kind`) is read as it meant: a deleted branch, a bootstrap, or a sync."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind is None:
        if data.get("after") and set(str(data["after"])) == {"0"}:
            kind = "close"
        elif not data.get("branch"):
            kind = "bootstrap"
        else:
            kind = "sync"
    cls = KINDS.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown job kind {kind!r}")
    known = {f.name for f in fields(cls)}
    values = {key: value for key, value in data.items() if key in known}
    for key in ("paths", "verbs"):  # JSON has no tuples
        if isinstance(values.get(key), list):
            values[key] = tuple(values[key])
    return cls(**values)


Job = Work  # the name the queues and handlers use for any kind of work


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
        """Authenticate as the job's installation and run it through the table of kinds."""
        metrics.job_started()
        gh = await self._as_installation(job)
        return await RUNS[job.kind](gh, job)

    async def report_failure(self, job: Job, reason: str, tries: int) -> bool:
        """Show a job that will not be tried again where people look: a failed `repodoc` check run on its
        commit (a branch's head, a pull request's head), or for a command a reply and a `confused`
        reaction; False when there is nowhere to show it or GitHub refuses."""
        again = (
            "the next push, or the App's periodic sweep, tries again" if tries > 1 else "trying again would not help"
        )
        summary = f"repodoc could not refresh the docs of this commit: {reason}.\n\nTried {tries} time(s); {again}."
        try:
            gh = await self._as_installation(job)
            if isinstance(job, RunCommand):
                await respond.failed(gh, job, reason)
                return True
            after: str | None
            if isinstance(job, CheckPull):
                target, after = await review.head_of_pull(gh, job)
            elif isinstance(job, SyncBranch | Bootstrap):
                names = {"owner": job.owner, "repo": job.repo}
                branch = job.branch if isinstance(job, SyncBranch) else None
                target = Target(job.owner, job.repo, branch or job.default_branch or await _default_branch(gh, names))
                after = job.after if isinstance(job, SyncBranch) else None
                after = after or await writes.head_of(gh, target, target.branch)
            else:
                return False
            if after is None:
                raise LookupError(f"{target.branch} has no commit to show it on")
            await writes.check_run(gh, target, after, "failure", "repodoc could not refresh the docs", summary)
        except Exception as exc:  # noqa: BLE001 - the failure is logged either way
            log.error(
                "job %s: the failure could not be shown on GitHub: %s",
                job.delivery,
                describe(exc),
                extra={"delivery": job.delivery, "kind": job.kind, "key": job.key},
            )
            return False
        return True

    async def _as_installation(self, job: Job) -> GitHubClient:
        """A client authenticated as the job's installation (its token cached across jobs)."""
        return self.client(await self.tokens.token(self.client(), job.installation_id), job.installation_id)


async def _sync(gh: GitHubClient, job: Job) -> Outcome:
    assert isinstance(job, SyncBranch)
    names = {"owner": job.owner, "repo": job.repo}
    default = job.default_branch or await _default_branch(gh, names)
    target = Target(job.owner, job.repo, job.branch or default)
    after = job.after or await writes.head_of(gh, target, target.branch)
    if after is None:
        return Outcome("ignored", f"no commit on {target.branch} yet (an empty repository)")
    return await sync_branch(
        gh,
        target,
        after,
        before=job.before,
        default_branch=default,
        paths=job.paths,
        full=job.full,
        recreate=job.recreate,
    )


async def _close(gh: GitHubClient, job: Job) -> Outcome:
    assert isinstance(job, CloseDocs)
    return await sync_branch(gh, Target(job.owner, job.repo, job.branch), ZEROS)


async def _bootstrap(gh: GitHubClient, job: Job) -> Outcome:
    assert isinstance(job, Bootstrap)
    default = job.default_branch or await _default_branch(gh, {"owner": job.owner, "repo": job.repo})
    target = Target(job.owner, job.repo, default)
    after = await writes.head_of(gh, target, default)
    if after is None:
        return Outcome("ignored", f"no commit on {default} yet (an empty repository)")
    return await sync_branch(gh, target, after, default_branch=default, intro=True)


async def _pull(gh: GitHubClient, job: Job) -> Outcome:
    assert isinstance(job, CheckPull)
    return await review.check_pull(gh, job.owner, job.repo, job.number, full=job.full, recreate=job.recreate)


async def _command(gh: GitHubClient, job: Job) -> Outcome:
    assert isinstance(job, RunCommand)
    return await respond.run_command(gh, job)


async def _forget(gh: GitHubClient, job: Job) -> Outcome:
    return Outcome("ignored", "the App's access ended; the queue dropped this repository's work")


RUNS: dict[str, Callable[[GitHubClient, Job], Awaitable[Outcome]]] = {
    SyncBranch.kind: _sync,
    CloseDocs.kind: _close,
    Bootstrap.kind: _bootstrap,
    CheckPull.kind: _pull,
    RunCommand.kind: _command,
    Forget.kind: _forget,
}


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
        spacing: float = BOOTSTRAP_SPACING,
    ) -> None:
        self._run = run
        self._report = report
        self.retries = retries or Retries()
        self.spacing = spacing
        self._queue: asyncio.Queue[tuple[int, Job]] = asyncio.Queue()
        self._seen: cachetools.TTLCache[str, str] = cachetools.TTLCache(maxsize=100_000, ttl=24 * 3600)
        self._failures: dict[str, int] = {}  # delivery -> failed tries so far
        self._waiting: set[asyncio.Task[None]] = set()  # jobs waiting for their next try
        self._count = 0  # jobs taken so far: a job's number orders it against a Forget
        self._forgotten: cachetools.TTLCache[str, int] = cachetools.TTLCache(maxsize=100_000, ttl=24 * 3600)
        self.outcomes: cachetools.LRUCache[str, Outcome] = cachetools.LRUCache(maxsize=1000)

    async def enqueue(self, job: Job) -> bool:
        if self._seen.get(job.delivery) in ("queued", "done"):
            return False
        self._seen[job.delivery] = "queued"
        self._count += 1
        if isinstance(job, Forget):  # every job of the repository taken before now is dropped
            self._forgotten[f"{job.owner}/{job.repo}".lower()] = self._count
            self._seen[job.delivery] = "done"
            return True
        if isinstance(job, Bootstrap) and job.position:
            self._later((self._count, job), job.position * self.spacing)
        else:
            await self._queue.put((self._count, job))
        return True

    def _dropped(self, number: int, job: Job) -> bool:
        return self._forgotten.get(f"{job.owner}/{job.repo}".lower(), 0) > number

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

    def _later(self, item: tuple[int, Job], delay: float) -> None:
        async def wait() -> None:
            await self.retries.sleep(max(delay, 0.0))
            await self._queue.put(item)

        task = asyncio.create_task(wait())
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def serve(self) -> None:
        """Run jobs until cancelled; one job's failure never stops the queue."""
        while True:
            number, job = await self._queue.get()
            try:
                if self._dropped(number, job):
                    outcome = Outcome("dropped", "the App's access to the repository ended")
                    self._seen[job.delivery] = "done"
                else:
                    outcome = await self._attempt(number, job)
            finally:
                self._queue.task_done()
            self.outcomes[job.delivery] = outcome
            done = metrics.job_finished(job, outcome.action)
            log.info(
                "job %s (%s %s): %s %s", job.delivery, job.kind, job.key, outcome.action, outcome.reason, extra=done
            )

    async def _attempt(self, number: int, job: Job) -> Outcome:
        """One try of a job: its outcome, a retry or deferral scheduled, or the failure reported."""
        try:
            outcome = await self._run(job)
        except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the queue
            until = deferral(exc)
            if until is not None:
                self._later((number, job), until - self.retries.clock())
                return Outcome("deferred", f"GitHub asks to wait until {time.ctime(until)}")
            failures = self._failures.get(job.delivery, 0) + 1
            reason = describe(exc)
            log.error(
                "job %s for %s/%s failed (try %d): %s",
                job.delivery,
                job.owner,
                job.repo,
                failures,
                reason,
                extra={"delivery": job.delivery, "kind": job.kind, "key": job.key, "try": failures},
            )
            if transient(exc) and failures < self.retries.tries:
                self._failures[job.delivery] = failures
                self._later((number, job), self.retries.wait(failures))
                return Outcome("retrying", reason)
            self._failures.pop(job.delivery, None)
            self._seen[job.delivery] = "failed"
            if self._report is not None:
                await self._report(job, reason, failures)
            return Outcome("failed", reason)
        self._failures.pop(job.delivery, None)
        self._seen[job.delivery] = "done"
        return outcome
