"""Installation events: a bootstrap of each repository the App is installed on; lost access drops queued work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gidgethub import routing, sansio

from bot.jobs import Bootstrap, Forget, Job

from .payloads import Fields, full_name

router = routing.Router()
REPOSITORIES = {
    ("installation", "created"): "repositories",
    ("installation_repositories", "added"): "repositories_added",
    ("installation", "deleted"): "repositories",
    ("installation_repositories", "removed"): "repositories_removed",
}


@dataclass(frozen=True)
class Installed:
    """The parts of an `installation` or `installation_repositories` payload repodoc reads
    (https://docs.github.com/en/webhooks/webhook-events-and-payloads#installation)."""

    installation_id: int
    repositories: tuple[tuple[str, str], ...]  # (owner, name) of each repository gained or lost

    @classmethod
    def from_payload(cls, event: str, action: str, data: Any) -> Installed:
        """Read a payload; MalformedPayload for one of the wrong shape."""
        payload = Fields.of(data)
        repos = payload.objects(REPOSITORIES[(event, action)], default=[])
        return cls(
            installation_id=payload.obj("installation").ident("id"),
            repositories=tuple(full_name(repo.text("full_name"), f"{repo.where}.full_name") for repo in repos),
        )


@router.register("installation", action="created")
@router.register("installation_repositories", action="added")
async def installed(event: sansio.Event, jobs: list[Job]) -> None:
    """Queue a bootstrap of every newly reachable repository, spaced out by their position (an
    organisation installing on hundreds of repositories must not pass its rate limits)."""
    payload = Installed.from_payload(event.event, event.data["action"], event.data)
    for position, (owner, name) in enumerate(payload.repositories):
        jobs.append(
            Bootstrap(f"{event.delivery_id}:{owner}/{name}", payload.installation_id, owner, name, position=position)
        )


@router.register("installation", action="deleted")
@router.register("installation_repositories", action="removed")
async def removed(event: sansio.Event, jobs: list[Job]) -> None:
    """Drop the queued work of every repository the App can no longer reach."""
    payload = Installed.from_payload(event.event, event.data["action"], event.data)
    for owner, name in payload.repositories:
        jobs.append(Forget(f"{event.delivery_id}:{owner}/{name}", payload.installation_id, owner, name))
