"""Jobs: what a webhook asks for (ids and primitives only), the queue, and the runner."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields, replace
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
from .queueing import CONCURRENCY, GRACE_SECONDS, QUEUE_BOUND

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
    def repository(self) -> str:
        """The repository's key: `owner/repo` in lower case (GitHub's names ignore case)."""
        return f"{self.owner}/{self.repo}".lower()

    @property
    def key(self) -> str:
        """What the job works on, for the queues: jobs of one key never run at the same time. The
        repository's key (`owner/repo`) stands for its default branch (a bootstrap does not know that
        branch's name until it runs), `owner/repo:branch` for any other branch, `owner/repo#N` for a pull
        request."""
        return self.repository


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
        """The repository's key for its default branch (named, or the empty branch: the default one),
        `owner/repo:branch` otherwise (a branch not known to be the default one: its own key)."""
        if not self.branch or self.branch == self.default_branch:
            return self.repository
        return f"{self.repository}:{self.branch}"


@dataclass(frozen=True)
class CloseDocs(Work):
    """A branch was deleted: close its docs pull request."""

    kind: ClassVar[str] = "close"
    branch: str = ""

    @property
    def key(self) -> str:
        return f"{self.repository}:{self.branch}"  # GitHub refuses to delete a default branch


@dataclass(frozen=True)
class Bootstrap(Work):
    """The App was installed on a repository: document its default branch, with an introduction.
    position: its place among the repositories of one installation event, which spaces them out;
    full, recreate: as a sync's, when a push's sync asking for them was merged into it. Its key is the
    repository's, the key of the default branch's syncs."""

    kind: ClassVar[str] = "bootstrap"
    default_branch: str | None = None
    position: int = 0
    full: bool = False
    recreate: bool = False


@dataclass(frozen=True)
class CheckPull(Work):
    """A pull request was opened, pushed to, retargeted, reopened or closed (or its check re-run):
    bring its check run and companion pull request in step with its live state."""

    kind: ClassVar[str] = "pull"
    number: int = 0  # 0: the open pull request whose head is head_sha (a fork's re-run names none)
    default_branch: str | None = None
    full: bool = False
    recreate: bool = False
    head_sha: str = ""  # the head the event was about ('' : whatever the head is when it runs)

    @property
    def key(self) -> str:
        return f"{self.repository}#{self.number}"


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
        return f"{self.repository}#{self.number}"


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
SYNC_WORK = (SyncBranch, Bootstrap, CheckPull)  # the kinds that coalesce: each reconciles to the newest state


@dataclass(frozen=True)
class Entry:
    """One unit of work waiting on its key: a job (several merged into one when sync work coalesced);
    queued: when its newest part was queued (seconds since the epoch); tries: failed tries so far;
    deliveries: every delivery whose work it does (one already there is not added again)."""

    job: Job
    queued: float
    tries: int = 0
    deliveries: tuple[str, ...] = ()

    @classmethod
    def of(cls, job: Job, queued: float, tries: int = 0) -> Entry:
        return cls(job, queued, tries, (job.delivery,))

    def to_dict(self) -> dict[str, Any]:
        """The job's primitives with the entry's own fields, as a queue that serialises jobs keeps them."""
        return {
            **self.job.to_dict(),
            "queued_at": self.queued,
            "tries": self.tries,
            "deliveries": list(self.deliveries),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        job = job_from_dict(data)
        deliveries = tuple(str(d) for d in data.get("deliveries") or ()) or (job.delivery,)
        return cls(job, float(data.get("queued_at") or 0.0), int(data.get("tries") or 0), deliveries)


def merge(older: Job, newer: Job) -> Job:
    """Two sync jobs of one key as one that works from the newest state: the newer one's delivery and
    commit (None, the head when it runs, wins over a named commit), the older one's `before`, both pushes'
    paths, and a full regeneration or a rebuild asked for by either; a bootstrap stays a bootstrap."""
    full = bool(getattr(older, "full", False) or getattr(newer, "full", False))
    recreate = bool(getattr(older, "recreate", False) or getattr(newer, "recreate", False))
    default = getattr(newer, "default_branch", None) or getattr(older, "default_branch", None)
    ids = (newer.delivery, newer.installation_id, newer.owner, newer.repo)
    if isinstance(older, Bootstrap) or isinstance(newer, Bootstrap):
        return Bootstrap(*ids, default_branch=default, full=full, recreate=recreate)
    if isinstance(older, SyncBranch) and isinstance(newer, SyncBranch):
        paths = None if older.paths is None or newer.paths is None else tuple(dict.fromkeys(older.paths + newer.paths))
        return SyncBranch(
            *ids,
            branch=newer.branch or older.branch,
            after=newer.after if older.after and newer.after else None,
            before=older.before or newer.before,
            default_branch=default,
            paths=paths,
            full=full,
            recreate=recreate,
        )
    if isinstance(older, CheckPull) and isinstance(newer, CheckPull):
        return CheckPull(*ids, number=newer.number, default_branch=default, full=full, recreate=recreate)
    raise ValueError(f"{older.kind} and {newer.kind} do not merge")


def coalesce(pending: list[Entry], new: Entry) -> tuple[list[Entry], list[Entry]]:
    """A key's pending entries with `new` added, and the entries whose work another one now does (to be
    recorded as coalesced). Sync work (SyncBranch, Bootstrap, CheckPull) merges into the last pending entry
    when that is sync work too (the merged job keeps the newer one's delivery); a branch's deletion makes
    the syncs pending after the last other job moot, and merges with a pending deletion; a command, or
    anything else, is appended, so commands run in order. A delivery already pending is not added again."""
    if any(set(new.deliveries) <= set(e.deliveries) for e in pending):
        return pending, []
    entries, absorbed = list(pending), []
    if isinstance(new.job, CloseDocs):
        while entries and isinstance(entries[-1].job, SyncBranch | CloseDocs):
            absorbed.append(entries.pop())
        entries.append(new)
        return entries, absorbed
    last = entries[-1] if entries else None
    if last is not None and isinstance(new.job, SYNC_WORK) and isinstance(last.job, SYNC_WORK):
        older, newer = (last, new) if last.queued <= new.queued else (new, last)
        job = merge(older.job, newer.job)
        merged = Entry(
            job, newer.queued, min(last.tries, new.tries), tuple(dict.fromkeys(older.deliveries + newer.deliveries))
        )
        entries[-1] = merged
        return entries, [older]
    entries.append(new)
    return entries, []


RECENT = 1000  # finished jobs each queue remembers for recent()


@dataclass(frozen=True)
class Finished:
    """One job's end, for the operator's page and the metrics: the Outcome's action, or "failed",
    "retrying", "deferred", "dropped" (the App's access ended) or "coalesced" (merged into a follow-up of
    its key, which does its work); started: seconds since the epoch; seconds: how long it ran; pull: the
    pull request it made or looked at (0: none)."""

    delivery: str
    kind: str
    key: str
    installation_id: int
    owner: str
    repo: str
    action: str
    reason: str
    started: float
    seconds: float
    pull: int = 0

    @classmethod
    def of(cls, job: Job, action: str, reason: str, started: float, seconds: float = 0.0, pull: int = 0) -> Finished:
        return cls(
            job.delivery,
            job.kind,
            job.key,
            job.installation_id,
            job.owner,
            job.repo,
            action,
            reason,
            started,
            seconds,
            pull,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finished:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Waiting:
    """A job pending, running or waiting for a retry (state "pending" | "running" | "retrying"); since:
    when it was queued, started or failed (seconds since the epoch); tries: failed tries so far."""

    key: str
    kind: str
    delivery: str
    state: str
    since: float
    tries: int = 0


class JobQueue(Protocol):
    """Where the webhook handler puts jobs; the in-process queue or a Redis one."""

    async def enqueue(self, job: Job) -> bool:
        """Queue a job; False when the delivery was already queued or done; QueueUnavailable when it cannot."""
        ...

    async def health(self) -> dict[str, Any]:
        """What /healthz shows; raises when the queue cannot take work."""
        ...

    async def recent(self, limit: int = 100) -> list[Finished]:
        """The last jobs that ended (or were coalesced, dropped, retried), newest first."""
        ...

    async def snapshot(self) -> list[Waiting]:
        """The jobs pending, running or waiting for a retry, oldest first."""
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
                if not job.number:
                    return False
                target, after = await review.head_of_pull(gh, job)
                title = "repodoc could not check the docs"
                if await writes.fail_running(gh, target, after, title, summary):  # the run it left in progress
                    return True
            elif isinstance(job, SyncBranch | Bootstrap):
                names = {"owner": job.owner, "repo": job.repo}
                branch = job.branch if isinstance(job, SyncBranch) else None
                target = Target(
                    job.owner, job.repo, branch or job.default_branch or await review.default_branch(gh, names)
                )
                after = job.after if isinstance(job, SyncBranch) else None
                after = after or await writes.head_of(gh, target, target.branch)
            else:
                return False
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


async def _sync(gh: GitHubClient, job: Job) -> Outcome:
    assert isinstance(job, SyncBranch)
    names = {"owner": job.owner, "repo": job.repo}
    default = job.default_branch or await review.default_branch(gh, names)
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
    default = job.default_branch or await review.default_branch(gh, {"owner": job.owner, "repo": job.repo})
    target = Target(job.owner, job.repo, default)
    after = await writes.head_of(gh, target, default)
    if after is None:
        return Outcome("ignored", f"no commit on {default} yet (an empty repository)")
    return await sync_branch(
        gh, target, after, default_branch=default, intro=True, full=job.full, recreate=job.recreate
    )


async def _pull(gh: GitHubClient, job: Job) -> Outcome:
    assert isinstance(job, CheckPull)
    return await review.check_pull(
        gh, job.owner, job.repo, job.number, full=job.full, recreate=job.recreate, head_sha=job.head_sha
    )


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


class InProcessQueue:
    """Jobs served by this process: up to `concurrency` keys at a time, each key's jobs one at a time and
    in order, sync work coalescing while it waits (`coalesce`). At most `bound` jobs pending: a delivery
    past it raises QueueUnavailable (503). A job failing for a transient reason is queued again after a
    backoff (a deferred one at the time GitHub named, not counted as a try); one that fails for good is
    reported by `report`. Nothing survives a restart: the start-up sweep (bot/sweep.py) finds what was
    left undone."""

    def __init__(
        self,
        run: Callable[[Job], Awaitable[Outcome]],
        *,
        report: Callable[[Job, str, int], Awaitable[bool]] | None = None,
        retries: Retries | None = None,
        spacing: float = BOOTSTRAP_SPACING,
        concurrency: int = CONCURRENCY,
        bound: int = QUEUE_BOUND,
    ) -> None:
        self._run = run
        self._report = report
        self.retries = retries or Retries()
        self.spacing = spacing
        self.concurrency = max(1, concurrency)
        self.bound = max(1, bound)
        self._seen: cachetools.TTLCache[str, str] = cachetools.TTLCache(maxsize=100_000, ttl=24 * 3600)
        self._keys: dict[str, list[Entry]] = {}  # key -> its pending entries, in order
        self._ready: deque[str] = deque()  # keys with pending entries and none running, in the order they came
        self._running: dict[str, tuple[Entry, float, asyncio.Task[None]]] = {}  # key -> entry, start, task
        self._later_tasks: dict[asyncio.Task[None], Waiting] = {}  # entries waiting for their time
        self._pending = 0  # entries in _keys
        self._changed = asyncio.Event()
        self._stamp = 0.0
        self._forgotten: cachetools.TTLCache[str, float] = cachetools.TTLCache(maxsize=100_000, ttl=24 * 3600)
        self._finished: deque[Finished] = deque(maxlen=RECENT)
        self._closing = False

    # -- the protocol -------------------------------------------------------------------------------
    async def enqueue(self, job: Job) -> bool:
        if self._seen.get(job.delivery) in ("queued", "done"):
            return False
        if self._closing:
            raise QueueUnavailable("the server is shutting down")
        if isinstance(job, Forget):  # every job of the repository queued before now is dropped
            self._forgotten[job.repository] = self._now()
            self._seen[job.delivery] = "done"
            return True
        if self._pending + len(self._later_tasks) >= self.bound and not self._merges(job):
            raise QueueUnavailable(f"the queue is full ({self.bound} jobs pending)")
        self._seen[job.delivery] = "queued"
        entry = Entry.of(job, self._now())
        if isinstance(job, Bootstrap) and job.position:
            self._later(entry, job.position * self.spacing, "pending")
        else:
            self._add(entry)
        return True

    async def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "queue": "in-process",
            "pending": self._pending,
            "running": len(self._running),
            "waiting": len(self._later_tasks),
        }

    async def recent(self, limit: int = 100) -> list[Finished]:
        return list(self._finished)[::-1][: max(limit, 0)]

    async def snapshot(self) -> list[Waiting]:
        found = [
            Waiting(key, e.job.kind, e.job.delivery, "running", started, e.tries)
            for key, (e, started, _) in self._running.items()
        ]
        for key, entries in self._keys.items():
            found += [Waiting(key, e.job.kind, e.job.delivery, "pending", e.queued, e.tries) for e in entries]
        found += self._later_tasks.values()
        return sorted(found, key=lambda w: w.since)

    # -- serving ------------------------------------------------------------------------------------
    async def serve(self) -> None:
        """Start jobs until cancelled: a key's next entry whenever a key is ready and fewer than
        `concurrency` run; one job's failure never stops the queue. Cancelling it cancels running jobs."""
        try:
            while True:
                while self._closing or not self._ready or len(self._running) >= self.concurrency:
                    await self._wait()
                key = self._ready.popleft()
                entries = self._keys[key]
                entry = entries.pop(0)
                self._pending -= 1
                if not entries:
                    del self._keys[key]
                task = asyncio.create_task(self._work(key, entry))
                self._running[key] = (entry, time.time(), task)
        finally:
            tasks = [task for _, _, task in self._running.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def join(self) -> None:
        """Wait until every queued job has run, retries and deferred runs included."""
        while self._keys or self._running or self._later_tasks:
            await self._wait()

    async def stop(self, grace: float = GRACE_SECONDS) -> None:
        """Take no more work and start no more jobs; give running jobs `grace` seconds to finish, then
        cancel them. What is left pending (or waiting for a retry) is lost to this process: the next
        start-up sweep finds its work."""
        self._closing = True
        self._kick()
        running = [task for _, _, task in self._running.values()]
        if running:
            log.info("stopping: waiting up to %.0f s for %d running job(s)", grace, len(running))
            _, late = await asyncio.wait(running, timeout=max(grace, 0.0))
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        left = self._pending + len(self._later_tasks)
        if left:
            log.info("stopping: %d pending job(s) handed back (the next start-up sweep finds their work)", left)
        await self.close()

    async def close(self) -> None:
        """Drop the jobs waiting for a later try (the next start-up sweep finds their work)."""
        for task in list(self._later_tasks):
            task.cancel()
        await asyncio.gather(*self._later_tasks, return_exceptions=True)

    # -- inside -------------------------------------------------------------------------------------
    def _now(self) -> float:
        """Seconds since the epoch, strictly increasing (orders a job against a Forget)."""
        self._stamp = max(time.time(), self._stamp + 1e-6)
        return self._stamp

    def _kick(self) -> None:
        self._changed.set()

    async def _wait(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    def _merges(self, job: Job) -> bool:
        """Whether the job would merge into its key's last pending entry (costing no room in the queue)."""
        pending = self._keys.get(job.key) or []
        return bool(pending) and isinstance(job, SYNC_WORK) and isinstance(pending[-1].job, SYNC_WORK)

    def _add(self, entry: Entry) -> None:
        """Put an entry on its key, coalescing; the key becomes ready unless one of its jobs runs."""
        key = entry.job.key
        pending = self._keys.get(key, [])
        entries, absorbed = coalesce(pending, entry)
        self._pending += len(entries) - len(pending)
        self._keys[key] = entries
        for gone in absorbed:
            self._ended(gone, "coalesced", f"merged into a later job of {key}", time.time(), 0.0)
        if key not in self._running and key not in self._ready:
            self._ready.append(key)
        self._kick()

    def _later(self, entry: Entry, delay: float, state: str) -> None:
        async def wait() -> None:
            await self.retries.sleep(max(delay, 0.0))
            if not self._closing:
                self._add(entry)

        task = asyncio.create_task(wait())
        job = entry.job
        self._later_tasks[task] = Waiting(job.key, job.kind, job.delivery, state, time.time(), entry.tries)

        def done(task: asyncio.Task[None]) -> None:
            self._later_tasks.pop(task, None)
            self._kick()

        task.add_done_callback(done)

    def _ended(self, entry: Entry, action: str, reason: str, started: float, seconds: float, pull: int = 0) -> None:
        job = entry.job
        self._finished.append(Finished.of(job, action, reason, started, seconds, pull))
        done = metrics.job_finished(job, action)
        log.info("job %s (%s %s): %s %s", job.delivery, job.kind, job.key, action, reason, extra=done)
        if action in ("retrying", "deferred"):
            return
        for delivery in entry.deliveries:
            self._seen[delivery] = "failed" if action == "failed" else "done"

    async def _work(self, key: str, entry: Entry) -> None:
        started = time.time()
        try:
            if self._forgotten.get(entry.job.repository, 0.0) > entry.queued:
                self._ended(entry, "dropped", "the App's access to the repository ended", started, 0.0)
            else:
                await self._attempt(entry, started)
        finally:
            self._running.pop(key, None)
            if key in self._keys and key not in self._ready:
                self._ready.append(key)
            self._kick()

    async def _attempt(self, entry: Entry, started: float) -> None:
        """One try of an entry: its outcome, a retry or deferral scheduled, or the failure reported."""
        job = entry.job
        try:
            outcome = await self._run(job)
        except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the queue
            seconds = time.time() - started
            until = deferral(exc)
            if until is not None:
                self._later(entry, until - self.retries.clock(), "retrying")
                self._ended(entry, "deferred", f"GitHub asks to wait until {time.ctime(until)}", started, seconds)
                return
            failures = entry.tries + 1
            reason = describe(exc)
            log.error("job %s for %s/%s failed (try %d): %s", job.delivery, job.owner, job.repo, failures, reason)
            if transient(exc) and failures < self.retries.tries:
                self._later(replace(entry, tries=failures), self.retries.wait(failures), "retrying")
                self._ended(entry, "retrying", reason, started, seconds)
                return
            if self._report is not None:
                await self._report(job, reason, failures)
            self._ended(entry, "failed", reason, started, seconds)
            return
        self._ended(entry, outcome.action, outcome.reason, started, time.time() - started, outcome.pull)
