"""Acting on a `Plan`: `publish` (one commit on the source commit, the docs branch moved, the pull request
opened or updated), `report` (a check run), `close`; and the writes they are made of, in the shapes
GitHub accepts (bounded tree bodies, refused ref updates told apart, non-idempotent POSTs checked
before they are sent again)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import gidgethub

from . import pulls
from .client import ref_url
from .plan import PAGE_MODE, Outcome, Plan, Target

T = TypeVar("T")
CHECK_NAME = "repodoc"
TREE_ENTRIES = 100  # entries per POST /git/trees (as create-pull-request); more chain through base_tree
TREE_BYTES = 1_000_000  # JSON bytes per POST /git/trees; GitHub times out on much larger bodies
APP_COMMIT = "docs: refresh generated docs for "
TRANSIENT = (gidgethub.GitHubBroken, TimeoutError, aiohttp.ClientError)
WORKFLOWS_FIX = (
    "GitHub refused to move `{branch}`: the source branch changed files under `.github/workflows/` since this "
    "pull request was made, and a GitHub App may carry such changes into a branch only with the `workflows` "
    "permission, which repodoc does not ask for. To let repodoc refresh this pull request, either grant the App "
    "`workflows: write`, or close this pull request and delete the branch `{branch}`: the next push recreates it "
    "from the source commit."
)


class Refused(Exception):
    """GitHub refused to move a ref (422), for `reason`; `workflows`: for lack of that permission."""

    def __init__(self, reason: str, workflows: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.workflows = workflows


def tree_entries(plan: Plan) -> list[dict[str, Any]]:
    """The plan's writes (inline content) and deletes (`sha: null`) as tree entries."""
    entries: list[dict[str, Any]] = [
        {"path": f"{plan.docs_dir}/{rel}", "mode": PAGE_MODE, "type": "blob", "content": text}
        for rel, text in sorted(plan.writes.items())
    ]
    entries += [
        {"path": f"{plan.docs_dir}/{rel}", "mode": PAGE_MODE, "type": "blob", "sha": None} for rel in plan.deletes
    ]
    return entries


def chunks(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Entries in runs of at most TREE_ENTRIES and about TREE_BYTES of JSON (one larger entry goes alone)."""
    out: list[list[dict[str, Any]]] = []
    size = 0
    for entry in entries:
        weight = len(json.dumps(entry)) + 2
        if not out or len(out[-1]) >= TREE_ENTRIES or size + weight > TREE_BYTES:
            out.append([])
            size = 0
        out[-1].append(entry)
        size += weight
    return out


async def post_tree(gh: Any, target: Target, base: str, entries: list[dict[str, Any]]) -> str:
    """One tree: base with every entry applied, chained in bounded chunks through base_tree."""
    for chunk in chunks(entries):
        base = await _post_chunk(gh, target, base, chunk)
    return base


async def _post_chunk(gh: Any, target: Target, base: str, chunk: list[dict[str, Any]]) -> str:
    """POST one chunk; on GitHub's 422 "request timed out" it is split in two and each half sent."""
    # https://docs.github.com/en/rest/git/trees#create-a-tree (inline content; sha null deletes)
    try:
        data = await gh.post(
            "/repos/{owner}/{repo}/git/trees", target.url_vars, data={"base_tree": base, "tree": chunk}
        )
    except gidgethub.HTTPException as exc:
        if int(exc.status_code) != 422 or "timed out" not in str(exc) or len(chunk) < 2:
            raise
        half = len(chunk) // 2
        return await _post_chunk(gh, target, await _post_chunk(gh, target, base, chunk[:half]), chunk[half:])
    return str(data["sha"])


async def head_of(gh: Any, target: Target, branch: str) -> str | None:
    """The commit a branch points at (None: no such branch)."""
    try:
        return str((await gh.getitem(ref_url("ref", "heads/" + branch), target.url_vars))["object"]["sha"])
    except gidgethub.HTTPException as exc:
        if int(exc.status_code) == 404:
            return None
        raise


async def app_made(gh: Any, target: Target, sha: str) -> bool:
    """Whether a commit is one the App made: one parent, the App's message naming that parent, signed."""
    data = await gh.getitem("/repos/{owner}/{repo}/git/commits/{sha}", {**target.url_vars, "sha": sha})
    parents = [p["sha"] for p in data["parents"]]
    message = str(data["message"])
    return (
        len(parents) == 1
        and message.startswith(APP_COMMIT)
        and f"\nSource: {parents[0]}\n" in message
        and bool(data["verification"]["verified"])
    )


async def point_branch(gh: Any, target: Target, branch: str, sha: str) -> None:
    """Move `branch` to sha (rebuilt on the source commit, so forced), creating it when it does not
    exist; raises Refused for any other refusal, telling a missing `workflows` permission apart."""
    try:
        await gh.patch(ref_url("refs", "heads/" + branch), target.url_vars, data={"sha": sha, "force": True})
        return
    except gidgethub.HTTPException as exc:
        if int(exc.status_code) != 422:
            raise
        if "Reference does not exist" not in str(exc):
            raise _refusal(exc) from exc
    try:
        await gh.post(
            "/repos/{owner}/{repo}/git/refs", target.url_vars, data={"ref": f"refs/heads/{branch}", "sha": sha}
        )
    except gidgethub.HTTPException as exc:
        if int(exc.status_code) != 422:
            raise
        raise _refusal(exc) from exc


def _refusal(exc: gidgethub.HTTPException) -> Refused:
    text = str(exc)
    return Refused(text, workflows="workflow" in text and "permission" in text)


async def delete_branch(gh: Any, target: Target, branch: str) -> None:
    """Delete a branch (the caller has checked that it holds only the App's commit)."""
    await gh.delete(ref_url("refs", "heads/" + branch), target.url_vars)


async def once(post: Callable[[], Awaitable[T]], done: Callable[[], Awaitable[T | None]]) -> T:
    """Send a non-idempotent POST; when it fails without a clear answer (5xx, timeout, connection lost),
    look whether its effect is there (`done`) before sending it once more."""
    try:
        return await post()
    except TRANSIENT:
        found = await done()
        if found is not None:
            return found
        return await post()


async def comment(gh: Any, target: Target, number: int, text: str, *, unless_present: bool = False) -> None:
    """Post a comment on a pull request, never twice: after a failure (or, with unless_present, always)
    the last comments are read first."""
    names = {**target.url_vars, "number": str(number)}

    async def present() -> bool | None:
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 30 * 24 * 3600))
        found = await gh.getitem(
            "/repos/{owner}/{repo}/issues/{number}/comments?since={since}&per_page=100", {**names, "since": since}
        )
        return True if any(c.get("body") == text for c in found) else None

    async def post() -> bool:
        await gh.post("/repos/{owner}/{repo}/issues/{number}/comments", names, data={"body": text})
        return True

    if unless_present and await present():
        return
    await once(post, present)


