"""Sync the docs of one branch: fetch listings and the changed blobs → `plan.plan` (pure) → act on the
plan (`publish.publish`, `publish.close`), or leave a pull request that already carries it alone.

Reconcile, don't replay: the change set comes from comparing the pushed commit's tree with the
manifests in its docs folder, never from the push payload's capped file lists, so force pushes,
new branches and missed events all converge to what `repodoc generate` writes for that commit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import gidgethub

from ..engine import (
    CONFIG_PATH,
    FAILED,
    STATE,
    Config,
    ConfigError,
    FileResult,
    FolderState,
    md,
    not_documented,
    parse_config,
    parse_state,
    render_file,
    too_large,
)
from ..engine.names import docs_folder_problem
from ..engine.reconcile import SYMLINK, Entry
from ..engine.tree import join
from . import publish, pulls, writes
from .client import ref_url
from .contents import blob, bounded, contents
from .listing import listing as tree_listing
from .plan import DOCS_PREFIX, Outcome, Plan, Target, plan, renders, survey

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
) -> Outcome:
    """Bring the docs pull request of target's branch in step with commit `after`
    (all zeros: the branch was deleted, so its docs pull request is closed).
    default_branch: the repository's (None: target's branch is it); paths: every path a complete push
    touched (None: not known), to skip a push that touches only the docs folder."""
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
        return Outcome("ignored", "turned off by the repository's config")
    if paths and all(p.startswith(config.docs_dir + "/") for p in paths):
        return Outcome("ignored", f"the push touches only {config.docs_dir}/")
    blocked = not_a_folder(listing, config.docs_dir)
    if blocked:  # as `repodoc generate` refuses it: a pull request would replace the user's file with pages
        await writes.check_run(gh, target, after, "failure", "repodoc cannot write its docs folder", blocked)
        return Outcome("failed", blocked)
    found = survey(listing, config)
    states = await _states(gh, target, found.stale, found.docs)
    rendered = await _render(gh, target, after, listing, renders(found, states), config)
    planned = plan(target, after, root, listing, config, found, states, rendered, before=before)
    return await act(gh, planned, await pulls.find_pull(gh, target))


def not_a_folder(listing: dict[str, Entry], docs_dir: str) -> str:
    """Why the docs folder cannot be written (the local run's words), or '': the docs folder, or a folder
    above it, is a file or a symbolic link at this commit."""

    def standing(rel: str) -> str:
        entry = listing.get(rel)  # a listing holds files only: a folder is absent from it
        return "" if entry is None else "link" if entry.mode == SYMLINK else "file"

    return docs_folder_problem(docs_dir, standing)


async def act(gh: Any, planned: Plan, pull: pulls.OpenPull | None) -> Outcome:
    """Act on a plan: close the pull request when nothing is left to propose, leave it alone when it
    already carries exactly the planned docs and still merges cleanly, else publish."""
    target = planned.target
    if planned.empty:
        if pull is None:
            return Outcome("unchanged", "docs already in step")
        return await publish.close(gh, target, pull, pulls.CLOSING.format(branch=target.branch, sha=planned.source))
    if pull is not None and planned.carried_by(pull) and await _descends(gh, target, pull.source, planned.source):
        return Outcome("unchanged", "the open pull request already carries these docs", pull=pull.number)
    return await publish.publish(gh, planned, pull)


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


async def _states(gh: Any, target: Target, stale: list[str], docs: dict[str, str]) -> dict[str, FolderState | None]:
    async def one(folder: str) -> FolderState | None:
        sha = docs.get(join(folder, STATE))
        if sha is None:
            return None
        try:
            return parse_state(await blob(gh, target, sha))
        except ValueError:
            log.warning("%s/%s: damaged state in %r; rebuilding that folder", target.owner, target.repo, folder)
            return None

    found = await bounded(one(folder) for folder in stale)
    return dict(zip(stale, found, strict=True))


async def _render(
    gh: Any, target: Target, commit: str, listing: dict[str, Entry], wanted: dict[str, str], config: Config
) -> dict[str, FileResult]:
    results: dict[str, FileResult] = {}
    fetch = {}
    for path, sha in wanted.items():
        reason = too_large(listing[path].size, config)
        if reason:
            results[path] = not_documented(path, sha, reason)
        else:
            fetch[path] = sha
    found = await contents(gh, target, commit, fetch)
    loop = asyncio.get_running_loop()
    for path, data in found.items():
        try:
            results[path] = await loop.run_in_executor(None, render_file, path, data, config)
        except Exception:  # noqa: BLE001 - one file's failure must not fail the job: its page says why
            log.exception("%s/%s: rendering %r failed", target.owner, target.repo, path)
            results[path] = not_documented(path, "0" * 40, FAILED)
    return results
