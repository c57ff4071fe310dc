"""The cyclic garbage collector, paused while a batch of files is rendered.

Parsing allocates millions of small objects (a syntax tree per file) that hold no reference cycles and are
freed by reference counting when the file is done; yet every 700 allocations the collector scans the young
objects, and every few of those passes the older ones: about a fifth of `ast.parse`'s time, for nothing.
Paused for one batch (a few dozen files) and resumed after it, the collector still frees whatever cycles the
batch left, at its next pass.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Pause automatic collection for the block (nested blocks leave it paused until the outermost ends)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