async def close(gh: Any, target: Target, pull: pulls.OpenPull, why: str, *, drop_branch: bool = False) -> Outcome:
    """Close the docs pull request with a one-line comment saying why; drop_branch: delete its branch too,
    when it still holds only the commit the App left there."""
    await comment(gh, target, pull.number, why)
    names = {**target.url_vars, "number": str(pull.number)}
    await gh.patch("/repos/{owner}/{repo}/pulls/{number}", names, data={"state": "closed"})
    if drop_branch and pull.marker is not None and pull.marker.commit == pull.head_sha:
        await delete_branch(gh, target, pull.head)
    return Outcome("closed", why, pull=pull.number)


async def check_run(gh: Any, target: Target, sha: str, conclusion: str, title: str, summary: str) -> None:
    """A completed `repodoc` check run on a commit."""
    # https://docs.github.com/en/rest/checks/runs#create-a-check-run
    await gh.post(
        "/repos/{owner}/{repo}/check-runs",
        target.url_vars,
        data={
            "name": CHECK_NAME,
            "head_sha": sha,
            "status": "completed",
            "conclusion": conclusion,
            "output": {"title": title[:200], "summary": summary[: pulls.BODY_LIMIT]},
        },
    )


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


async def publish(gh: Any, plan: Plan, pull: pulls.OpenPull | None) -> Outcome:
    """One commit on the source commit holding the plan, the docs branch moved to it, the pull request
    opened or updated; the source branch's head is checked before the writes and again before the move."""
    target = plan.target
    if (head := await head_of(gh, target, target.branch)) != plan.source:
        return Outcome("superseded", f"{target.branch} moved on to {head}")
    tree = await post_tree(gh, target, plan.root, tree_entries(plan))
    # No author and no committer: GitHub signs the App's commit and marks it Verified.
    made = await gh.post(
        "/repos/{owner}/{repo}/git/commits",
        target.url_vars,
        data={"message": plan.message(), "tree": tree, "parents": [plan.source]},
    )
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


async def _recreate(gh: Any, target: Target, branch: str, commit: str) -> bool:
    """With no pull request open, a docs branch whose move GitHub refused for `workflows` is deleted and
    made anew at the docs commit (its changes from the source commit are docs only), when it holds only
    the App's commit; False when it cannot be."""
    old = await head_of(gh, target, branch)
    if old is None or not await app_made(gh, target, old):
        return False
    await delete_branch(gh, target, branch)
    try:
        await point_branch(gh, target, branch, commit)
    except Refused:
        return False
    return True


async def _refused(gh: Any, plan: Plan, pull: pulls.OpenPull | None, branch: str, exc: Refused) -> Outcome:
    """Report a refused ref update: on the open pull request, else as a failed check run on the source."""
    target = plan.target
    if exc.workflows:
        why = WORKFLOWS_FIX.format(branch=branch)
    else:
        why = f"GitHub refused to move `{branch}` to the refreshed docs: {exc.reason}"
    if pull is not None:
        await comment(gh, target, pull.number, why, unless_present=True)
    else:
        await check_run(gh, target, plan.source, "failure", "repodoc cannot update its docs branch", why)
    return Outcome("failed", why, pull=pull.number if pull else 0)
