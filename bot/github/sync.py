"""Sync the docs of one branch: fetch listings and the changed blobs → `plan.plan` (pure) → act on the
plan (`publish.publish`, `publish.close`), or leave a pull request that already carries it alone.

Reconcile, don't replay: the change set comes from comparing the pushed commit's tree with the
manifests in its docs folder, never from the push payload's capped file lists, so force pushes,
new branches and missed events all converge to what `repodoc generate` writes for that commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import threading
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import gidgethub

from .. import collector
from ..engine import (
    CONFIG_PATH,
    FAILED,
    STATE,
    Config,
    ConfigError,
    FileResult,
    FolderState,
    blob_id,
    md,
    not_documented,
    parse_config,
    parse_state,
    render_file,
    too_large,
)
from ..engine.names import docs_folder_problem, free_docs_dir, hand_written, hand_written_problem
from ..engine.reconcile import SYMLINK, Entry
from ..engine.tree import join
from . import publish, pulls, writes
from .client import ref_url
from .contents import blob, bounded, contents
from .listing import listing as tree_listing
from .plan import DOCS_PREFIX, PAGE_MODE, Outcome, Plan, Survey, Target, plan, renders, survey

__all__ = ["DOCS_PREFIX", "Outcome", "Target", "sync_branch"]

log = logging.getLogger("repodoc.sync")


async def load_config(gh: Any, target: Target, entry: Entry | None) -> tuple[Config, list[str]]:
    """The config held by a tree entry (defaults when absent); raises ConfigError, also for a symlink,
    whose blob is the path it points to, never a config."""
    if entry is not None and entry.mode == SYMLINK:
        raise ConfigError(f"{CONFIG_PATH} is a symbolic link: repodoc reads its config only from a regular file")
    return parse_config(await blob(gh, target, entry.sha) if entry else None)


async def _config_entry(gh: Any, target: Target, commit: str) -> Entry | None:
    """The config's tree entry at a commit, walking down its folders (no recursive read of the tree)."""
    parts = CONFIG_PATH.split("/")
    found: dict[str, Any] = {"sha": commit}
    for depth, part in enumerate(parts, 1):
        data = await gh.getitem("/repos/{owner}/{repo}/git/trees/{sha}", {**target.url_vars, "sha": found["sha"]})
        found = next((e for e in data["tree"] if e["path"] == part), {})
        if found.get("type") != ("blob" if depth == len(parts) else "tree"):
            return None
    return Entry(found["mode"], found["sha"], found.get("size", 0))


async def _enrolled(gh: Any, target: Target, default_branch: str) -> str:
    """Why a branch other than the default one gets no docs, or '': `enabled` and `branches` are read
    from the default branch's config only, so that no branch can enrol itself; raises ConfigError."""
    head = await gh.getitem(ref_url("ref", "heads/" + default_branch), target.url_vars)
    config, _ = await load_config(gh, target, await _config_entry(gh, target, head["object"]["sha"]))
    if not config.enabled:
        return "turned off by the repository's config"
    if target.branch not in config.branches:
        return "branch not configured"
    return ""


async def sync_branch(
    gh: Any,
    target: Target,
    after: str,
    *,
    before: str = "",
    default_branch: str | None = None,
    paths: tuple[str, ...] | None = None,
    full: bool = False,
    recreate: bool = False,
    intro: bool = False,
) -> Outcome:
    """Bring the docs pull request of target's branch in step with commit `after`
    (all zeros: the branch was deleted, so its docs pull request is closed).
    default_branch: the repository's (None: target's branch is it); paths: every path a complete push
    touched (None: not known), to skip a push that touches only the docs folder; full: remake every page;
    recreate: rebuild the docs branch even over people's commits; intro: the first pull request."""
    if set(after) == {"0"}:
        return await _branch_deleted(gh, target)
    is_default = default_branch in (None, target.branch)
    if not is_default:
        assert default_branch is not None
        try:
            why = await _enrolled(gh, target, default_branch)
        except ConfigError as exc:
            log.warning("%s/%s: the default branch's config decides, and %s", target.owner, target.repo, exc)
            return Outcome("failed", f"the config of the default branch {md.code(default_branch)}: {exc}")
        if why:
            return Outcome("ignored", why)
    root, listing = await tree_listing(gh, target, after)  # at any size, cached by sha
    try:
        config, warnings = await load_config(gh, target, listing.get(CONFIG_PATH))
    except ConfigError as exc:
        await writes.check_run(gh, target, after, "failure", "repodoc cannot read its config", str(exc))
        return Outcome("failed", str(exc))
    for warning in warnings:
        log.warning("%s/%s: %s", target.owner, target.repo, warning)
    if is_default and not config.enabled:
        closed = await cleanup(gh, target, config)
        return Outcome("ignored", "turned off by the repository's config" + (f"; closed {closed}" if closed else ""))
    if paths and all(p.startswith(config.docs_dir + "/") for p in paths):
        return Outcome("ignored", f"the push touches only {config.docs_dir}/")
    planned = await prepare(gh, target, after, root, listing, config, before=before, full=full, intro=intro)
    if isinstance(planned, str):  # as `repodoc generate` refuses it: a pull request would replace the user's files
        await writes.check_run(gh, target, after, "failure", "repodoc cannot write its docs folder", planned)
        return Outcome("failed", planned)
    if is_default and not intro and (paths is None or CONFIG_PATH in paths):
        await cleanup(gh, target, config)  # the config may have changed: branches that left, companions off
    return await act(gh, planned, await pulls.find_pull(gh, target), recreate=recreate)


