"""Issue comment events: slash commands in pull request comments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gidgethub import routing, sansio

from bot import commands
from bot.jobs import Job, RunCommand

from .payloads import Fields
from .pulls import Repo

router = routing.Router()


@dataclass(frozen=True)
class Comment:
    """The parts of an `issue_comment` payload repodoc reads
    (https://docs.github.com/en/webhooks/webhook-events-and-payloads#issue_comment)."""

    where: Repo
    number: int
    on_pull: bool
    comment_id: int
    body: str
    author: str
    author_type: str

    @classmethod
    def from_payload(cls, data: Any) -> Comment:
        payload = Fields.of(data)
        issue = payload.obj("issue")
        comment = payload.obj("comment")
        user = comment.obj("user")
        return cls(
            where=Repo.of(payload),
            number=issue.ident("number"),
            on_pull=isinstance(issue.data.get("pull_request"), dict),
            comment_id=comment.ident("id"),
            body=comment.text("body", default=""),
            author=user.text("login"),
            author_type=user.text("type", default="User"),
        )


@router.register("issue_comment", action="created")
async def comment_created(event: sansio.Event, jobs: list[Job]) -> None:
    """Queue the commands of a new comment on a pull request (edits never re-run them; bots are ignored)."""
    payload = Comment.from_payload(event.data)
    if not payload.on_pull or commands.is_bot(payload.author, payload.author_type):
        return
    found = commands.parse(payload.body)
    if not found:
        return
    w = payload.where
    unknown = next((c.typed for c in found if c.verb == "help" and c.typed.lower() != "help"), "")
    jobs.append(
        RunCommand(
            event.delivery_id,
            w.installation_id,
            w.owner,
            w.repo,
            number=payload.number,
            comment_id=payload.comment_id,
            author=payload.author,
            verbs=tuple(c.verb for c in found),
            unknown=unknown,
            default_branch=w.default_branch,
        )
    )


@router.register("issue_comment", action="edited")
@router.register("issue_comment", action="deleted")
async def not_a_command(event: sansio.Event, jobs: list[Job]) -> None:
    """An edited or deleted comment never runs commands (the contract: `created` comments only)."""
    Fields.of(event.data).obj("issue")
