"""Reconcile a docs tree with a source tree from their git listings alone (pure).

Rules of this module: the only inputs are git tree listings (path -> mode, blob id), the states
of the folders found stale, and the results of rendering the files that changed. A folder is
stale when the blob id of the manifest it should have differs from the one the docs tree holds;
that needs no docs file read, which is what keeps a one-file push to a handful of API calls.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from .config import Config
from .file_pages import FileResult, blob_id, page_names
from .names import unlisted
from .tree import MANIFEST, FolderState, Update, folder_outputs, folders_of, join, manifest_text, parent

REGULAR = ("100644", "100755")  # git modes of regular files
SYMLINK = "120000"  # a link: its blob is the path it points to
SUBMODULE = "160000"


@dataclass(frozen=True)
class Entry:
    """One blob of a git tree listing."""

    mode: str
    sha: str
    size: int = 0


@dataclass
class Expected:
    """What one docs folder must be made from: child file -> blob id, and subfolders."""

    files: dict[str, str] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)


def expected_folders(listing: Mapping[str, Entry], config: Config) -> dict[str, Expected]:
    """Every docs folder a full run would make, from the source tree listing."""
    candidates = {p: e for p, e in listing.items() if e.mode in REGULAR and config.is_candidate(p) and not unlisted(p)}
    folders = {folder: Expected(dirs=dirs) for folder, dirs in folders_of(candidates).items()}
    for path, entry in candidates.items():
        folders[parent(path)].files[posixpath.basename(path)] = entry.sha
    return folders


def docs_listing(listing: Mapping[str, Entry], docs_dir: str) -> dict[str, str]:
    """Docs-relative path -> blob id of every file under the docs folder."""
    prefix = docs_dir + "/"
    return {p[len(prefix) :]: e.sha for p, e in listing.items() if p.startswith(prefix)}


def manifest_blob(expected: Expected, config: Config) -> str:
    """The git blob id of the manifest a folder should have."""
    return blob_id(manifest_text(expected.files, expected.dirs, config).encode("utf-8"))


def stale_folders(expected: Mapping[str, Expected], docs: Mapping[str, str], config: Config) -> list[str]:
    """Folders whose docs are not what a full run would write, and docs folders to remove."""
    stale = {f for f, exp in expected.items() if docs.get(join(f, MANIFEST)) != manifest_blob(exp, config)}
    gone = {parent(p) if "/" in p else "" for p in docs if posixpath.basename(p) == MANIFEST}
    return sorted(stale | (gone - set(expected)))


def to_render(
    expected: Mapping[str, Expected], stale: Iterable[str], states: Mapping[str, FolderState | None]
) -> dict[str, str]:
    """Path -> blob id of every file in a stale folder whose summary is missing or out of date."""
    wanted = {}
    for folder in stale:
        if folder not in expected:
            continue
        state = states.get(folder)
        for name, sha in expected[folder].files.items():
            old = state.files.get(name) if state else None
            if old is None or old.blob != sha:
                wanted[join(folder, name)] = sha
    return wanted


def reconcile(
    expected: Mapping[str, Expected],
    stale: Iterable[str],
    states: Mapping[str, FolderState | None],
    rendered: Mapping[str, FileResult],
    config: Config,
    occupied: Collection[str] = frozenset(),
) -> Update:
    """The writes and deletes that bring every stale folder to what a full run writes;
    occupied: docs paths holding a file that no state lists as repodoc's (recorded as foreign)."""
    result = Update()
    for folder in stale:
        old = states.get(folder) or FolderState()
        if folder not in expected:
            result.deletes.update(old.owned(folder))
            continue
        exp = expected[folder]
        new = FolderState(dirs=set(exp.dirs))
        for name in exp.files:
            path = join(folder, name)
            if path in rendered:
                new.files[name] = rendered[path].summary
                result.writes.update(rendered[path].pages)
            else:
                new.files[name] = old.files[name]
        for name, summary in old.files.items():
            now = new.files.get(name)
            if summary.documented and (now is None or not now.documented):
                result.deletes.update(join(folder, p) for p in page_names(name) if p not in old.foreign)
        result.writes.update(folder_outputs(folder, new, config, occupied))
    result.deletes -= set(result.writes)
    return result
