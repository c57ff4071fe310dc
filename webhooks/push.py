"""Push events: which pushes ask for a docs sync."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio

from bot.github.sync import DOCS_PREFIX
from bot.jobs import Job

router = routing.Router()
ZEROS = "0" * 40
DEFAULT_DOCS = "docs/"


def _only_docs(data: dict[str, Any]) -> bool:
    """Whether every commit of a complete push touches only the default docs folder."""
    commits = data.get("commits") or []
    if not commits or len(commits) >= 20:  # payloads list at most 20 commits
        return False
    paths = [p for c in commits for key in ("added", "removed", "modified") for p in c.get(key, [])]
    return bool(paths) and all(p.startswith(DEFAULT_DOCS) for p in paths)


@router.register("push")
async def push(event: sansio.Event, jobs: list[Job]) -> None:
    """Queue a sync for a push to a branch (a deleted branch: closing its docs pull request),
    except the App's own branches and docs-only pushes."""
    data = event.data
    ref: str = data.get("ref", "")
    if not ref.startswith("refs/heads/"):
        return
    branch = ref.removeprefix("refs/heads/")
    deleted = bool(data.get("deleted")) or data.get("after") == ZEROS
    if branch.startswith(DOCS_PREFIX) or (not deleted and _only_docs(data)):
        return
    repo = data["repository"]
    jobs.append(
        Job(
            delivery=event.delivery_id,
            installation_id=int(data["installation"]["id"]),
            owner=repo["owner"].get("login") or repo["owner"]["name"],
            repo=repo["name"],
            branch=branch,
            after=data["after"],
            before=data.get("before", ""),
            is_default=branch == repo.get("default_branch"),
        )
    )
