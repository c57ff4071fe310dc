"""Push events: which pushes ask for a docs sync."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gidgethub import routing, sansio

from bot.github.sync import DOCS_PREFIX
from bot.jobs import Job

router = routing.Router()
ZEROS = "0" * 40
DEFAULT_DOCS = "docs/"
LISTED_COMMITS = 20  # push payloads list at most 20 commits


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
    default_branch: str
    installation_id: int
    paths: tuple[str, ...] | None  # every path the listed commits touch; None when the list is incomplete

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Push:
        """Read a payload; KeyError or TypeError for one that lacks what a push has."""
        repo, commits = data["repository"], data.get("commits") or []
        complete = 0 < len(commits) < LISTED_COMMITS
        paths = tuple(p for c in commits for key in ("added", "removed", "modified") for p in c.get(key, []))
        return cls(
            ref=data["ref"],
            before=data.get("before", ""),
            after=data["after"],
            deleted=bool(data.get("deleted")) or data["after"] == ZEROS,
            owner=repo["owner"].get("login") or repo["owner"]["name"],
            repo=repo["name"],
            default_branch=repo.get("default_branch", ""),
            installation_id=int(data["installation"]["id"]),
            paths=paths if complete else None,
        )

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None

    @property
    def only_docs(self) -> bool:
        """Whether every commit of a complete push touches only the default docs folder."""
        return bool(self.paths) and all(p.startswith(DEFAULT_DOCS) for p in self.paths or ())


@router.register("push")
async def push(event: sansio.Event, jobs: list[Job]) -> None:
    """Queue a sync for a push to a branch (a deleted branch: closing its docs pull request),
    except tags, the App's own branches and docs-only pushes."""
    payload = Push.from_payload(event.data)
    branch = payload.branch
    if branch is None or branch.startswith(DOCS_PREFIX) or (not payload.deleted and payload.only_docs):
        return
    jobs.append(
        Job(
            delivery=event.delivery_id,
            installation_id=payload.installation_id,
            owner=payload.owner,
            repo=payload.repo,
            branch=branch,
            after=ZEROS if payload.deleted else payload.after,
            before=payload.before,
            is_default=branch == payload.default_branch,
        )
    )
