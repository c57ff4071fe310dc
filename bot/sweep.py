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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .census import CURRENT, FAILING, PULL, STALE, Census, Docs, Repository
from .engine import CONFIG_PATH, Config, ConfigError
from .engine.reconcile import Entry, docs_listing, stale_folders
from .github import pulls, writes
from .github.auth import app_jwt_off_loop
from .github.client import Deferred
from .github.listing import listing as tree_listing
from .github.plan import survey
from .github.pulls import OpenPull
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
    census: Census | None = None,
) -> Swept:
    """One sweep over every repository of every installation of the App; never raises for one
    repository's failure (it is logged and counted). What it finds goes into census (the operator's page)."""
    found = Swept()
    census = census if census is not None else Census()
    census.start()
    gh = runner.client()
    installations = [
        (int(item["id"]), str((item.get("account") or {}).get("login") or ""))
        async for item in gh.getiter(
            f"/app/installations?per_page={PER_PAGE}", jwt=await app_jwt_off_loop(runner.tokens.creds)
        )
    ]
    complete = True
    for installation, account in installations:
        census.installation(installation, account)
        try:
            complete &= await _installation(runner, queue, installation, found, pace, sleep, census)
        except Exception as exc:  # noqa: BLE001 - one installation's failure must not stop the sweep
            complete = False
            found.errors.append(f"installation {installation}: {describe(exc)}")
            log.error("sweep: installation %d: %s", installation, describe(exc))
    if complete:
        census.end()
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
    census: Census,
) -> bool:
    """Sweep one installation's repositories; False when its budget ran out before the end."""
    gh = runner.client(await runner.tokens.token(runner.client(), installation), installation)
    async for repo in gh.getiter(f"/installation/repositories?per_page={PER_PAGE}", iterable_key="repositories"):
        if repo.get("archived") or repo.get("disabled"):
            continue
        found.repositories += 1
        owner, name = str(repo["owner"]["login"]), str(repo["name"])
        docs: list[Docs] = []
        seen = Repository(installation, owner, name, str(repo["default_branch"]), at=census.clock())
        try:
            stale = await stale_branches(gh, owner, name, str(repo["default_branch"]), found, docs)
        except Exception as exc:  # noqa: BLE001 - one repository's failure must not stop the sweep
            found.errors.append(f"{owner}/{name}: {describe(exc)}")
            log.error("sweep: %s/%s: %s", owner, name, describe(exc))
            census.repository(replace(seen, note=f"the sweep could not read it: {describe(exc)}"))
            if isinstance(exc, Deferred) or deferral(exc) is not None:
                return False  # this installation's budget is spent; the next sweep goes on
            continue
        census.repository(replace(seen, docs=tuple(docs), note="" if docs else "not documented (empty, or turned off)"))
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
    return True


async def stale_branches(
    gh: Any, owner: str, repo: str, default_branch: str, found: Swept | None = None, docs: list[Docs] | None = None
) -> list[Branch]:
    """The documented branches of a repository whose docs, and open docs pull request, are stale;
    docs: receives every documented branch's state (current, PR open, stale, failing for a broken config)."""
    names = {"owner": owner, "repo": repo}
    docs = docs if docs is not None else []
    default = await _branch(gh, names, default_branch, docs)
    if default is None or not default.config.enabled:
        return []
    documented = [default]
    for extra in dict.fromkeys(default.config.branches):
        if extra != default_branch and not extra.startswith(DOCS_PREFIX):
            branch = await _branch(gh, names, extra, docs)
            if branch is not None:
                documented.append(branch)
    stale = []
    for branch in documented:
        if found is not None:
            found.branches += 1
        state, pull = await _stale(gh, names, branch)
        number, url = (pull.number, pull.url) if pull is not None else (0, "")
        docs.append(Docs(branch.name, state, number, url, head=branch.head, at=time.time()))
        if state == STALE:
            stale.append(branch)
        elif found is not None:
            found.current += 1
    return stale


async def _branch(gh: Any, names: dict[str, str], name: str, docs: list[Docs]) -> Branch | None:
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
        docs.append(Docs(name, FAILING, reason=f"its config: {exc}", head=head, at=time.time()))
        return None
    return Branch(name, head, listing, config)


async def _stale(gh: Any, names: dict[str, str], branch: Branch) -> tuple[str, OpenPull | None]:
    """The branch's docs state: current (its docs match its head), PR open (its open docs pull request's
    do), or stale (neither does); with the open docs pull request when it was looked up."""
    config = branch.config
    found = survey(branch.listing, config)  # as the sync surveys it
    if not found.stale:
        return CURRENT, None
    target = Target(names["owner"], names["repo"], branch.name)
    pull = await pulls.find_pull(gh, target)  # as the sync finds it: by marker and base, else by head
    if pull is None:
        return STALE, None
    if pull.source == branch.head:
        return PULL, pull
    _, listing = await tree_listing(gh, target, pull.head_sha)
    stale = stale_folders(found.expected, docs_listing(listing, config.docs_dir), config)
    return (STALE if stale else PULL), pull


async def sweep_forever(
    runner: Runner,
    queue: JobQueue,
    interval: float,
    *,
    claim: Callable[[], Awaitable[bool]] | None = None,
    pace: float = PACE,
    census: Census | None = None,
) -> None:
    """Sweep at once, then every interval seconds, until cancelled; claim (Redis mode): whether this
    process may sweep now, so that one sweep runs however many servers there are."""
    while True:
        try:
            if claim is None or await claim():
                await sweep(runner, queue, pace=pace, census=census)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            log.error("sweep failed: %s", describe(exc))
        await asyncio.sleep(interval)
