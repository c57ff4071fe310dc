"""Pull requests: the `repodoc` check run on every head commit, and for a pull request from a branch of the
repository a companion pull request from `repodoc/pr-<N>` into its branch that brings that branch's docs to
what `repodoc generate` writes for its head.

The job reads the pull request's live state (never the payload's, which a later push may have outdated), so a
redelivered or late event converges like any other: reconcile, don't replay.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import commands
from ..engine import CONFIG_PATH, Config, ConfigError
from . import publish, pulls, writes
from .listing import listing as tree_listing
from .plan import DOCS_PREFIX, Outcome, Plan, Target
from .sync import _config_entry, act, load_config, prepare

log = logging.getLogger("repodoc.review")
MERGED = "#{number} was merged: its companion docs pull request is no longer needed, closing."
CLOSED = "#{number} was closed: its companion docs pull request is no longer needed, closing."
CURRENT = "The docs on `{branch}` are current for #{number}: nothing left to propose, closing."
NOT_WANTED = "The repository's config no longer asks for companion pull requests (`pull_requests`): closing."
DOCUMENTED = "`{branch}` is a documented branch now: its own docs pull request serves it, closing."
OWN_FILES = frozenset({".repodoc-manifest.json", ".repodoc-state.json"})


@dataclass(frozen=True)
class PullInfo:
    """What the flows read of a pull request (`GET /pulls/{number}`)."""

    number: int
    state: str
    merged: bool
    author: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    fork: bool  # its head is in another repository: no branch of ours to write to
    default_branch: str
    by_bot: bool = False  # opened by a bot (Dependabot, Renovate): its branch is the bot's, no companion

    @classmethod
    def of(cls, data: dict[str, Any], full_name: str) -> PullInfo:
        head_repo = data["head"].get("repo") or {}  # null when the fork was deleted
        base_repo = data["base"].get("repo") or {}
        return cls(
            number=int(data["number"]),
            state=str(data["state"]),
            merged=bool(data.get("merged") or data.get("merged_at")),
            author=str((data.get("user") or {}).get("login") or ""),
            head_ref=str(data["head"]["ref"]),
            head_sha=str(data["head"]["sha"]),
            base_ref=str(data["base"]["ref"]),
            base_sha=str(data["base"]["sha"]),
            fork=str(head_repo.get("full_name", "")).lower() != full_name.lower(),
            default_branch=str(base_repo.get("default_branch") or ""),
            by_bot=str((data.get("user") or {}).get("type") or "") == "Bot",
        )

    @property
    def docs_of(self) -> str:
        """The branch whose docs this pull request carries, when it is a branch's docs pull request ('' if not)."""
        if self.fork or not self.head_ref.startswith(DOCS_PREFIX) or self.head_ref.startswith(DOCS_PREFIX + "pr-"):
            return ""
        return self.head_ref[len(DOCS_PREFIX) :]

    @property
    def companion_of(self) -> int:
        """The pull request number whose companion this is (0 if not)."""
        rest = self.head_ref.removeprefix(DOCS_PREFIX + "pr-")
        return int(rest) if not self.fork and rest != self.head_ref and rest.isdigit() else 0


async def read_pull(gh: Any, owner: str, repo: str, number: int) -> PullInfo:
    data = await gh.getitem(
        "/repos/{owner}/{repo}/pulls/{number}", {"owner": owner, "repo": repo, "number": str(number)}
    )
    return PullInfo.of(data, f"{owner}/{repo}")


async def gate(gh: Any, target: Target, default_branch: str) -> Config:
    """The default branch's config, which alone decides `enabled`, `branches`, `pull_requests` and
    `check_conclusion` (so a pull request cannot switch off its own check); raises ConfigError."""
    head = await writes.head_of(gh, target, default_branch)
    if head is None:
        return Config()
    config, _ = await load_config(gh, target, await _config_entry(gh, target, head))
    return config


async def head_of_pull(gh: Any, job: Any) -> tuple[Target, str]:
    """The target and head commit of a job's pull request (for a failure's check run)."""
    info = await read_pull(gh, job.owner, job.repo, job.number)
    return Target(job.owner, job.repo, info.head_ref, pull=info.number), info.head_sha


async def survey_commit(gh: Any, target: Target, sha: str, *, before: str = "", full: bool = False) -> Plan | str:
    """The plan for a commit (its own config decides what the pages contain), or why its docs folder cannot
    be written; raises ConfigError for a config it cannot read."""
    root, listing = await tree_listing(gh, target, sha)
    config, _ = await load_config(gh, target, listing.get(CONFIG_PATH))
    return await prepare(gh, target, sha, root, listing, config, before=before, full=full)


async def survey_pull(gh: Any, target: Target, info: PullInfo, *, full: bool = False) -> Plan | str:
    """The plan for a pull request's head, or why not (a config error included)."""
    try:
        return await survey_commit(gh, target, info.head_sha, before=info.base_sha, full=full)
    except ConfigError as exc:
        return str(exc)


def pages(paths: Any) -> list[str]:
    """The pages among docs paths (a folder's manifest and state are repodoc's bookkeeping, not pages)."""
    return [p for p in paths if p.rsplit("/", 1)[-1] not in OWN_FILES]