async def prepare(
    gh: Any,
    target: Target,
    after: str,
    root: str,
    listing: dict[str, Entry],
    config: Config,
    *,
    before: str = "",
    full: bool = False,
    intro: bool = False,
) -> Plan | str:
    """The plan for commit `after` (its listing and config read): its stale folders' states read, the files
    they need rendered; or why the docs folder cannot be written. A docs folder that holds a project's own
    docs (no `docs_dir` in any config) is not mixed into: when there is no config at all the plan proposes one
    with a free `docs_dir` beside them (its commit adds `.github/repodoc.yml`), else the refusal says the fix."""
    blocked = not_a_folder(listing, config.docs_dir)
    if blocked:
        return blocked
    sources: dict[str, str] = {}
    prefix = config.docs_dir + "/"
    own = hand_written({p[len(prefix) :] for p in listing if p.startswith(prefix)}, config.docs_dir_given)
    if own:
        if CONFIG_PATH in listing:
            return hand_written_problem(config.docs_dir, own)
        docs_dir = free_docs_dir(listing)
        text = PROPOSED_CONFIG.format(docs_dir=docs_dir)
        config, _ = parse_config(text)
        sources[CONFIG_PATH] = text
        data = text.encode("utf-8")
        listing = {**listing, CONFIG_PATH: Entry(PAGE_MODE, blob_id(data), len(data))}
        blocked = not_a_folder(listing, config.docs_dir)
        if blocked:
            return blocked
    # the pure steps over every file of a large repository take long enough to stall the event loop (and the
    # answers to webhooks): they run in a thread, which yields the loop the interpreter every few milliseconds
    found = await asyncio.to_thread(survey, listing, config)
    if full:  # every folder remade from freshly rendered files; the states still say what repodoc owns
        found = Survey(found.docs, found.expected, sorted(set(found.stale) | set(found.expected)))
    states = await _states(gh, target, found.stale, found.docs)
    wanted = renders(found, {} if full else states)
    rendered = await _render(gh, target, after, listing, wanted, config, sources)
    return await asyncio.to_thread(
        functools.partial(plan, before=before, intro=intro, sources=sources),
        target,
        after,
        root,
        listing,
        config,
        found,
        states,
        rendered,
    )


PROPOSED_CONFIG = """\
# repodoc's config (https://github.com/): this repository keeps its own docs in docs/, so the generated
# reference goes into a folder of its own. Every key: include, exclude, docs_dir, branches, pull_requests,
# check_conclusion, enabled.
docs_dir: {docs_dir}
"""


async def cleanup(gh: Any, target: Target, config: Config) -> list[int]:
    """Close the App's pull requests that the default branch's config no longer wants (all of them when
    repodoc is turned off; those of branches no longer listed; companions when pull requests are off or
    check-only) and delete their branches, unless a person has committed to them; the numbers closed."""
    closed = []
    documented = {target.branch, *config.branches}
    async for found in gh.getiter("/repos/{owner}/{repo}/pulls?state=open&per_page=100", target.url_vars):
        if not pulls.is_ours(found, f"{target.owner}/{target.repo}"):
            continue
        pull = pulls.parse_pull(found)
        companion = pull.head.startswith(pulls.DOCS_PREFIX + "pr-")
        if not config.enabled:
            why = pulls.TURNED_OFF
        elif companion and config.pull_requests != "companion":
            why = pulls.COMPANIONS_OFF
        elif not companion and pull.base not in documented:
            why = pulls.UNLISTED.format(branch=pull.base)
        else:
            continue
        await publish.close(gh, target, pull, why, drop_branch=True)
        closed.append(pull.number)
    return closed


