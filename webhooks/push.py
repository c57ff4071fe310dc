"""Push events: which pushes ask for a docs sync."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gidgethub import routing, sansio

from bot.github.client import usable_ref
from bot.github.sync import DOCS_PREFIX
from bot.jobs import ZEROS, CloseDocs, Job, SyncBranch

from .payloads import Fields, MalformedPayload

router = routing.Router()
LISTED_COMMITS = 2048  # push webhooks list at most 2,048 commits (the Events API's 20 is another cap)


@dataclass(frozen=True)
class Push:
    """The parts of a push payload repodoc reads
    (https://docs.github.com/en/webhooks/webhook-events-and-payloads#push)."""

    ref: str
    before: str
    after: str
    deleted: bool
    owner: str
    repo: str
    default_branch: str | None
    installation_id: int
    paths: tuple[str, ...] | None  # every path the listed commits touch; None when incomplete or forced

    @classmethod
    def from_payload(cls, data: Any) -> Push:
        """Read a payload; MalformedPayload for one that lacks what a push has or has it in another shape."""
        payload = Fields.of(data)
        repo = payload.obj("repository")
        owner = repo.obj("owner")
        commits = payload.objects("commits", default=[])
        paths = tuple(p for c in commits for key in ("added", "removed", "modified") for p in c.texts(key, ()))
        after = payload.sha("after")
        ref = payload.text("ref")
        if not usable_ref(ref):
            raise MalformedPayload("payload.ref is not a ref name")
        return cls(
            ref=ref,
            before=payload.sha("before", default=""),
            after=after,
            deleted=payload.flag("deleted") or after == ZEROS,
            owner=owner.name("login") if owner.optional_text("login") else owner.name("name"),
            repo=repo.name("name"),
            default_branch=repo.optional_text("default_branch") or None,
            installation_id=payload.obj("installation").ident("id"),
            # a forced push lists only the commits it added, never those it dropped: its paths say nothing
            paths=paths if 0 < len(commits) < LISTED_COMMITS and not payload.flag("forced") else None,
        )

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None


@router.register("push")
async def push(event: sansio.Event, jobs: list[Job]) -> None:
    """Queue a sync for a push to a branch (a deleted branch: closing its docs pull request), except
    tags and the App's own branches; docs-only pushes are skipped by the sync, which knows `docs_dir`."""
    payload = Push.from_payload(event.data)
    branch = payload.branch
    if not branch or branch.startswith(DOCS_PREFIX):
        return
    ids = (event.delivery_id, payload.installation_id, payload.owner, payload.repo)
    if payload.deleted:
        jobs.append(CloseDocs(*ids, branch=branch))
        return
    jobs.append(
        SyncBranch(
            *ids,
            branch=branch,
            after=payload.after,
            before=payload.before,
            default_branch=payload.default_branch,
            paths=payload.paths,
        )
    )
