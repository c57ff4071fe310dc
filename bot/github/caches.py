"""What the runner keeps between jobs: git objects by sha (immutable), bounded by bytes, and the
ETags of small repeatable reads. One `Caches` per runner, never a module-level global."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cachetools

BLOB_BYTES = 64 * 1024 * 1024
TREE_BYTES = 64 * 1024 * 1024
ETAG_ENTRIES = 256
LARGE_REPOS = 1024
TreeRow = tuple[str, str, str, str, int]  # name, mode, type ("blob", "tree", "commit"), sha, size


def tree_bytes(rows: tuple[TreeRow, ...]) -> int:
    """About what one cached tree listing holds in memory (tuples and strings included)."""
    return 100 + sum(260 + len(row[0]) for row in rows)


@dataclass
class Caches:
    """The runner's caches, handed to every job it runs."""

    blobs: cachetools.LRUCache[str, bytes] = field(
        default_factory=lambda: cachetools.LRUCache(maxsize=BLOB_BYTES, getsizeof=len)
    )
    trees: cachetools.LRUCache[str, tuple[TreeRow, ...]] = field(
        default_factory=lambda: cachetools.LRUCache(maxsize=TREE_BYTES, getsizeof=tree_bytes)
    )
    # "owner/repo" -> folders whose recursive tree read came back truncated (read them non-recursively)
    large: cachetools.LRUCache[str, set[str]] = field(default_factory=lambda: cachetools.LRUCache(maxsize=LARGE_REPOS))
    etags: cachetools.LRUCache[Any, Any] = field(default_factory=lambda: cachetools.LRUCache(maxsize=ETAG_ENTRIES))
