"""Slash commands in pull request comments (`/docs refresh`, `full`, `status`, `recreate`, `help`).

A command is acted on once: the App's `eyes` reaction claims the comment (GitHub answers 201 when it is made,
200 when the App had already reacted), and its final `rocket` (success) or `confused` (refusal or failure)
marks it done; a comment claimed but not done (a try that died) is finished by the job's next try.
Who may run what is `commands.refusal`'s rule, from the author's permission on the repository.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import commands
from ..engine import ConfigError, md
from . import writes
from .plan import Outcome, Target
from .review import PullInfo, check_pull, gate, read_pull, summary, survey_commit, survey_pull
from .sync import sync_branch

log = logging.getLogger("repodoc.commands")
DONE = ("rocket", "confused")
REPLY_MARK = "<!-- repodoc:reply-to={id} -->"  # in each reply: a try that died after replying is not said twice


async def react(gh: Any, target: Target, comment_id: int, content: str) -> tuple[bool, str]:
    """Add the App's reaction to a comment: (whether it is new, the App's login)."""
    # https://docs.github.com/en/rest/reactions/reactions#create-reaction-for-an-issue-comment
    # GitHub answers 201 when the reaction is made, 200 when the App had made it already; gidgethub returns the
    # data only, so the status is read from the client (no other request of this job runs meanwhile)
    names = {**target.url_vars, "id": str(comment_id)}
    data = await gh.post("/repos/{owner}/{repo}/issues/comments/{id}/reactions", names, data={"content": content})
    return gh.last_status == 201, str(((data or {}).get("user") or {}).get("login") or "")


async def done_before(gh: Any, target: Target, comment_id: int, login: str) -> bool:
    """Whether the App already finished this comment's commands (its `rocket` or `confused` is there)."""
    names = {**target.url_vars, "id": str(comment_id)}
    async for reaction in gh.getiter("/repos/{owner}/{repo}/issues/comments/{id}/reactions?per_page=100", names):
        if reaction.get("content") in DONE and (reaction.get("user") or {}).get("login") == login:
            return True
    return False


async def permission(gh: Any, target: Target, user: str) -> tuple[str, str]:
    """(permission, role_name) of a user on the repository."""
    # https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user
    try:
        data = await gh.getitem(
            "/repos/{owner}/{repo}/collaborators/{user}/permission", {**target.url_vars, "user": user}
        )
    except Exception as exc:  # noqa: BLE001 - GitHub answers 404 for a user who is not there: no permission
        if int(getattr(exc, "status_code", 0)) == 404:
            return "none", ""
        raise
    return str(data.get("permission") or "none"), str(data.get("role_name") or "")


async def run_command(gh: Any, job: Any) -> Outcome:
    """Act on each command of a comment, in order; reply where a person needs an answer; react."""
    repo = Target(job.owner, job.repo, "")
    new, login = await react(gh, repo, job.comment_id, "eyes")
    if not new and await done_before(gh, repo, job.comment_id, login):
        return Outcome("ignored", "the comment's commands were already acted on")
    if set(job.verbs) == {"help"}:  # nothing to read: the help text answers
        await _reply(gh, repo, job, [commands.help_text(job.unknown)], retried=not new)
        await react(gh, repo, job.comment_id, "rocket")
        return Outcome("done", "help", pull=job.number)
    info = await read_pull(gh, job.owner, job.repo, job.number)
    target = Target(job.owner, job.repo, info.head_ref, pull=info.number)
    author = info.author
    if info.companion_of:  # on a companion, the pull request it serves decides who its author is
        author = (await read_pull(gh, job.owner, job.repo, info.companion_of)).author
    failed = False
    rights: tuple[str, str] | None = None
    replies: list[str] = []
    for verb in job.verbs:
        if verb == "help":
            replies.append(commands.help_text(job.unknown))
            continue
        if rights is None:
            rights = await permission(gh, repo, job.author)
        why = commands.refusal(verb, rights[0], rights[1], is_author=job.author.lower() == author.lower())
        if why:
            replies.append(why)
            failed = True
            continue
        text, ok = await _act(gh, job, info, target, verb)
        if text:
            replies.append(text)
        failed = failed or not ok
    await _reply(gh, repo, job, replies, retried=not new)
    await react(gh, repo, job.comment_id, "confused" if failed else "rocket")
    return Outcome("failed" if failed else "done", ", ".join(job.verbs), pull=job.number)


