"""The working tree's listing of a few folders, for `repodoc generate --since`, at a cost that does not grow
with the repository.

A full run lists every tracked file; an update needs only what the folders it touches must be made from
(`reconcile.Expected`: their candidate files' blob ids, and their subfolders that hold a candidate). The
git index (`git ls-files -s -z`) is sorted by path, so the rows below a folder form one run, found by
bisection: the files directly in a folder are read one by one, and each subfolder only until its first
candidate. No row outside those is parsed.

The blob ids are the working tree's, as a full run renders what is on disk: a path the working tree holds
differently from its index entry is one that `git diff REV` (the revision against the working tree) or
`git diff --cached REV` (the revision against the index) reports; the first gives what stands on disk
(its blob id, or zeros when git has not hashed it: then it is hashed here), the second, for a path the
working tree holds as the revision does, the revision's. An intent-to-add entry (`git add -N`) is seen by
neither when its file is gone from both the revision and the disk: rows holding the empty blob are looked
for on disk. A path that is no longer a regular file reached without a link is left out, as a full run
passes it over.
"""

from __future__ import annotations

import stat
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from pathlib import Path

from .docsdir import Tree, Unsafe
from .engine import Config
from .engine.names import unlisted, within
from .engine.reconcile import REGULAR, Entry, Expected

# the empty blob's id (SHA-1, SHA-256), which an intent-to-add entry (`git add -N`) holds
_EMPTY_BLOBS = frozenset(
    ("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813")
)


def index_entry(row: bytes) -> tuple[str, Entry]:
    """The path, mode and blob id of a `git ls-files -s -z` row."""
    meta, _, raw = row.partition(b"\t")
    mode, sha = meta.decode().split(" ")[:2]
    return raw.decode("utf-8", "surrogateescape"), Entry(mode, sha)


def _path(row: bytes) -> bytes:
    """The path of an index row (`<mode> <blob id> <stage>\\t<path>`)."""
    return row[row.index(b"\t") + 1 :]


class WorkingListing:
    """The candidates of a full run below some folders, read from the index and the working tree."""

    def __init__(
        self, root: Path, index_rows: bytes, on_disk: Mapping[str, Entry], config: Config, out_rel: str | None
    ) -> None:
        """index_rows: `git ls-files -s -z`'s output; on_disk: path -> what the working tree holds, for the
        paths whose working tree differs from the index (mode 000000 when gone, blob id zeros when not
        hashed); out_rel: the docs folder inside the repository (never a candidate), or None."""
        self._root = root
        self._rows = index_rows.split(b"\0")
        if self._rows and not self._rows[-1]:
            self._rows.pop()
        self._on_disk = on_disk
        self._config = config
        self._out_rel = out_rel

    def expected(self, folders: Iterable[str]) -> dict[str, Expected]:
        """What `reconcile.expected_of` says of folders given the whole working listing: the folders a full
        run makes (the root always), each with its candidate files' blob ids and its subfolders that hold one."""
        found: dict[str, Expected] = {}
        with Tree(self._root) as tree:
            for folder in folders:
                exp = self._folder(tree, folder)
                if exp.files or exp.dirs or not folder:
                    found[folder] = exp
        return found

    def _first(self, prefix: bytes, lo: int) -> int:
        """The first row at or after lo whose path is not below prefix in sort order."""
        return bisect_left(self._rows, prefix, lo, key=_path)

    def _folder(self, tree: Tree, folder: str) -> Expected:
        prefix = (folder + "/").encode("utf-8", "surrogateescape") if folder else b""
        at = self._first(prefix, 0)
        end = self._first(prefix[:-1] + b"0", at) if prefix else len(self._rows)  # "/" sorts just before "0"
        exp = Expected()
        while at < end:
            rest = _path(self._rows[at])[len(prefix) :]
            slash = rest.find(b"/")
            if slash < 0:  # a file directly in the folder
                at = self._last_stage(at, end)
                entry = self._candidate(tree, at)
                if entry is not None:
                    exp.files[rest.decode("utf-8", "surrogateescape")] = entry.sha
                at += 1
                continue
            sub = prefix + rest[:slash]
            sub_end = self._first(sub + b"0", at)
            if self._passed_over(sub.decode("utf-8", "surrogateescape")):
                at = sub_end
            while at < sub_end:  # until its first candidate
                at = self._last_stage(at, sub_end)
                if self._candidate(tree, at) is not None:
                    exp.dirs.add(rest[:slash].decode("utf-8", "surrogateescape"))
                    break
                at += 1
            at = sub_end
        return exp

    def _passed_over(self, folder: str) -> bool:
        """Whether nothing below folder can be a candidate (the docs folder, `**/vendor/**`), so that the
        rows below it are not looked at (a folder of excluded files is not read to its end for nothing)."""
        return within(folder, self._out_rel) or self._config.excludes_folder(folder)

    def _last_stage(self, at: int, end: int) -> int:
        """The last row of a path (a conflicted path has one per stage; a full run lists the last)."""
        path = _path(self._rows[at])
        while at + 1 < end and _path(self._rows[at + 1]) == path:
            at += 1
        return at

    def _candidate(self, tree: Tree, at: int) -> Entry | None:
        """The working tree's entry of the row's path when a full run documents it, else None."""
        path, indexed = index_entry(self._rows[at])
        if within(path, self._out_rel) or indexed.mode not in REGULAR:
            return None
        if not self._config.is_candidate(path) or unlisted(path):
            return None
        now = self._on_disk.get(path)
        if now is None:
            if indexed.sha not in _EMPTY_BLOBS:
                return indexed
            now = indexed  # perhaps `git add -N`, which `git diff --cached` does not see: is it on disk?
        if now.mode not in REGULAR:  # gone, or a link now
            return None
        try:
            found = tree.lstat(path)
            if found is None or not stat.S_ISREG(found.st_mode):
                return None
            sha_now = now.sha if set(now.sha) != {"0"} else tree.blob(path)
        except Unsafe:
            return None
        return Entry(indexed.mode, sha_now) if sha_now else None
