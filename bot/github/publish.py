"""Acting on a `Plan`: `publish` (one commit on the source commit, the docs branch moved, the pull request
opened or updated), `report` (a check run), `close`; made of the writes in `bot/github/writes.py`."""

from __future__ import annotations

import asyncio
from typing import Any

import gidgethub

from ..engine import md
from . import pulls
from .listing import page_changes, remember_writes
from .plan import PAGE_MODE, Outcome, Plan, Target
from .writes import (
    Refused,
    app_made,
    check_run,
    comment,
    delete_branch,
    head_of,
    nothing,
    once,
    point_branch,
    post_tree,
)

WORKFLOWS_FIX = (
    "GitHub refused to move {branch}: the source branch changed files under `.github/workflows/` since this "
    "pull request was made, and a GitHub App may carry such changes into a branch only with the `workflows` "
    "permission, which repodoc does not ask for. To let repodoc refresh this pull request, either grant the App "
    "`workflows: write`, or close this pull request and delete the branch {branch}: the next push recreates it "
    "from the source commit."
)
WORKFLOWS_NEW = (
    "GitHub refused to move or make {branch}: it would bring changes under `.github/workflows/` that are not "
    "there, and a GitHub App may do that only with the `workflows` permission, which repodoc does not ask for. "
    "Grant the App `workflows: write`, or delete {branch} (repodoc deletes and recreates it itself only when "
    "it holds nothing but the App's own commit)."
)


def tree_entries(plan: Plan) -> list[dict[str, Any]]:
    """The plan's writes (inline content) and deletes (`sha: null`) as tree entries."""
    entries: list[dict[str, Any]] = [
        {"path": f"{plan.docs_dir}/{rel}", "mode": PAGE_MODE, "type": "blob", "content": text}
        for rel, text in sorted(plan.writes.items())
    ]
    entries += [
        {"path": f"{plan.docs_dir}/{rel}", "mode": PAGE_MODE, "type": "blob", "sha": None} for rel in plan.deletes
    ]
    entries += [
        {"path": path, "mode": PAGE_MODE, "type": "blob", "content": text}
        for path, text in sorted(plan.sources.items())
    ]
    return entries


async def close(gh: Any, target: Target, pull: pulls.OpenPull, why: str, *, drop_branch: bool = False) -> Outcome:
    """Close the docs pull request with a one-line comment saying why; drop_branch: delete its branch too,
    when it still holds only the commit the App left there."""
    await comment(gh, target, pull.number, why, unless_present=True)  # a job tried again: said once
    names = {**target.url_vars, "number": str(pull.number)}
    body = pull.body if pulls.CLOSED_MARK in pull.body else pull.body + "\n" + pulls.CLOSED_MARK
    await gh.patch("/repos/{owner}/{repo}/pulls/{number}", names, data={"state": "closed", "body": body})
    if drop_branch and pull.marker is not None and pull.marker.commit == pull.head_sha:
        await delete_branch(gh, target, pull.head)
    return Outcome("closed", why, pull=pull.number)


async def report(gh: Any, plan: Plan) -> None:
    """Show a plan as a check run on its source commit: success when the docs are in step, neutral
    (with what would change) when not."""
    if plan.empty:
        await check_run(gh, plan.target, plan.source, "success", "Docs in step", "Nothing to regenerate.")
        return
    title = f"{len(plan.writes)} pages to regenerate, {len(plan.deletes)} to delete"
    summary = pulls.body(
        pulls.Marker(plan.source, plan.docs_before, plan.docs_after, plan.source),
        plan.target.branch,
        plan.before,
        plan.written,
        list(plan.deletes),
        plan.docs_dir,
        plan.conflicts,
    )
    await check_run(gh, plan.target, plan.source, "neutral", title, summary)


async def _open(gh: Any, plan: Plan, branch: str, text: str) -> Outcome:
    """Open the pull request; one that already exists (a retry after a lost answer, a race) is updated."""
    target = plan.target
    data = {"title": plan.title, "head": branch, "base": target.branch, "body": text}

    async def existing() -> pulls.OpenPull | None:
        return await pulls.pull_from(gh, target, branch)

    async def post() -> pulls.OpenPull:
        made = await gh.post("/repos/{owner}/{repo}/pulls", target.url_vars, data=data)
        return pulls.parse_pull(made)

    try:
        made = await once(post, existing)
    except gidgethub.HTTPException as exc:
        found = await existing() if int(exc.status_code) == 422 and "already exists" in str(exc) else None
        if found is None:
            raise
        return await _update(gh, plan, found, text)
    return Outcome("opened", pull=made.number, written=plan.written, deleted=list(plan.deletes))


async def _update(gh: Any, plan: Plan, pull: pulls.OpenPull, text: str) -> Outcome:
    """Update the pull request's body (and title and base, when they are not the branch's)."""
    data = {"body": text}
    if pull.title != plan.title:
        data["title"] = plan.title
    if pull.base != plan.target.branch:
        data["base"] = plan.target.branch  # found by its head branch, aimed elsewhere: retargeted
    names = {**plan.target.url_vars, "number": str(pull.number)}
    await gh.patch("/repos/{owner}/{repo}/pulls/{number}", names, data=data)
    return Outcome("updated", pull=pull.number, written=plan.written, deleted=list(plan.deletes))