def summary(plan: Plan, info: PullInfo, companion: pulls.OpenPull | None) -> str:
    """The check run's summary (and the status reply's body): the stale pages, the companion pull request,
    or when there is none (a fork, check-only, a documented branch) the one command that refreshes them locally."""
    local = f"repodoc generate --since {info.base_sha}" if companion is None else ""
    url = companion.url if companion is not None else ""
    return commands.status_reply(
        pages(plan.written), pages(plan.deletes), plan.docs_dir, pull_url=url, local_command=local
    )


def title(plan: Plan) -> str:
    written, deleted = len(pages(plan.written)), len(pages(plan.deletes))
    return f"{written} {'page' if written == 1 else 'pages'} stale, {deleted} to delete"


async def check_pull(
    gh: Any,
    owner: str,
    repo: str,
    number: int,
    *,
    full: bool = False,
    recreate: bool = False,
    head_sha: str = "",
) -> Outcome:
    """Bring a pull request's check run and companion pull request in step with its live state; head_sha: the
    head the event was about (a later push's own job checks a newer head; '' for re-runs and commands);
    number 0: the open pull request whose head is head_sha (a fork's re-run names no pull request)."""
    if not number:
        number = await pull_with_head(gh, owner, repo, head_sha)
        if not number:
            return Outcome("ignored", f"no open pull request has the head {head_sha}")
    info = await read_pull(gh, owner, repo, number)
    target = Target(owner, repo, info.head_ref, pull=number)
    if head_sha and info.state == "open" and info.head_sha != head_sha:
        return Outcome("superseded", f"#{number} moved on to {info.head_sha}: its own event checks it")
    if info.docs_of or info.companion_of:
        return Outcome("ignored", "a pull request of repodoc's own")
    companion = None if info.fork else await pulls.pull_from(gh, target, target.docs_branch)
    if info.state != "open":
        if companion is None:  # merged into the branch, or never opened: only its branch may be left
            head = None if info.fork else await writes.head_of(gh, target, target.docs_branch)
            if head is not None and await writes.app_made(gh, target, head):
                await writes.delete_branch(gh, target, target.docs_branch)
                return Outcome("closed", f"closed; {target.docs_branch} deleted")
            return Outcome("ignored", "closed; no companion pull request open")
        why = (MERGED if info.merged else CLOSED).format(number=number)
        return await publish.close(gh, target, companion, why, drop_branch=True)
    default = info.default_branch or await default_branch(gh, target.url_vars)
    try:
        config = await gate(gh, target, default)
    except ConfigError as exc:
        text = f"The config of the default branch `{default}`: {exc}"
        await writes.check_run(gh, target, info.head_sha, "failure", "repodoc cannot read its config", text)
        return Outcome("failed", text)
    if not config.enabled or config.pull_requests == "off":
        if companion is not None:
            await publish.close(gh, target, companion, pulls.TURNED_OFF, drop_branch=True)
        return Outcome("ignored", "pull requests are not checked (the default branch's config)")
    run = await writes.start_check(gh, target, info.head_sha, external_id=str(number))
    planned = await survey_pull(gh, target, info, full=full)
    if isinstance(planned, str):
        await writes.finish_check(gh, target, run, "failure", "repodoc cannot document this commit", planned)
        return Outcome("failed", planned)
    if planned.empty:
        if companion is not None:
            await publish.close(
                gh, target, companion, CURRENT.format(branch=info.head_ref, number=number), drop_branch=True
            )
        await writes.finish_check(
            gh, target, run, "success", "Docs current", "Every page is what `repodoc generate` writes."
        )
        return Outcome("unchanged", "docs current")
    documented = info.head_ref == default or info.head_ref in config.branches
    outcome = Outcome("reported", "docs stale")
    if config.pull_requests == "companion" and not info.fork and not documented and not info.by_bot:
        outcome = await act(gh, planned, companion, recreate=recreate)
        if companion is None and outcome.pull:
            companion = await pulls.pull_from(gh, target, target.docs_branch)  # opened now: its address
    elif companion is not None:
        why = DOCUMENTED.format(branch=info.head_ref) if documented else NOT_WANTED
        await publish.close(gh, target, companion, why, drop_branch=True)
        companion = None
    if outcome.action in ("held", "failed"):
        companion = None  # not carrying these docs: the local command says how to get them
    text = summary(planned, info, companion)
    if outcome.action == "held":
        text = outcome.reason + "\n\n" + text
    await writes.finish_check(gh, target, run, config.check_conclusion, title(planned), text)
    return outcome


async def pull_with_head(gh: Any, owner: str, repo: str, sha: str) -> int:
    """The open pull request whose head is commit sha (0: none), read from the open pull requests' listing."""
    names = {"owner": owner, "repo": repo}
    async for found in gh.getiter("/repos/{owner}/{repo}/pulls?state=open&per_page=100", names):
        if str(found["head"]["sha"]) == sha:
            return int(found["number"])
    return 0


async def default_branch(gh: Any, names: Mapping[str, str]) -> str:
    """The repository's default branch (names: its owner and repo)."""
    return str((await gh.getitem("/repos/{owner}/{repo}", names))["default_branch"])
