"""Pull request events, and the `repodoc` check run's re-run buttons: which ask for a pull request's check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gidgethub import routing, sansio

from bot.github.plan import DOCS_PREFIX
from bot.jobs import CheckPull, Job, SyncBranch

from .payloads import Fields

router = routing.Router()
CHECK_NAME = "repodoc"


@dataclass(frozen=True)
class Repo:
    """The repository and installation every one of these payloads names."""

    installation_id: int
    owner: str
    repo: str
    default_branch: str | None

    @classmethod
    def of(cls, payload: Fields) -> Repo:
        repo = payload.obj("repository")
        owner = repo.obj("owner")
        return cls(
            installation_id=payload.obj("installation").ident("id"),
            owner=owner.name("login"),
            repo=repo.name("name"),
            default_branch=repo.optional_text("default_branch") or None,
        )


@dataclass(frozen=True)
class PullEvent:
    """The parts of a `pull_request` payload repodoc reads
    (https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request)."""

    where: Repo
    action: str
    number: int
    head_ref: str
    head_sha: str
    own_head: bool  # the head branch is in this repository (not a fork's)
    base_changed: bool  # an `edited` event that changed the base branch

    @classmethod
    def from_payload(cls, data: Any) -> PullEvent:
        payload = Fields.of(data)
        where = Repo.of(payload)
        pull = payload.obj("pull_request")
        head = pull.obj("head")
        head_repo = head.data.get("repo")
        own = isinstance(head_repo, dict) and Fields.of(head_repo, f"{head.where}.repo").text("full_name").lower() == (
            f"{where.owner}/{where.repo}".lower()
        )
        changes = payload.data.get("changes")
        return cls(
            where=where,
            action=payload.text("action"),
            number=payload.ident("number"),
            head_ref=head.text("ref"),
            head_sha=head.sha("sha"),
            own_head=own,
            base_changed=isinstance(changes, dict) and "base" in changes,
        )


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="closed")
@router.register("pull_request", action="edited")
async def pull_request(event: sansio.Event, jobs: list[Job]) -> None:
    """Queue a check of the pull request (closing: its companion is closed); an edit only when it moved
    the base; never for repodoc's own pull requests."""
    payload = PullEvent.from_payload(event.data)
    if payload.action == "edited" and not payload.base_changed:
        return
    if payload.own_head and payload.head_ref.startswith(DOCS_PREFIX):
        return
    head = "" if payload.action == "closed" else payload.head_sha
    jobs.append(_check(event.delivery_id, payload.where, payload.number, head))


def _check(delivery: str, where: Repo, number: int, head_sha: str = "") -> CheckPull:
    """A check of pull request `number` (0: the one whose head is head_sha) of a payload's repository."""
    return CheckPull(
        delivery,
        where.installation_id,
        where.owner,
        where.repo,
        number=number,
        default_branch=where.default_branch,
        head_sha=head_sha,
    )


@dataclass(frozen=True)
class Rerun:
    """A re-run asked from GitHub's checks UI: the pull requests of the commit (as GitHub lists them), or the
    branch and commit when there are none (a push's check)."""

    where: Repo
    name: str
    numbers: tuple[int, ...]
    head_branch: str | None
    head_sha: str

    @classmethod
    def from_payload(cls, event: str, data: Any) -> Rerun:
        payload = Fields.of(data)
        where = Repo.of(payload)
        if event == "check_run":
            run = payload.obj("check_run")
            suite = run.obj("check_suite")
            name, pulls, sha = run.text("name"), run.objects("pull_requests", default=[]), run.sha("head_sha")
            external = run.optional_text("external_id") or ""  # repodoc's runs carry their pull request's number
        else:
            suite = payload.obj("check_suite")
            name, pulls, sha = CHECK_NAME, suite.objects("pull_requests", default=[]), suite.sha("head_sha")
            external = ""
        numbers = [p.ident("number") for p in pulls]
        if not numbers and external.isdigit() and 0 < int(external) <= 2**31:
            numbers = [int(external)]  # a fork's pull request: GitHub lists no pull request for its checks
        return cls(
            where=where,
            name=name,
            numbers=tuple(dict.fromkeys(numbers)),
            head_branch=suite.optional_text("head_branch") or None,
            head_sha=sha,
        )


@router.register("check_run", action="rerequested")
@router.register("check_suite", action="rerequested")
async def rerequested(event: sansio.Event, jobs: list[Job]) -> None:
    """The Re-run button: check each pull request of the commit again, or sync its branch."""
    payload = Rerun.from_payload(event.event, event.data)
    if payload.name != CHECK_NAME:
        return
    w = payload.where
    for number in payload.numbers:
        jobs.append(_check(f"{event.delivery_id}#{number}", w, number))
    if not payload.numbers and payload.head_branch is None:  # a fork's suite: the pull request with this head
        jobs.append(_check(event.delivery_id, w, 0, payload.head_sha))
    if not payload.numbers and payload.head_branch and not payload.head_branch.startswith(DOCS_PREFIX):
        jobs.append(
            SyncBranch(
                event.delivery_id,
                w.installation_id,
                w.owner,
                w.repo,
                branch=payload.head_branch,
                default_branch=w.default_branch,
            )
        )


@router.register("check_suite", action="requested")
@router.register("check_suite", action="completed")
@router.register("check_run", action="created")
@router.register("check_run", action="completed")
@router.register("check_run", action="requested_action")
async def not_ours_to_act_on(event: sansio.Event, jobs: list[Job]) -> None:
    """Subscribed through `checks: write`, with nothing to do: repodoc starts its checks from pushes and pull
    requests, and its own check runs' lifecycle events echo its own work."""
    Fields.of(event.data).obj("installation")
