"""Installation events: a first sync of each repository the App is installed on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gidgethub import routing, sansio

from bot.jobs import Job

from .payloads import Fields, full_name

router = routing.Router()
REPOSITORIES = {"installation": "repositories", "installation_repositories": "repositories_added"}


@dataclass(frozen=True)
class Installed:
    """The parts of an `installation.created` or `installation_repositories.added` payload repodoc reads
    (https://docs.github.com/en/webhooks/webhook-events-and-payloads#installation)."""

    installation_id: int
    repositories: tuple[tuple[str, str], ...]  # (owner, name) of each newly reachable repository

    @classmethod
    def from_payload(cls, event: str, data: Any) -> Installed:
        """Read a payload; MalformedPayload for one of the wrong shape."""
        payload = Fields.of(data)
        repos = payload.objects(REPOSITORIES[event], default=[])
        return cls(
            installation_id=payload.obj("installation").ident("id"),
            repositories=tuple(full_name(repo.text("full_name"), f"{repo.where}.full_name") for repo in repos),
        )


@router.register("installation", action="created")
@router.register("installation_repositories", action="added")
async def installed(event: sansio.Event, jobs: list[Job]) -> None:
    """Queue a sync of the default branch of every newly reachable repository."""
    payload = Installed.from_payload(event.event, event.data)
    for owner, name in payload.repositories:
        jobs.append(
            Job(
                delivery=f"{event.delivery_id}:{owner}/{name}",
                installation_id=payload.installation_id,
                owner=owner,
                repo=name,
            )
        )
