"""What the latest sweep found, in memory, for the operator's page: the installations, their repositories and
each documented branch's docs state. The sweep writes it (bot/sweep.py); the page reads it and never asks GitHub.

The page joins it with the queue's recent outcomes (`docs_states`): whichever is newer decides a target's state,
so a job that failed after the sweep shows the repository as failing, and a pull request opened since shows as open.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

CURRENT, PULL, STALE, FAILING, UNKNOWN = "current", "PR open", "stale", "failing", "unknown"
SEVERITY = {FAILING: 0, STALE: 1, UNKNOWN: 2, PULL: 3, CURRENT: 4}  # the worst first
if TYPE_CHECKING:
    from .jobs import Finished

MAX_REPOSITORIES = 50_000  # what the census keeps at most (a few hundred bytes each)


@dataclass(frozen=True)
class Docs:
    """One documented target (a branch; for job outcomes also a pull request `#N`) and its docs state."""

    target: str
    state: str
    pull: int = 0
    pull_url: str = ""
    reason: str = ""
    head: str = ""  # the commit the state is about, when known
    at: float = 0.0  # when this was found
    source: str = "sweep"  # or the job's kind


@dataclass(frozen=True)
class Repository:
    """A repository as the last sweep saw it."""

    installation: int
    owner: str
    name: str
    default_branch: str
    docs: tuple[Docs, ...] = ()
    note: str = ""  # why it has no documented branch, or why the sweep could not read it
    at: float = 0.0

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Census:
    """The latest sweep's findings. A sweep updates repositories as it goes (`start`, `installation`,
    `repository`), and `end` drops what a complete sweep no longer saw (an uninstalled repository)."""

    clock: Callable[[], float] = time.time
    installations: dict[int, str] = field(default_factory=dict)  # id -> account login
    repositories: dict[str, Repository] = field(default_factory=dict)  # lower-cased full name -> repository
    started: float | None = None  # the sweep in progress, or the last one
    ended: float | None = None  # when the last complete sweep ended
    _seen: set[str] = field(default_factory=set)
    _accounts: set[int] = field(default_factory=set)

    def start(self) -> None:
        self.started = self.clock()
        self._seen, self._accounts = set(), set()

    def installation(self, installation: int, account: str) -> None:
        self.installations[installation] = account
        self._accounts.add(installation)

    def repository(self, repository: Repository) -> None:
        key = repository.full_name.lower()
        if key not in self.repositories and len(self.repositories) >= MAX_REPOSITORIES:
            return
        self.repositories[key] = repository
        self._seen.add(key)

    def end(self) -> None:
        """A sweep went through every installation: forget what it did not see."""
        self.repositories = {k: v for k, v in self.repositories.items() if k in self._seen}
        self.installations = {k: v for k, v in self.installations.items() if k in self._accounts}
        self.ended = self.clock()


def target_of(key: str, owner: str, repo: str) -> str:
    """The target in a job's key: `owner/repo:branch` → the branch, `owner/repo#3` → `#3`, else ''."""
    prefix = f"{owner}/{repo}"
    rest = key[len(prefix) :] if key.lower().startswith(prefix.lower()) else key
    return rest[1:] if rest.startswith(":") else rest


def state_of(job: Finished) -> str | None:
    """The docs state a finished job shows for its target; None when it says nothing about it
    (ignored, superseded, deferred, retrying, dropped, a command's reply)."""
    action = job.action
    if action == "failed":
        return FAILING
    if action in ("opened", "updated", "held"):
        return PULL
    if action == "unchanged":
        return PULL if job.pull else CURRENT
    if action == "reported":
        return STALE
    if action == "closed" and job.kind not in ("close", "pull"):
        return CURRENT
    return None


@dataclass(frozen=True)
class Row:
    """One repository on the page: its docs targets, newest knowledge first, worst first."""

    installation: int
    owner: str
    name: str
    default_branch: str
    docs: tuple[Docs, ...]
    note: str

    @property
    def state(self) -> str:
        return min((d.state for d in self.docs), key=SEVERITY.__getitem__, default=UNKNOWN)


def docs_states(census: Census, finished: Iterable[Finished]) -> list[Row]:
    """The census joined with the queue's recent outcomes (newest first): for each target, the newer of
    the sweep's finding and the last job that says something about it. Repositories the sweep has not
    seen (no sweep yet, or sweeps off) come from the jobs alone. Worst state first, then by name."""
    repos: dict[str, Repository] = dict(census.repositories)
    from_jobs: dict[str, dict[str, Docs]] = {}
    gone: dict[str, dict[str, float]] = {}  # targets whose branch was deleted or pull request closed: when
    for job in finished:
        key = f"{job.owner}/{job.repo}".lower()
        if key not in repos:
            repos[key] = Repository(job.installation_id, job.owner, job.repo, "")
        target = target_of(job.key, job.owner, job.repo)
        targets = from_jobs.setdefault(key, {})
        if target in targets or target in gone.get(key, {}):
            continue  # a newer job already decided it
        if job.action == "closed" and job.kind in ("close", "pull"):
            gone.setdefault(key, {})[target] = job.started + job.seconds
            continue
        state = state_of(job)
        if state is not None:
            reason = job.reason if state != PULL or job.action == "held" else ""
            at = job.started + job.seconds
            targets[target] = Docs(target, state, job.pull, "", reason, "", at, job.kind)
    rows = []
    for key, repo in repos.items():
        docs: dict[str, Docs] = {}
        default = repo.default_branch
        for found in repo.docs:
            docs[found.target] = found
        for target, job_docs in from_jobs.get(key, {}).items():
            name = target or default  # a bootstrap of a default branch not yet known
            known = docs.get(name)
            if known is None or job_docs.at >= known.at:
                docs[name] = replace(job_docs, target=name)
        for target, at in gone.get(key, {}).items():
            if target in docs and docs[target].at <= at:
                del docs[target]
        ordered = sorted(docs.values(), key=lambda d: (d.target != default, d.target.startswith("#"), d.target))
        rows.append(Row(repo.installation, repo.owner, repo.name, default, tuple(ordered), repo.note))
    rows.sort(key=lambda r: (SEVERITY[r.state], r.owner.lower(), r.name.lower()))
    return rows
