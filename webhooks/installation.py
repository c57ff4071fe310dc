"""Installation events: a first sync of each repository the App is installed on."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.jobs import Job

router = routing.Router()


@router.register("installation", action="created")
@router.register("installation_repositories", action="added")
async def installed(event: sansio.Event, jobs: list[Job]) -> None:
    """Queue a sync of the default branch of every newly reachable repository."""
    data = event.data
    repos = data.get("repositories") or data.get("repositories_added") or []
    for repo in repos:
        owner, name = repo["full_name"].split("/", 1)
        jobs.append(
            Job(
                delivery=f"{event.delivery_id}:{repo['full_name']}",
                installation_id=int(data["installation"]["id"]),
                owner=owner,
                repo=name,
            )
        )