def not_a_folder(listing: dict[str, Entry], docs_dir: str) -> str:
    """Why the docs folder cannot be written (the local run's words), or '': the docs folder, or a folder
    above it, is a file or a symbolic link at this commit."""

    def standing(rel: str) -> str:
        entry = listing.get(rel)  # a listing holds files only: a folder is absent from it
        return "" if entry is None else "link" if entry.mode == SYMLINK else "file"

    return docs_folder_problem(docs_dir, standing)


async def act(gh: Any, planned: Plan, pull: pulls.OpenPull | None, *, recreate: bool = False) -> Outcome:
    """Act on a plan: close the pull request when nothing is left to propose, leave it alone when it
    already carries exactly the planned docs and still merges cleanly, else publish."""
    target = planned.target
    if planned.empty:
        if pull is None:
            return Outcome("unchanged", "docs already in step")
        return await publish.close(gh, target, pull, pulls.CLOSING.format(branch=target.branch, sha=planned.source))
    if (
        not recreate
        and pull is not None
        and planned.carried_by(pull)
        and await _descends(gh, target, pull.source, planned.source)
    ):
        return Outcome("unchanged", "the open pull request already carries these docs", pull=pull.number)
    return await publish.publish(gh, planned, pull, recreate=recreate)


async def _descends(gh: Any, target: Target, old: str, new: str) -> bool:
    """Whether commit `new` is `old` or has it in its history (so a pull request made on `old` brings
    nothing into `new` but its own changes)."""
    if old == new:
        return True
    # https://docs.github.com/en/rest/commits/commits#compare-two-commits
    try:
        data = await gh.getitem(
            "/repos/{owner}/{repo}/compare/{basehead}?per_page=1", {**target.url_vars, "basehead": f"{old}...{new}"}
        )
    except gidgethub.HTTPException as exc:
        if int(exc.status_code) == 404:
            return False
        raise
    return data["status"] in ("ahead", "identical")


async def _branch_deleted(gh: Any, target: Target) -> Outcome:
    """The source branch is gone: its docs pull request is closed and the docs branch deleted, when it
    holds only the commit the App made."""
    pull = await pulls.find_pull(gh, target)
    if pull is not None:
        return await publish.close(
            gh, target, pull, pulls.DELETED.format(branch=target.branch), drop_branch=pull.head == target.docs_branch
        )
    head = await writes.head_of(gh, target, target.docs_branch)
    if (
        head is not None
        and await writes.app_made(gh, target, head)
        and await pulls.pull_from(gh, target, target.docs_branch) is None  # no pull request into another branch
    ):
        await writes.delete_branch(gh, target, target.docs_branch)
        return Outcome("closed", f"branch deleted; {target.docs_branch} deleted")
    return Outcome("ignored", "branch deleted; no docs pull request open")


async def _states(
    gh: Any, target: Target, stale: Sequence[str], docs: Mapping[str, Entry]
) -> dict[str, FolderState | None]:
    async def one(folder: str) -> FolderState | None:
        entry = docs.get(join(folder, STATE))
        if entry is None:
            return None
        sha = entry.sha
        try:
            return parse_state(await blob(gh, target, sha))
        except ValueError:
            log.warning("%s/%s: damaged state in %r; rebuilding that folder", target.owner, target.repo, folder)
            return None

    found = await bounded(one(folder) for folder in stale)
    return dict(zip(stale, found, strict=True))


async def _render(
    gh: Any,
    target: Target,
    commit: str,
    listing: dict[str, Entry],
    wanted: dict[str, str],
    config: Config,
    given: dict[str, str] | None = None,
) -> dict[str, FileResult]:
    """Render the wanted files (path -> blob id) of a commit; `given`: files the plan adds, by their text."""
    results: dict[str, FileResult] = {}
    fetch = {}
    found: dict[str, bytes] = {}
    for path, sha in wanted.items():
        if given and path in given:
            found[path] = given[path].encode("utf-8")
            continue
        reason = too_large(listing[path].size, config)
        if reason:
            results[path] = not_documented(path, sha, reason)
        else:
            fetch[path] = sha
    found.update(await contents(gh, target, commit, fetch))
    rendered = await render_files(list(found.items()), config)
    for path, result in rendered.items():
        if isinstance(result, str):  # one file's failure must not fail the job: its page says why
            log.error("%s/%s: rendering %r failed:\n%s", target.owner, target.repo, path, result)
            result = not_documented(path, "0" * 40, FAILED)
        results[path] = result
    return results


