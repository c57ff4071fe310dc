"""File contents of a commit: the changed blobs one by one, or, when many are wanted, one archive.

`GET /repos/{owner}/{repo}/tarball/{ref}` costs one API request and answers 302 to a download that does
not count against the budget (https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar);
a private repository's link expires after minutes, so it is followed at once. The archive is streamed into an
anonymous spool bounded by size and read with tarfile in stream mode, members in memory only. An archive is
not the blobs (`export-ignore` drops files, `export-subst` rewrites them, LFS may ship objects instead of
pointers): each member is hashed as a git blob and kept only when it is the listed blob; the rest are read
with `GET git/blobs`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import tarfile
import tempfile
from collections.abc import Awaitable, Iterable, Mapping
from typing import IO, Any, TypeVar

import aiohttp

from ..engine.file_pages import blob_id
from .caches import keep
from .client import Deferred

log = logging.getLogger("repodoc.contents")
T = TypeVar("T")
PARALLEL_READS = 8  # blob reads in flight at once (GitHub's secondary limits frown on more)
# More blobs than this to read, and one archive is cheaper: 1 API request (the download is not counted)
# against one request each, 8 in flight; 20 requests are already twice a whole one-file push, while below
# it a few blob reads cost less time and fewer bytes than downloading every file of the commit.
ARCHIVE_MIN_BLOBS = 20
ARCHIVE_BYTES = 1024 * 1024 * 1024  # compressed download, at most
UNPACKED_BYTES = 4 * 1024 * 1024 * 1024  # members' sizes, summed, at most
MEMBERS = 1_000_000  # members, at most
SPOOL_BYTES = 16 * 1024 * 1024  # the download stays in memory up to this, then in an anonymous file
CHUNK = 256 * 1024


class ArchiveRefused(Exception):
    """The archive is unavailable, too large, or unreadable: the blobs are read instead."""


async def bounded(jobs: Iterable[Awaitable[T]]) -> list[T]:
    """Await every job, at most PARALLEL_READS at a time, results in order."""
    gate = asyncio.Semaphore(PARALLEL_READS)

    async def one(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def blob(gh: Any, target: Any, sha: str) -> bytes:
    """A blob's bytes, from the runner's cache (blobs never change) or one request."""
    blobs = gh.caches.blobs
    if sha in blobs:
        return bytes(blobs[sha])
    url_vars = {"owner": target.owner, "repo": target.repo, "sha": sha}
    data = await gh.getitem("/repos/{owner}/{repo}/git/blobs/{sha}", url_vars)
    content = base64.b64decode(data["content"]) if data.get("encoding") == "base64" else data["content"].encode()
    keep(blobs, sha, content)
    return content


async def contents(gh: Any, target: Any, commit: str, wanted: Mapping[str, str]) -> dict[str, bytes]:
    """path -> bytes of every wanted path (path -> blob id) of `commit`, in wanted's order: from the blob
    cache, one archive when more than ARCHIVE_MIN_BLOBS are left to read, and blob reads for the rest."""
    cached = gh.caches.blobs
    found: dict[str, bytes] = {}
    left = {path: sha for path, sha in wanted.items() if sha not in cached}
    if len(left) > ARCHIVE_MIN_BLOBS:
        try:
            found = await archive(gh, target, commit, left)
        except ArchiveRefused as exc:
            log.warning("%s/%s: reading %d blobs one by one: %s", target.owner, target.repo, len(left), exc)
    missing = [path for path in wanted if path not in found]
    if found and missing:
        log.info("%s/%s: %d files not as listed in the archive, read as blobs", target.owner, target.repo, len(missing))
    read = await bounded(blob(gh, target, wanted[path]) for path in missing)
    found.update(zip(missing, read, strict=True))
    return {path: found[path] for path in wanted}


async def archive(gh: Any, target: Any, commit: str, wanted: Mapping[str, str]) -> dict[str, bytes]:
    """path -> bytes of the wanted files (path -> blob id) whose archive member is that very blob."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        await _download(gh, target, commit, spool)
        spool.seek(0)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, _members, spool, wanted)


async def _download(gh: Any, target: Any, commit: str, spool: IO[bytes]) -> None:
    """The commit's tarball into spool: one API request, then its download link followed at once."""
    url = f"{gh.base_url}/repos/{target.owner}/{target.repo}/tarball/{commit}"
    headers = {"User-Agent": gh.requester, "Accept": "application/vnd.github+json"}
    session: aiohttp.ClientSession = gh._session
    await gh._admit("GET", url)  # an API request like any other: deferred while the budget is spent
    gh.traffic.requests += 1
    try:
        async with session.get(
            url, headers={**headers, "Authorization": f"token {gh.oauth_token}"}, allow_redirects=False
        ) as answer:
            gh.budget.observe(answer.headers)
            location = answer.headers.get("Location")
            if answer.status in (403, 429):  # a rate limit defers the job, never reads every file as a blob
                wait = gh.rate_wait(answer.status, answer.headers, await answer.text(), 1)
                if wait is not None:
                    raise Deferred(gh.limits.clock() + wait, f"GitHub's rate limit ({answer.status} to the tarball)")
            if answer.status != 302 or not location:
                raise ArchiveRefused(f"the tarball request answered {answer.status}")
        # the link carries its own short-lived token: the installation token is not sent to another host
        async with session.get(location, headers={"User-Agent": gh.requester}) as download:
            if download.status != 200:
                raise ArchiveRefused(f"the tarball download answered {download.status}")
            if (download.content_length or 0) > ARCHIVE_BYTES:
                raise ArchiveRefused(f"the archive is {download.content_length} bytes, over {ARCHIVE_BYTES}")
            total = 0
            async for chunk in download.content.iter_chunked(CHUNK):
                total += len(chunk)
                if total > ARCHIVE_BYTES:
                    raise ArchiveRefused(f"the archive is over {ARCHIVE_BYTES} bytes")
                spool.write(chunk)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise ArchiveRefused(f"the tarball could not be read: {exc!r}") from exc


def _members(spool: IO[bytes], wanted: Mapping[str, str]) -> dict[str, bytes]:
    """Stream the archive's members (never extracted), keeping each wanted one that hashes to its blob id."""
    found: dict[str, bytes] = {}
    count = unpacked = 0
    try:
        with tarfile.open(fileobj=spool, mode="r|gz") as tar:
            for member in tar:
                count += 1
                unpacked += member.size
                if count > MEMBERS or unpacked > UNPACKED_BYTES:
                    raise ArchiveRefused(f"the archive holds more than {MEMBERS} members or {UNPACKED_BYTES} bytes")
                _, _, path = member.name.partition("/")  # below the top folder, `owner-repo-shortsha/`
                sha = wanted.get(path)
                if sha is None or not member.isfile():
                    continue
                reader = tar.extractfile(member)
                data = reader.read() if reader else b""
                if blob_id(data) == sha:
                    found[path] = data
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveRefused(f"the archive could not be read: {exc!r}") from exc
    return found
