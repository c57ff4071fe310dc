"""The writes a sync is made of, in the shapes GitHub accepts: tree bodies bounded by entries and bytes
(split again on GitHub's 422 "timed out"), ref moves whose refusals are told apart, non-idempotent POSTs
checked before they are sent again, comments never posted twice, check runs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import gidgethub

from ..engine import md
from . import pulls
from .client import ref_url
from .plan import Target

T = TypeVar("T")
CHECK_NAME = "repodoc"
TREE_ENTRIES = 1000  # per POST /git/trees (GitHub documents no limit; bytes bind first: ~1 request per MB)
TREE_BYTES = 1_000_000  # JSON bytes per POST /git/trees; GitHub times out on much larger bodies
APP_COMMIT = "docs: refresh generated docs for "
TRANSIENT = (gidgethub.GitHubBroken, TimeoutError, aiohttp.ClientError)


class Refused(Exception):
    """GitHub refused to move a ref (422), for `reason`; `workflows`: for lack of that permission."""

    def __init__(self, reason: str, workflows: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.workflows = workflows


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
    """One tree: base with every entry applied, chained in bounded chunks through base_tree (cut in a thread:
    measuring thousands of entries would stall the event loop)."""
    for chunk in await asyncio.to_thread(chunks, entries):
        base = await _post_chunk(gh, target, base, chunk)
    return base


async def _post_chunk(gh: Any, target: Target, base: str, chunk: list[dict[str, Any]]) -> str:
    """POST one chunk; on GitHub's 422 "request timed out", or a 5xx that outlived the retries (a body too
    large to build in time often ends so), it is split in two and each half sent."""
    # https://docs.github.com/en/rest/git/trees#create-a-tree (inline content; sha null deletes)

    async def post() -> Any:
        data = {"base_tree": base, "tree": chunk}
        return await gh.post("/repos/{owner}/{repo}/git/trees", target.url_vars, data=data)

    try:
        data = await once(post, nothing)  # a tree is its content: sent twice, it is the same tree
    except gidgethub.HTTPException as exc:
        status = int(exc.status_code)
        if not ((status == 422 and "timed out" in str(exc)) or status >= 500) or len(chunk) < 2:
            raise
        half = len(chunk) // 2
        return await _post_chunk(gh, target, await _post_chunk(gh, target, base, chunk[:half]), chunk[half:])
    return str(data["sha"])


async def head_of(gh: Any, target: Target, branch: str) -> str | None:
    """The commit a branch points at (None: no such branch, or an empty repository)."""
    try:
        return str((await gh.getitem(ref_url("ref", "heads/" + branch), target.url_vars))["object"]["sha"])
    except gidgethub.HTTPException as exc:
        if int(exc.status_code) in (404, 409):  # GitHub: 409 "Git Repository is empty."
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
    for _ in range(2):
        try:
            await gh.patch(ref_url("refs", "heads/" + branch), target.url_vars, data={"sha": sha, "force": True})
            return
        except gidgethub.HTTPException as exc:
            if int(exc.status_code) != 422:
                raise
            if "Reference does not exist" not in str(exc):
                raise _refusal(exc) from exc

        async def create() -> bool:
            data = {"ref": f"refs/heads/{branch}", "sha": sha}
            await gh.post("/repos/{owner}/{repo}/git/refs", target.url_vars, data=data)
            return True

        async def created() -> bool | None:
            return True if await head_of(gh, target, branch) == sha else None

        try:
            await once(create, created)
            return
        except gidgethub.HTTPException as exc:
            if int(exc.status_code) != 422:
                raise
            if "already exists" not in str(exc):
                raise _refusal(exc) from exc
            # made meanwhile (a race, or a lost answer to a create sent again): moved once more
    raise Refused(f"{md.code(branch)} could be neither moved nor created", workflows=False)


def _refusal(exc: gidgethub.HTTPException) -> Refused:
    text = str(exc)
    return Refused(text, workflows="workflow" in text and "permission" in text)


async def delete_branch(gh: Any, target: Target, branch: str) -> None:
    """Delete a branch (the caller has checked that it holds only the App's commit); one already gone is fine."""
    try:
        await gh.delete(ref_url("refs", "heads/" + branch), target.url_vars)
    except gidgethub.HTTPException as exc:
        if int(exc.status_code) != 422 or "Reference does not exist" not in str(exc):
            raise


async def nothing() -> None:
    """No effect to look for: the POST makes the same object (or an unused twin) when sent again."""
    return None


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
        # oldest first, so every page is read: on a busy pull request the newest is past the first
        async for found in gh.getiter(
            "/repos/{owner}/{repo}/issues/{number}/comments?since={since}&per_page=100", {**names, "since": since}
        ):
            if found.get("body") == text:
                return True
        return None

    async def post() -> bool:
        await gh.post("/repos/{owner}/{repo}/issues/{number}/comments", names, data={"body": text})
        return True

    if unless_present and await present():
        return
    await once(post, present)


async def check_run(gh: Any, target: Target, sha: str, conclusion: str, title: str, summary: str) -> None:
    """A completed `repodoc` check run on a commit."""
    # https://docs.github.com/en/rest/checks/runs#create-a-check-run
    output = {"title": title[:200], "summary": summary[: pulls.BODY_LIMIT]}
    data = {"name": CHECK_NAME, "head_sha": sha, "status": "completed", "conclusion": conclusion, "output": output}

    async def post() -> bool:
        await gh.post("/repos/{owner}/{repo}/check-runs", target.url_vars, data=data)
        return True

    async def present() -> bool | None:
        # https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
        found = await gh.getitem(
            "/repos/{owner}/{repo}/commits/{ref}/check-runs?check_name={name}&filter=latest",
            {**target.url_vars, "ref": sha, "name": CHECK_NAME},
        )
        return (
            True
            if any(
                run.get("conclusion") == conclusion and (run.get("output") or {}).get("title") == output["title"]
                for run in found.get("check_runs", [])
            )
            else None
        )

    await once(post, present)  # a lost answer: looked for before it is sent again


async def start_check(gh: Any, target: Target, sha: str, external_id: str = "") -> int:
    """A `repodoc` check run `in_progress` on a commit, its id: the latest run there when it is still in
    progress (a job tried again, or two events for one head), so no run is left spinning; else a new one.
    external_id (the pull request's number) lets a re-run of a fork's check find its pull request."""

    async def present() -> int | None:
        return await running_check(gh, target, sha)

    async def post() -> int:
        data = {"name": CHECK_NAME, "head_sha": sha, "status": "in_progress", "external_id": external_id}
        return int((await gh.post("/repos/{owner}/{repo}/check-runs", target.url_vars, data=data))["id"])

    running = await present()
    if running is not None:
        return running
    return await once(post, present)


async def running_check(gh: Any, target: Target, sha: str) -> int | None:
    """The id of the latest `repodoc` run on a commit when it is not completed, else None."""
    found = await gh.getitem(
        "/repos/{owner}/{repo}/commits/{ref}/check-runs?check_name={name}&filter=latest",
        {**target.url_vars, "ref": sha, "name": CHECK_NAME},
    )
    runs = [run for run in found.get("check_runs", []) if run.get("status") != "completed"]
    return int(runs[0]["id"]) if runs else None


async def fail_running(gh: Any, target: Target, sha: str, title: str, summary: str) -> bool:
    """Complete a `repodoc` run left in progress on a commit as failed; False when there is none."""
    running = await running_check(gh, target, sha)
    if running is None:
        return False
    await finish_check(gh, target, running, "failure", title, summary)
    return True


async def finish_check(gh: Any, target: Target, run_id: int, conclusion: str, title: str, summary: str) -> None:
    """Complete a check run made by start_check (PATCH: harmless to send twice)."""
    # https://docs.github.com/en/rest/checks/runs#update-a-check-run
    output = {"title": title[:200], "summary": summary[: pulls.BODY_LIMIT]}
    data = {"status": "completed", "conclusion": conclusion, "output": output}
    await gh.patch("/repos/{owner}/{repo}/check-runs/{id}", {**target.url_vars, "id": str(run_id)}, data=data)