# Rendering runs in a pool of processes shared by every job of this process (the server's, or a
# worker's), so a 5,000-file bootstrap neither holds the event loop nor its threads (the GIL): webhooks
# are acknowledged and leases renewed while it renders. Files go in batches of about BATCH_BYTES.
BATCH_BYTES = 512 * 1024
BATCH_FILES = 64
RENDER_NICENESS = 10  # added to a rendering process's niceness: see _render_process
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def render_pool() -> Executor:
    """The process-wide rendering pool (one process per core), started on first use: forkserver, never
    fork, since the event loop's process has threads."""
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            _pool = ProcessPoolExecutor(
                max_workers=os.cpu_count() or 1, mp_context=context, initializer=_render_process
            )
        return _pool


def start_render_pool() -> None:
    """Start the rendering pool's processes and wait until they answer (in a thread, at startup: starting
    them takes a few hundred milliseconds, during which whoever starts them waits)."""
    pool = render_pool()
    workers = [pool.submit(os.getpid) for _ in range(os.cpu_count() or 1)]
    for future in workers:
        future.result()


def _render_process() -> None:
    """A rendering process runs at a lower priority than the process that started it, so that when the
    cores are busy rendering, the scheduler still runs the event loop (webhooks, leases) as soon as it has
    work, instead of making it wait for a time slice."""
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.nice (Windows)
        os.nice(RENDER_NICENESS)


def close_render_pool(pool: Executor | None = None) -> None:
    """Shut the rendering pool down (at exit, or a broken one: `pool`), so the next use starts a new one."""
    global _pool
    with _pool_lock:
        old = _pool
        if old is None or (pool is not None and pool is not old):
            return
        _pool = None
    old.shutdown(wait=pool is None, cancel_futures=True)


def render_batch(files: list[tuple[str, bytes]], config: Config) -> list[FileResult | str]:
    """Render files in a pool process; the traceback's text for a file whose rendering raised."""
    found: list[FileResult | str] = []
    with collector.paused():
        for path, data in files:
            try:
                found.append(render_file(path, data, config))
            except Exception:  # noqa: BLE001 - the caller shows it as the file's failure
                found.append(traceback.format_exc())
    return found


async def render_files(files: list[tuple[str, bytes]], config: Config) -> dict[str, FileResult | str]:
    """Render files in the rendering pool, in batches, all batches at once (the pool queues them); a batch
    that breaks the pool (a process killed) is rendered again one file at a time, and a file that breaks
    it again gets a reason."""
    batches: list[list[tuple[str, bytes]]] = []
    size = 0
    for item in files:
        if not batches or size >= BATCH_BYTES or len(batches[-1]) >= BATCH_FILES:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += len(item[1])
    done = await asyncio.gather(*(_batch(batch, config, alone=False) for batch in batches))
    return {
        path: result
        for batch, results in zip(batches, done, strict=True)
        for (path, _), result in zip(batch, results, strict=True)
    }


def _submit(pool: Executor, batch: list[tuple[str, bytes]], config: Config) -> Future[list[FileResult | str]]:
    """Queue a batch in the rendering pool (BrokenProcessPool if it is broken)."""
    return pool.submit(render_batch, batch, config)


async def _batch(batch: list[tuple[str, bytes]], config: Config, *, alone: bool) -> list[FileResult | str]:
    pool = render_pool()  # the executor only: its processes start on submission
    try:
        # Submitted from a thread: a submission may start a rendering process (and, the first time, the
        # forkserver), which waits for the new process for a good hundred milliseconds.
        future = await asyncio.to_thread(_submit, pool, batch, config)
        return await asyncio.wrap_future(future)
    except BrokenProcessPool:
        close_render_pool(pool)
        if alone:
            return ["the rendering process died (killed, or out of memory)"]
        log.warning("the rendering pool broke; rendering %d file(s) again one at a time", len(batch))
        return [(await _batch([item], config, alone=True))[0] for item in batch]