async def _reply(gh: Any, repo: Target, job: Any, parts: list[str], *, retried: bool) -> None:
    """One reply holding every command's answer, marked with the comment it answers; a try after one that
    died part-way first looks whether its reply is already there."""
    if not parts:
        return
    mark = REPLY_MARK.format(id=job.comment_id)
    if retried and await _replied(gh, repo, job.number, mark):
        return
    await writes.comment(gh, repo, job.number, mark + "\n" + "\n\n---\n\n".join(parts))


async def _replied(gh: Any, repo: Target, number: int, mark: str) -> bool:
    names = {**repo.url_vars, "number": str(number)}
    async for found in gh.getiter("/repos/{owner}/{repo}/issues/{number}/comments?per_page=100", names):
        if str(found.get("body") or "").startswith(mark):
            return True
    return False


def quoted(text: str) -> str:
    """A message that may carry words of the repository (a config, file names) as a reply shows it: in a
    code block, so it neither renders as markup nor mentions anyone."""
    return md.fence(text, "text")


async def failed(gh: Any, job: Any, reason: str) -> None:
    """A command job that will not be tried again: a short reply and `confused`."""
    repo = Target(job.owner, job.repo, "")
    await writes.comment(gh, repo, job.number, f"repodoc could not run this command: {reason}", unless_present=True)
    await react(gh, repo, job.comment_id, "confused")


async def _act(gh: Any, job: Any, info: PullInfo, target: Target, verb: str) -> tuple[str, bool]:
    """One allowed command: (the reply, or '', and whether it succeeded)."""
    full, recreate = verb == "full", verb == "recreate"
    if info.docs_of:  # a branch's docs pull request: the branch's docs are rebuilt now
        branch = Target(job.owner, job.repo, info.docs_of)
        head = await writes.head_of(gh, branch, branch.branch)
        if head is None:
            return f"The branch {md.code(info.docs_of)} no longer exists.", False
        if verb == "status":
            return await _status(gh, branch, info, head), True
        outcome = await sync_branch(
            gh, branch, head, default_branch=info.default_branch or None, full=full, recreate=recreate
        )
        return _said(outcome)
    if info.companion_of:
        info = await read_pull(gh, job.owner, job.repo, info.companion_of)
        target = Target(job.owner, job.repo, info.head_ref, pull=info.number)
    if info.state != "open":
        return f"#{info.number} is closed: there is nothing to refresh.", False
    if info.fork or verb == "status":
        try:
            await gate(gh, target, info.default_branch or target.branch)
        except ConfigError as exc:
            return "The config of the default branch is broken:\n\n" + quoted(str(exc)), False
        planned = await survey_pull(gh, target, info)
        if isinstance(planned, str):
            return "repodoc cannot document this commit:\n\n" + quoted(planned), False
        return summary(planned, info, None), True
    outcome = await check_pull(gh, job.owner, job.repo, info.number, full=full, recreate=recreate)
    return _said(outcome)


async def _status(gh: Any, branch: Target, info: PullInfo, head: str) -> str:
    """The status reply for a branch's docs pull request: the branch's head planned, nothing written."""
    try:
        planned = await survey_commit(gh, branch, head)
    except ConfigError as exc:
        return "The config is broken:\n\n" + quoted(str(exc))
    if isinstance(planned, str):
        return "repodoc cannot document this commit:\n\n" + quoted(planned)
    return summary(planned, info, None)


def _said(outcome: Outcome) -> tuple[str, bool]:
    """A short reply for an outcome that needs one (a failure, a held branch, nothing done), and whether it
    succeeded."""
    if outcome.action == "failed":
        return "repodoc could not refresh the docs:\n\n" + quoted(outcome.reason), False
    if outcome.action == "held":
        return outcome.reason, False
    if outcome.action in ("ignored", "superseded"):
        return "Nothing to do: " + quoted(outcome.reason), True
    return "", True