async def publish(gh: Any, plan: Plan, pull: pulls.OpenPull | None, *, recreate: bool = False) -> Outcome:
    """One commit on the source commit holding the plan, the docs branch moved to it, the pull request
    opened or updated; the source branch's head is checked before the writes and again before the move.
    A docs branch a person has committed to is left alone (said once on its pull request) unless `recreate`;
    a docs pull request a person closed without merging is not opened again for the same docs."""
    target = plan.target
    if (head := await head_of(gh, target, target.branch)) != plan.source:
        return Outcome("superseded", f"{target.branch} moved on to {head}")
    if pull is None:
        latest = await pulls.latest_from(gh, target, target.docs_branch)
        if latest is not None and latest.open:
            pull = latest.pull  # open into another base (retargeted below), or not found by the base's listing
        elif not recreate:
            mark = latest.pull.marker if latest is not None else None
            same = mark is not None and (mark.docs_before, mark.docs_after) == (plan.docs_before, plan.docs_after)
            if latest is not None and latest.closed_by_person and same:
                why = f"#{latest.pull.number} proposed these docs and was closed without merging: not opened again"
                return Outcome("ignored", why, pull=latest.pull.number)
            held = await _held_branch(gh, plan, mark.commit if mark is not None else "")
            if held is not None:
                return held
    if not recreate:
        held = await _held(gh, target, pull)
        if held is not None:
            return held
    # entries of thousands of pages and their blob ids take long enough to stall the event loop: made in a thread
    tree = await post_tree(gh, target, plan.root, await asyncio.to_thread(tree_entries, plan))
    changes = await asyncio.to_thread(page_changes, plan.writes, plan.deletes, plan.docs_dir)
    remember_writes(gh, plan.root, tree, changes)  # the next push reads less
    # No author and no committer: GitHub signs the App's commit and marks it Verified.
    data = {"message": plan.message(), "tree": tree, "parents": [plan.source]}

    async def post() -> Any:
        return await gh.post("/repos/{owner}/{repo}/git/commits", target.url_vars, data=data)

    made = await once(post, nothing)  # sent again, it makes an unused twin, never a wrong branch
    commit = str(made["sha"])
    if (head := await head_of(gh, target, target.branch)) != plan.source:
        return Outcome("superseded", f"{target.branch} moved on to {head}")
    branch = pull.head if pull is not None else target.docs_branch
    try:
        await point_branch(gh, target, branch, commit)
    except Refused as exc:
        if not exc.workflows or pull is not None or not await _recreate(gh, target, branch, commit):
            return await _refused(gh, plan, pull, branch, exc)
    text = plan.body(commit)
    if pull is None:
        return await _open(gh, plan, branch, text)
    return await _update(gh, plan, pull, text)


async def _held(gh: Any, target: Target, pull: pulls.OpenPull | None) -> Outcome | None:
    """An outcome when the open docs pull request's branch holds a commit that the App did not make (a
    person's), else None. A docs branch with no pull request open is the App's to rebuild."""
    if pull is None or (pull.marker is not None and pull.marker.commit == pull.head_sha):
        return None
    if await app_made(gh, target, pull.head_sha):
        return None
    why = pulls.HELD.format(branch=md.code(pull.head))
    await comment(gh, target, pull.number, why, unless_present=True)  # said once
    return Outcome("held", why, pull=pull.number)


async def _held_branch(gh: Any, plan: Plan, known: str) -> Outcome | None:
    """With no docs pull request open, an outcome when the docs branch holds a person's commit (known: the
    commit the branch's last pull request recorded as the App's), said once on the source commit's check run."""
    target = plan.target
    head = await head_of(gh, target, target.docs_branch)
    if head is None or head == known or await app_made(gh, target, head):
        return None
    why = pulls.HELD.format(branch=md.code(target.docs_branch))
    if not target.pull:  # a companion's check run says it itself
        await check_run(gh, target, plan.source, "neutral", "repodoc left its docs branch alone", why)
    return Outcome("held", why)


async def _recreate(gh: Any, target: Target, branch: str, commit: str) -> bool:
    """With no pull request open, a docs branch whose move GitHub refused for `workflows` is deleted and
    made anew at the docs commit (its changes from the source commit are docs only), when it holds only
    the App's commit; False when it cannot be."""
    old = await head_of(gh, target, branch)
    if old is None or not await app_made(gh, target, old) or await pulls.pull_from(gh, target, branch):
        return False  # someone else's commit, or the head of a pull request into another branch
    await delete_branch(gh, target, branch)
    try:
        await point_branch(gh, target, branch, commit)
    except Refused:
        return False
    return True


async def _refused(gh: Any, plan: Plan, pull: pulls.OpenPull | None, branch: str, exc: Refused) -> Outcome:
    """Report a refused ref update: on the open pull request, else as a failed check run on the source."""
    target = plan.target
    if exc.workflows and pull is None:
        why = WORKFLOWS_NEW.format(branch=md.code(branch))
    elif exc.workflows:
        why = WORKFLOWS_FIX.format(branch=md.code(branch))
    else:
        why = f"GitHub refused to move {md.code(branch)} to the refreshed docs: {exc.reason}"
    if pull is not None:
        await comment(gh, target, pull.number, why, unless_present=True)
    else:
        await check_run(gh, target, plan.source, "failure", "repodoc cannot update its docs branch", why)
    return Outcome("failed", why, pull=pull.number if pull else 0)
