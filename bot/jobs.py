"""Jobs: what a webhook asks for (ids and primitives only), the queue, and the runner."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol

import aiohttp
import cachetools

from .github.auth import AppCredentials, TokenCache
from .github.caches import Caches
from .github.client import GitHubClient, ref_url
from .github.limits import Limits
from .github.sync import Outcome, Target, sync_branch

log = logging.getLogger("repodoc.jobs")
USER_AGENT = "repodoc"


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
        token = await self.tokens.token(self.client(), job.installation_id)
        gh = self.client(token, job.installation_id)
        names = {"owner": job.owner, "repo": job.repo}
        default = job.default_branch
        if default is None:
            default = str((await gh.getitem("/repos/{owner}/{repo}", names))["default_branch"])
        branch = job.branch or default
        after = job.after
        if after is None:
            after = str((await gh.getitem(ref_url("ref", "heads/" + branch), names))["object"]["sha"])
        return await sync_branch(
            gh, Target(job.owner, job.repo, branch), after, before=job.before, default_branch=default, paths=job.paths
        )


class InProcessQueue:
    """An asyncio queue served by one task; jobs for one App run one at a time, in order."""

    def __init__(self, run: Callable[[Job], Awaitable[Outcome]]) -> None:
        self._run = run
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._seen: cachetools.TTLCache[str, str] = cachetools.TTLCache(maxsize=100_000, ttl=24 * 3600)
        self.outcomes: cachetools.LRUCache[str, Outcome] = cachetools.LRUCache(maxsize=1000)

    async def enqueue(self, job: Job) -> bool:
        if self._seen.get(job.delivery) in ("queued", "done"):
            return False
        self._seen[job.delivery] = "queued"
        await self._queue.put(job)
        return True

    async def health(self) -> dict[str, Any]:
        return {"status": "ok", "queue": "in-process", "pending": self._queue.qsize()}

    async def join(self) -> None:
        """Wait until every queued job has run."""
        await self._queue.join()

    async def serve(self) -> None:
        """Run jobs until cancelled; a failed job is logged and its delivery may be redelivered."""
        while True:
            job = await self._queue.get()
            try:
                outcome = await self._run(job)
                self._seen[job.delivery] = "done"
            except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the queue
                log.error("job %s for %s/%s failed: %s: %s", job.delivery, job.owner, job.repo, type(exc).__name__, exc)
                outcome = Outcome("failed", f"{type(exc).__name__}: {exc}")
                self._seen[job.delivery] = "failed"
            finally:
                self._queue.task_done()
            self.outcomes[job.delivery] = outcome
            log.info("job %s for %s/%s: %s %s", job.delivery, job.owner, job.repo, outcome.action, outcome.reason)
