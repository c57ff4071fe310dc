"""Sync the docs of one branch: fetch listings → decide (pure reconcile) → apply as one commit.

Reconcile, don't replay: the change set comes from comparing the pushed commit's tree with the
manifests in its docs folder, never from the push payload's capped file lists, so force pushes,
new branches and missed events all converge to what `repodoc generate` writes for that commit.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import gidgethub

from ..engine import (
    CONFIG_PATH,
    STATE,
    Config,
    ConfigError,
    FileResult,
    FolderState,
    not_documented,
    parse_config,
    parse_state,
    render_file,
    too_large,
)
from ..engine.reconcile import Entry, docs_listing, expected_folders, reconcile, stale_folders, to_render
from ..engine.tree import join
from . import pulls
from .client import ref_url
from .contents import contents
from .listing import listing as tree_listing
from .listing import remember_writes

log = logging.getLogger("repodoc.sync")
T = TypeVar("T")
TREE_CHUNK = 400  # entries per POST /git/trees; larger updates chain trees through base_tree
CHECK_NAME = "repodoc"
PARALLEL_READS = 8  # blob reads in flight at once (GitHub's secondary limits frown on more)
DOCS_PREFIX = "repodoc/"
SYMLINK = "120000"
FAILED = "repodoc failed on this file"  # the reason a local run gives, so that both write the same page


@dataclass(frozen=True)
class Target:
    """A repository and the source branch whose docs are kept."""

    owner: str
    repo: str
    branch: str

    @property
    def url_vars(self) -> dict[str, str]:
        return {"owner": self.owner, "repo": self.repo, "branch": self.branch}

    @property
    def docs_branch(self) -> str:
        return DOCS_PREFIX + self.branch


@dataclass
class Outcome:
    """What a sync did, for logs and tests."""

    action: str  # "ignored", "unchanged", "closed", "opened", "updated", "superseded", "failed"
    reason: str = ""
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    pull: int = 0


async def _bounded(jobs: Iterable[Awaitable[T]]) -> list[T]:
    """Await every job, at most PARALLEL_READS at a time, results in order."""
    gate = asyncio.Semaphore(PARALLEL_READS)

    async def one(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def _blob(gh: Any, target: Target, sha: str) -> bytes:
    """A blob's bytes, from the runner's cache (blobs never change) or one request."""
    blobs = gh.caches.blobs
    if sha in blobs:
        return bytes(blobs[sha])
    data = await gh.getitem("/repos/{owner}/{repo}/git/blobs/{sha}", {**target.url_vars, "sha": sha})
    content = base64.b64decode(data["content"]) if data.get("encoding") == "base64" else data["content"].encode()
    blobs[sha] = content
    return content


async def _listing(gh: Any, target: Target, commit: str) -> tuple[str, dict[str, Entry]]:
    """The root tree id and every blob of a commit (bot/github/listing.py: at any size, cached by sha)."""
    return await tree_listing(gh, target, commit)


async def load_config(gh: Any, target: Target, entry: Entry | None) -> tuple[Config, list[str]]:
    """The config held by a tree entry (defaults when absent); raises ConfigError, also for a symlink,
    whose blob is the path it points to, never a config."""
    if entry is not None and entry.mode == SYMLINK:
        raise ConfigError(f"{CONFIG_PATH} is a symbolic link: repodoc reads its config only from a regular file")
    return parse_config(await _blob(gh, target, entry.sha) if entry else None)


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
        pull = await _open_pull(gh, target)
        if pull is None:
            return Outcome("ignored", "branch deleted; no docs pull request open")
        return await _close(gh, target, pull, pulls.DELETED.format(branch=target.branch))
    is_default = default_branch in (None, target.branch)
    if not is_default:
        assert default_branch is not None
        try:
            why = await _enrolled(gh, target, default_branch)
        except ConfigError as exc:
            log.warning("%s/%s: the default branch's config decides, and %s", target.owner, target.repo, exc)
            return Outcome("failed", f"the config of the default branch `{default_branch}`: {exc}")
        if why:
            return Outcome("ignored", why)
    base_tree, listing = await _listing(gh, target, after)
    try:
        config, warnings = await load_config(gh, target, listing.get(CONFIG_PATH))
    except ConfigError as exc:
        await _report_config_error(gh, target, after, str(exc))
        return Outcome("failed", str(exc))
    for warning in warnings:
        log.warning("%s/%s: %s", target.owner, target.repo, warning)
    if is_default and not config.enabled:
        return Outcome("ignored", "turned off by the repository's config")
    if paths and all(p.startswith(config.docs_dir + "/") for p in paths):
        return Outcome("ignored", f"the push touches only {config.docs_dir}/")
    docs = docs_listing(listing, config.docs_dir)
    expected = expected_folders(listing, config)
    stale = stale_folders(expected, docs, config)
    states = await _states(gh, target, stale, docs)
    rendered = await _render(gh, target, after, listing, to_render(expected, stale, states), config)
    owned = {rel for folder, state in states.items() if state for rel in state.owned(folder)}
    occupied = {rel for rel in docs if rel not in owned}
    change = reconcile(expected, stale, states, rendered, config, occupied)
    conflicts = sorted(rel for rel in change.writes if rel in docs and rel not in owned)
    writes = {rel: text for rel, text in change.writes.items() if rel not in conflicts}
    deletes = sorted(rel for rel in change.deletes if rel in docs and rel in owned)
    pull = await _open_pull(gh, target)
    if not writes and not deletes:
        return await _close_if_open(gh, target, after, pull)
    tree = await _post_trees(gh, target, base_tree, writes, deletes, config.docs_dir)
    remember_writes(gh, base_tree, tree, writes, deletes, config.docs_dir)
    if pull is not None and pull.source == after and pull.tree == tree:
        return Outcome("unchanged", "the open pull request already holds these docs", pull=pull.number)
    return await _publish(gh, target, after, before, tree, sorted(writes), deletes, conflicts, config, pull)


async def _report_config_error(gh: Any, target: Target, after: str, message: str) -> None:
    """Show a broken config on the pushed commit as a failed `repodoc` check run."""
    # https://docs.github.com/en/rest/checks/runs#create-a-check-run
    await gh.post(
        "/repos/{owner}/{repo}/check-runs",
        target.url_vars,
        data={
            "name": CHECK_NAME,
            "head_sha": after,
            "status": "completed",
            "conclusion": "failure",
            "output": {"title": "repodoc cannot read its config", "summary": message},
        },
    )


async def _states(gh: Any, target: Target, stale: list[str], docs: dict[str, str]) -> dict[str, FolderState | None]:
    async def one(folder: str) -> FolderState | None:
        sha = docs.get(join(folder, STATE))
        if sha is None:
            return None
        try:
            return parse_state(await _blob(gh, target, sha))
        except ValueError:
            log.warning("%s/%s: damaged state in %r; rebuilding that folder", target.owner, target.repo, folder)
            return None

    found = await _bounded(one(folder) for folder in stale)
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


async def _open_pull(gh: Any, target: Target) -> pulls.OpenPull | None:
    found = await gh.getitem(
        "/repos/{owner}/{repo}/pulls?state=open&head={head}",
        {**target.url_vars, "head": f"{target.owner}:{target.docs_branch}"},
    )
    return pulls.parse_pull(found[0]) if found else None


async def _close_if_open(gh: Any, target: Target, after: str, pull: pulls.OpenPull | None) -> Outcome:
    if pull is None:
        return Outcome("unchanged", "docs already in step")
    return await _close(gh, target, pull, pulls.CLOSING.format(branch=target.branch, sha=after))


async def _close(gh: Any, target: Target, pull: pulls.OpenPull, comment: str) -> Outcome:
    """Close the docs pull request with a one-line comment saying why."""
    number = {"number": str(pull.number), **target.url_vars}
    await gh.post("/repos/{owner}/{repo}/issues/{number}/comments", number, data={"body": comment})
    await gh.patch("/repos/{owner}/{repo}/pulls/{number}", number, data={"state": "closed"})
    return Outcome("closed", comment, pull=pull.number)


async def _post_trees(
    gh: Any, target: Target, base: str, writes: dict[str, str], deletes: list[str], docs_dir: str
) -> str:
    """One tree holding every write and deletion, chained in chunks through base_tree."""
    # https://docs.github.com/en/rest/git/trees#create-a-tree (inline content; sha null deletes)
    entries: list[dict[str, Any]] = [
        {"path": f"{docs_dir}/{rel}", "mode": "100644", "type": "blob", "content": writes[rel]}
        for rel in sorted(writes)
    ]
    entries += [{"path": f"{docs_dir}/{rel}", "mode": "100644", "type": "blob", "sha": None} for rel in deletes]
    for start in range(0, len(entries), TREE_CHUNK):
        data = await gh.post(
            "/repos/{owner}/{repo}/git/trees",
            target.url_vars,
            data={"base_tree": base, "tree": entries[start : start + TREE_CHUNK]},
        )
        base = data["sha"]
    return base


async def _publish(
    gh: Any,
    target: Target,
    after: str,
    before: str,
    tree: str,
    written: list[str],
    deleted: list[str],
    conflicts: list[str],
    config: Config,
    pull: pulls.OpenPull | None,
) -> Outcome:
    message = f"docs: refresh generated docs for {after[:12]}\n\nSource: {after}\nPages written: {len(written)}, deleted: {len(deleted)}\n"
    # No author and no committer: GitHub signs the App's commit and marks it Verified.
    commit = await gh.post(
        "/repos/{owner}/{repo}/git/commits",
        target.url_vars,
        data={"message": message, "tree": tree, "parents": [after]},
    )
    head = await gh.getitem(ref_url("ref", "heads/" + target.branch), target.url_vars)
    if head["object"]["sha"] != after:
        return Outcome("superseded", f"{target.branch} moved on to {head['object']['sha']}")
    await _point_docs_branch(gh, target, commit["sha"])
    text = pulls.body(target.branch, before, after, tree, written, deleted, config.docs_dir, conflicts)
    if pull is None:
        made = await gh.post(
            "/repos/{owner}/{repo}/pulls",
            target.url_vars,
            data={
                "title": pulls.TITLE.format(branch=target.branch),
                "head": target.docs_branch,
                "base": target.branch,
                "body": text,
            },
        )
        return Outcome("opened", pull=int(made["number"]), written=written, deleted=deleted)
    await gh.patch(
        "/repos/{owner}/{repo}/pulls/{number}", {**target.url_vars, "number": str(pull.number)}, data={"body": text}
    )
    return Outcome("updated", pull=pull.number, written=written, deleted=deleted)


async def _point_docs_branch(gh: Any, target: Target, sha: str) -> None:
    """Move repodoc/<branch> to sha (rebuilt on the pushed commit, so forced), creating it if needed."""
    try:
        await gh.patch(
            ref_url("refs", "heads/" + target.docs_branch), target.url_vars, data={"sha": sha, "force": True}
        )
    except gidgethub.HTTPException as exc:
        if int(exc.status_code) != 422:
            raise
        await gh.post(
            "/repos/{owner}/{repo}/git/refs",
            target.url_vars,
            data={"ref": f"refs/heads/{target.docs_branch}", "sha": sha},
        )
