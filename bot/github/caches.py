"""What the runner keeps between jobs: git objects by sha (immutable), bounded by bytes, and the
ETags of small repeatable reads. One `Caches` per runner, never a module-level global."""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import cachetools

BLOB_BYTES = 64 * 1024 * 1024
TREE_BYTES = 64 * 1024 * 1024
ETAG_ENTRIES = 256
# the docs pull request lookup, a ref, the repository: small answers whose URLs come back on every push
SMALL_READS = (
    re.compile(r"/repos/[^/]+/[^/]+/pulls$"),
    re.compile(r"/repos/[^/]+/[^/]+/git/ref/.+$"),
    re.compile(r"/repos/[^/]+/[^/]+$"),
)


class EtagCache(MutableMapping[str, Any]):
    """gidgethub's ETag cache (URL → etag, last-modified, parsed body, next page), keeping only the URLs of
    small repeatable reads: a tree or blob URL names a sha, never repeats, and its body can be megabytes."""

    def __init__(self, maxsize: int = ETAG_ENTRIES, keep: tuple[re.Pattern[str], ...] = SMALL_READS) -> None:
        self._entries: cachetools.LRUCache[str, Any] = cachetools.LRUCache(maxsize=maxsize)
        self._keep = keep

    def keeps(self, url: str) -> bool:
        """Whether answers to this URL are kept."""
        path = urlsplit(url).path
        return any(pattern.search(path) for pattern in self._keep)

    def __getitem__(self, url: str) -> Any:
        if not self.keeps(url):
            raise KeyError(url)
        return self._entries[url]

    def __setitem__(self, url: str, value: Any) -> None:
        if self.keeps(url):
            self._entries[url] = value

    def __delitem__(self, url: str) -> None:
        del self._entries[url]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


LARGE_REPOS = 1024
TreeRow = tuple[str, str, str, str, int]  # name, mode, type ("blob", "tree", "commit"), sha, size


def tree_bytes(rows: tuple[TreeRow, ...]) -> int:
    """About what one cached tree listing holds in memory (tuples and strings included)."""
    return 100 + sum(260 + len(row[0]) for row in rows)


def keep(cache: cachetools.Cache[Any, Any], key: Any, value: Any) -> None:
    """Cache a value when it fits: cachetools refuses (ValueError) one larger than the whole cache, which
    is then simply not kept (a 70 MB file under max_file_bytes, a 64 MiB blob cache)."""
    if cache.getsizeof(value) <= cache.maxsize:
        cache[key] = value


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
    etags: EtagCache = field(default_factory=EtagCache)
