"""The sweep: find every documented branch whose docs are stale, and queue a sync for it.

repodoc answers a delivery 202 before working and the in-process queue keeps nothing over a restart,
so a lost job is found again here: at start-up and every RECONCILE_INTERVAL seconds the App lists
its installations (`GET /app/installations`, the App's JWT) and their repositories
(`GET /installation/repositories`, an installation token), and for each documented branch (the
default branch, and those its config lists under `branches`) reads its tree listing (at any size) and
the config, predicts the manifests exactly as the sync's reconcile does (`expected_folders`,
`stale_folders`) and compares blob ids with the docs tree. A branch is stale only when neither its
docs nor its open docs pull request match (the PR's marker names the source commit it was made for;
otherwise its docs branch's listing is compared too). Nothing is rendered, nothing is written: the
sync queued does that. Syncs are queued paced (one per `pace` seconds, never more than BACKLOG
waiting), so a generator upgrade, which makes every folder stale, reaches repositories one by one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .engine import CONFIG_PATH, Config, ConfigError
from .engine.reconcile import Entry, docs_listing, stale_folders
from .github import pulls, writes
from .github.auth import app_jwt
from .github.client import Deferred
from .github.listing import listing as tree_listing
from .github.plan import survey
from .github.sync import DOCS_PREFIX, Target, load_config
from .jobs import JobQueue, Runner, SyncBranch, deferral, describe

log = logging.getLogger("repodoc.sweep")
PACE = 2.0  # seconds between two syncs the sweep queues
BACKLOG = 8  # the sweep waits while this many jobs are pending in the queue
PER_PAGE = 100


@dataclass
class Swept:
    """What one sweep found."""

    repositories: int = 0
    branches: int = 0
    current: int = 0
    queued: list[str] = field(default_factory=list)  # "owner/repo:branch" of each sync queued
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Branch:
    """One documented branch as the sweep read it."""

    name: str
    head: str
    listing: dict[str, Entry]
    config: Config


async def sweep(
    runner: Runner,
    queue: JobQueue,
    *,
    pace: float = PACE,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Swept:
    """One sweep over every repository of every installation of the App; never raises for one
    repository's failure (it is logged and counted)."""
    found = Swept()
    gh = runner.client()
    installations = [
        int(item["id"])
        async for item in gh.getiter(f"/app/installations?per_page={PER_PAGE}", jwt=app_jwt(runner.tokens.creds))
    ]
    for installation in installations:
        try:
            await _installation(runner, queue, installation, found, pace, sleep)
        except Exception as exc:  # noqa: BLE001 - one installation's failure must not stop the sweep
            found.errors.append(f"installation {installation}: {describe(exc)}")
            log.error("sweep: installation %d: %s", installation, describe(exc))
    log.info(
        "sweep: %d repositories, %d documented branches, %d current, %d syncs queued, %d errors",
        found.repositories,
        found.branches,
        found.current,
        len(found.queued),
        len(found.errors),
    )
    return found


async def _installation(
    runner: Runner,
    queue: JobQueue,
    installation: int,
    found: Swept,
    pace: float,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    gh = runner.client(await runner.tokens.token(runner.client(), installation), installation)
    async for repo in gh.getiter(f"/installation/repositories?per_page={PER_PAGE}", iterable_key="repositories"):
        if repo.get("archived") or repo.get("disabled"):
            continue
        found.repositories += 1
        owner, name = str(repo["owner"]["login"]), str(repo["name"])
        try:
            stale = await stale_branches(gh, owner, name, str(repo["default_branch"]), found)
        except Exception as exc:  # noqa: BLE001 - one repository's failure must not stop the sweep
            found.errors.append(f"{owner}/{name}: {describe(exc)}")
            log.error("sweep: %s/%s: %s", owner, name, describe(exc))
            if isinstance(exc, Deferred) or deferral(exc) is not None:
                return  # this installation's budget is spent; the next sweep goes on
            continue
        for branch in stale:
            while (await queue.health()).get("pending", 0) >= BACKLOG:
                await sleep(max(pace, 0.01))
            job = SyncBranch(
                f"sweep:{owner}/{name}:{branch.name}@{branch.head}",
                installation,
                owner,
                name,
                branch=branch.name,
                after=branch.head,
                default_branch=str(repo["default_branch"]),
            )
            if await queue.enqueue(job):
                found.queued.append(f"{owner}/{name}:{branch.name}")
                log.info("sweep: %s/%s: the docs of %s are stale; sync queued", owner, name, branch.name)
                await sleep(pace)


async def stale_branches(
    gh: Any, owner: str, repo: str, default_branch: str, found: Swept | None = None
) -> list[Branch]:
    """The documented branches of a repository whose docs, and open docs pull request, are stale."""
    names = {"owner": owner, "repo": repo}
    default = await _branch(gh, names, default_branch)
    if default is None or not default.config.enabled:
        return []
    documented = [default]
    for extra in dict.fromkeys(default.config.branches):
        if extra != default_branch and not extra.startswith(DOCS_PREFIX):
            branch = await _branch(gh, names, extra)
            if branch is not None:
                documented.append(branch)
    stale = []
    for branch in documented:
        if found is not None:
            found.branches += 1
        if await _stale(gh, names, branch):
            stale.append(branch)
        elif found is not None:
            found.current += 1
    return stale


async def _branch(gh: Any, names: dict[str, str], name: str) -> Branch | None:
    """A branch's head, listing and config; None when it does not exist, is empty or its config is
    broken (the push that broke it showed a failed check run; a sync would only repeat it)."""
    target = Target(names["owner"], names["repo"], name)
    head = await writes.head_of(gh, target, name)
    if head is None:  # no such branch, or an empty repository
        return None
    _, listing = await tree_listing(gh, target, head)  # at any size: past GitHub's truncation too
    try:
        config, _ = await load_config(gh, target, listing.get(CONFIG_PATH))  # as the sync reads it
    except ConfigError as exc:
        log.warning("sweep: %s/%s: %s: %s", names["owner"], names["repo"], name, exc)
        return None
    return Branch(name, head, listing, config)


async def _stale(gh: Any, names: dict[str, str], branch: Branch) -> bool:
    """Whether neither the branch's docs nor its open docs pull request's docs match its head."""
    config = branch.config
    found = survey(branch.listing, config)  # as the sync surveys it
    if not found.stale:
        return False
    target = Target(names["owner"], names["repo"], branch.name)
    pull = await pulls.find_pull(gh, target)  # as the sync finds it: by marker and base, else by head
    if pull is None:
        return True
    if pull.source == branch.head:
        return False
    _, listing = await tree_listing(gh, target, pull.head_sha)
    return bool(stale_folders(found.expected, docs_listing(listing, config.docs_dir), config))


async def sweep_forever(
    runner: Runner,
    queue: JobQueue,
    interval: float,
    *,
    claim: Callable[[], Awaitable[bool]] | None = None,
    pace: float = PACE,
) -> None:
    """Sweep at once, then every interval seconds, until cancelled; claim (Redis mode): whether this
    process may sweep now, so that one sweep runs however many servers there are."""
    while True:
        try:
            if claim is None or await claim():
                await sweep(runner, queue, pace=pace)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            log.error("sweep failed: %s", describe(exc))
        await asyncio.sleep(interval)
