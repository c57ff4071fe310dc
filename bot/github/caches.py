"""What the runner keeps between jobs: git objects by sha (immutable), bounded by bytes, and the
ETags of small repeatable reads. One `Caches` per runner, never a module-level global."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cachetools

BLOB_BYTES = 64 * 1024 * 1024
ETAG_ENTRIES = 256


@dataclass
class Caches:
    """The runner's caches, handed to every job it runs."""

    blobs: cachetools.LRUCache[str, bytes] = field(
        default_factory=lambda: cachetools.LRUCache(maxsize=BLOB_BYTES, getsizeof=len)
    )
    etags: cachetools.LRUCache[Any, Any] = field(default_factory=lambda: cachetools.LRUCache(maxsize=ETAG_ENTRIES))
