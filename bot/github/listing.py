"""Tree listings at any size: one recursive read while GitHub answers it whole, tree listings cached by sha
(they never change), and non-recursive descent into only the subtrees not seen before once a read comes back
`truncated` (https://docs.github.com/en/rest/git/trees#get-a-tree: at most 100,000 entries or 7 MB).

A truncated recursive read still lists many folders in full; which ones is not said, so each listed folder's
rows are hashed as git hashes a tree object and kept only when the hash is the folder's own sha. Trees the App
writes itself are predicted the same way (`remember_writes`), so the push after a merged docs pull request
finds its docs folders already listed.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from ..engine.file_pages import blob_id
from ..engine.reconcile import Entry
from .caches import TreeRow, keep

PARALLEL_READS = 8  # tree reads in flight at once
# A repository listing this many entries is read by descent from then on, even while one recursive read still
# answers it whole: the next pages may push it past GitHub's cap (100,000), and each recursive read of it
# moves megabytes where descent into the changed folders moves kilobytes.
LARGE_ENTRIES = 50_000
TREE = "tree"


def tree_id(rows: Iterable[TreeRow]) -> str:
    """The git object id of a tree holding these rows (git's order: a folder sorts as `name/`)."""
    ordered = sorted(rows, key=lambda r: r[0] + "/" if r[2] == TREE else r[0])
    body = b"".join(f"{mode.lstrip('0')} {name}\0".encode() + bytes.fromhex(sha) for name, mode, _, sha, _ in ordered)
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def _row(entry: Mapping[str, Any], name: str) -> TreeRow:
    """One cached row; modes and types interned (a handful of values over millions of rows)."""
    mode, kind = sys.intern(str(entry["mode"])), sys.intern(str(entry["type"]))
    return (name, mode, kind, str(entry["sha"]), int(entry.get("size") or 0))


def _folders(tree: list[dict[str, Any]], root: str, truncated: bool) -> list[tuple[str, tuple[TreeRow, ...]]]:
    """(tree id, rows) of every folder a recursive listing holds in full (pure)."""
    folders: dict[str, list[TreeRow]] = {"": []}
    ids = {"": root}
    for entry in tree:
        parent, _, name = str(entry["path"]).rpartition("/")
        folders.setdefault(parent, []).append(_row(entry, name))
        if entry["type"] == TREE:
            ids[str(entry["path"])] = str(entry["sha"])
            folders.setdefault(str(entry["path"]), [])
    return [
        (ids[folder], tuple(rows))
        for folder, rows in folders.items()
        if folder in ids and (not truncated or tree_id(rows) == ids[folder])
    ]


class _Reader:
    """One listing's reads: the runner's tree cache first, then GitHub, at most PARALLEL_READS at a time."""

    def __init__(self, gh: Any, target: Any) -> None:
        self.gh = gh
        self.target = target
        self.cache = gh.caches.trees
        key = f"{target.owner}/{target.repo}"
        if key not in gh.caches.large:
            gh.caches.large[key] = set()
        self.large: set[str] = gh.caches.large[key]
        self.fresh: dict[str, tuple[TreeRow, ...]] = {}  # read by this listing (the cache may evict them)
        self.gate = asyncio.Semaphore(PARALLEL_READS)

    def rows(self, sha: str) -> tuple[TreeRow, ...] | None:
        found = self.fresh.get(sha)
        return found if found is not None else self.cache.get(sha)

    def keep(self, sha: str, rows: tuple[TreeRow, ...]) -> None:
        self.fresh[sha] = rows
        keep(self.cache, sha, rows)

    async def read(self, sha: str, path: str, recursive: bool) -> str:
        """Read the tree (or commit) `sha` at `path`; keeps every folder it lists in full; returns the tree id."""
        url = "/repos/{owner}/{repo}/git/trees/{sha}" + ("?recursive=1" if recursive else "")
        async with self.gate:
            data = await self.gh.getitem(url, {"owner": self.target.owner, "repo": self.target.repo, "sha": sha})
        root = str(data["sha"])
        if not recursive:
            if data.get("truncated"):
                raise RuntimeError(f"the folder {path or '/'} has more entries than GitHub lists in one read")
            self.keep(root, tuple(_row(e, str(e["path"])) for e in data["tree"]))
            return root
        truncated = bool(data.get("truncated"))
        if truncated:
            self.large.add(path)
        # tens of thousands of entries take long enough to stall the event loop: folded in a thread (pure)
        for sha, rows in await asyncio.to_thread(_folders, data["tree"], root, truncated):
            self.keep(sha, rows)
        return root

    async def walk(self, commit: str) -> tuple[str, dict[str, Entry]]:
        """The root tree id and every blob of a commit, read level by level."""
        root = await self.read(commit, "", recursive="" not in self.large)
        entries: dict[str, Entry] = {}
        level = [(root, "")]
        seen = 0  # folders
        while level:
            missing = [(sha, path) for sha, path in level if self.rows(sha) is None]
            await asyncio.gather(*(self.fill(sha, path) for sha, path in missing))
            below = []
            for sha, path in level:
                for name, mode, kind, child, size in self.rows(sha) or ():
                    full = f"{path}/{name}" if path else name
                    if kind == TREE:
                        below.append((child, full))
                    elif kind == "blob":
                        entries[full] = Entry(mode, child, size)
                seen += 1
            level = below
        if seen + len(entries) >= LARGE_ENTRIES:
            self.large.add("")
        return root, entries

    async def fill(self, sha: str, path: str) -> None:
        """List one folder not cached: recursively while its reads come back whole, else on its own."""
        if path not in self.large:
            await self.read(sha, path, recursive=True)
        if self.rows(sha) is None:
            await self.read(sha, path, recursive=False)


async def listing(gh: Any, target: Any, commit: str) -> tuple[str, dict[str, Entry]]:
    """The root tree id of a commit and path -> Entry of every blob in it, at any repository size."""
    return await _Reader(gh, target).walk(commit)


def page_changes(writes: Mapping[str, str], deletes: Iterable[str], docs_dir: str) -> dict[str, tuple[str, int] | None]:
    """Repository path -> (blob id, size) of each page written, None for each deleted (pure: a thread may run it)."""
    changes: dict[str, tuple[str, int] | None] = {}
    for rel, text in writes.items():
        data = text.encode("utf-8")
        changes[f"{docs_dir}/{rel}"] = (blob_id(data), len(data))
    for rel in deletes:
        changes[f"{docs_dir}/{rel}"] = None
    return changes


def remember_writes(gh: Any, base: str, tree: str, changes: Mapping[str, tuple[str, int] | None]) -> bool:
    """Cache the listings of the trees `POST git/trees` made from `base` with these changes (page_changes),
    when predicting them gives `tree` itself; whether it did (no request either way)."""
    made: dict[str, tuple[TreeRow, ...]] = {}
    if _predict(gh.caches.trees, made, base, changes) != tree:
        return False
    for sha, rows in made.items():
        keep(gh.caches.trees, sha, rows)
    return True


def _predict(
    cache: Mapping[str, tuple[TreeRow, ...]],
    made: dict[str, tuple[TreeRow, ...]],
    base: str,
    changes: Mapping[str, tuple[str, int] | None],
) -> str | None:
    """The id of tree `base` ("" for none) with these blob changes applied ("" when left empty; None: unknown)."""
    old = cache.get(base) if base else ()
    if old is None:
        return None
    rows = {row[0]: row for row in old}
    below: dict[str, dict[str, tuple[str, int] | None]] = {}
    for path, change in changes.items():
        name, slash, rest = path.partition("/")
        if slash:
            below.setdefault(name, {})[rest] = change
        elif change is None:
            rows.pop(name, None)
        else:
            rows[name] = (name, "100644", "blob", change[0], change[1])
    for name, inner in below.items():
        current = rows.get(name)
        child = _predict(cache, made, current[3] if current and current[2] == TREE else "", inner)
        if child is None:
            return None
        if child:
            rows[name] = (name, "040000", TREE, child, 0)
        else:
            rows.pop(name, None)
    if not rows:
        return ""
    ordered = tuple(rows[name] for name in sorted(rows))
    sha = tree_id(ordered)
    made[sha] = ordered
    return sha
