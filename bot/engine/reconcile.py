"""Reconcile a docs tree with a source tree from their git listings alone (pure): the one incremental
planner, used by the App (`bot/github/plan.py`) and by `repodoc generate --since` (`bot/local.py`).

Rules of this module: the only inputs are git tree listings (path -> mode, blob id), the docs folder's
files (docs-relative path -> mode, blob id), the states of the folders found stale, and the results of
rendering the files that changed. A folder is stale when the blob id of the manifest it should have
differs from the one the docs tree holds; that needs no docs file read, which is what keeps a one-file
push to a handful of API calls and a one-file `--since` flat in the size of the repository. Which pages
repodoc may write or delete (ownership) is decided here, and only here: the callers apply the plan.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .config import Config
from .file_pages import FileResult, blob_id, page_names
from .names import unlisted
from .tree import MANIFEST, STATE, FolderState, Update, folder_outputs, folders_of, join, manifest_text, parent

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


def expected_of(listing: Mapping[str, Entry], config: Config, folders: Iterable[str]) -> dict[str, Expected]:
    """What `expected_folders` says of some folders alone (those a full run makes), asking whether a path is
    a candidate only when the answer can change one of them: a one-file `--since` pays a string test per
    path of the listing, not a glob match."""

    def candidate(path: str, entry: Entry) -> bool:
        return entry.mode in REGULAR and config.is_candidate(path) and not unlisted(path)

    found: dict[str, Expected] = {}
    for folder in folders:
        prefix = folder + "/" if folder else ""
        exp = Expected()
        for path, entry in listing.items():
            if not path.startswith(prefix):
                continue
            name, slash, _ = path[len(prefix) :].partition("/")
            if slash and name not in exp.dirs and candidate(path, entry):
                exp.dirs.add(name)
            elif not slash and candidate(path, entry):
                exp.files[name] = entry.sha
        if exp.files or exp.dirs or not folder:
            found[folder] = exp
    return found


def docs_listing(listing: Mapping[str, Entry], docs_dir: str) -> dict[str, Entry]:
    """Docs-relative path -> entry (mode, blob id) of every file under the docs folder."""
    prefix = docs_dir + "/"
    return {p[len(prefix) :]: e for p, e in listing.items() if p.startswith(prefix)}


def manifest_blob(expected: Expected, config: Config) -> str:
    """The git blob id of the manifest a folder should have."""
    return blob_id(manifest_text(expected.files, expected.dirs, config).encode("utf-8"))


def stale_folders(expected: Mapping[str, Expected], docs: Mapping[str, Entry], config: Config) -> list[str]:
    """Folders whose docs are not what a full run would write, and docs folders to remove."""
    stale = {f for f, exp in expected.items() if _sha(docs.get(join(f, MANIFEST))) != manifest_blob(exp, config)}
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


def _sha(entry: Entry | None) -> str | None:
    """The blob id of a regular file's entry (None for anything else: a link never holds a page)."""
    return entry.sha if entry is not None and entry.mode in REGULAR else None


@dataclass(frozen=True)
class Survey:
    """What a listing says before anything is read: the docs folder's files (for the App every one; for
    `--since` those of the folders its changes touch), the docs folders a full run would make, and those
    not in step, whose states the plan needs."""

    docs: Mapping[str, Entry]  # docs-relative path -> mode and blob id
    expected: Mapping[str, Expected]
    stale: Sequence[str]


def survey(listing: Mapping[str, Entry], config: Config) -> Survey:
    """The survey of a commit's listing (its docs folder included) under its config."""
    docs = docs_listing(listing, config.docs_dir)
    expected = expected_folders(listing, config)
    return Survey(docs, expected, stale_folders(expected, docs, config))


def renders(found: Survey, states: Mapping[str, FolderState | None]) -> dict[str, str]:
    """Path -> blob id of the files the plan needs rendered, given the stale folders' states."""
    return to_render(found.expected, found.stale, states)


@dataclass(frozen=True)
class DocsPlan:
    """What to do to the docs folder: pages to write (their text differs from the file there), files
    repodoc owns to delete, pages not written because something repodoc does not own is in the way, and
    pages that already hold their text."""

    writes: Mapping[str, str]  # docs-relative path -> page text
    deletes: tuple[str, ...]
    conflicts: tuple[str, ...]
    unchanged: tuple[str, ...]
    owned: frozenset[str]  # files the stale folders' states (or their own names) make repodoc's


def plan_docs(
    found: Survey, states: Mapping[str, FolderState | None], rendered: Mapping[str, FileResult], config: Config
) -> DocsPlan:
    """The one incremental planner: from a survey (the listing's expected folders, the stale ones, the
    docs folder's files), the stale folders' states and the files rendered for them (what `renders` asked
    for), the writes, deletes and conflicts that bring the docs folder to what a full run writes.
    Ownership is decided here: a page is written only where nothing stands or repodoc's own file does, and
    only repodoc's own files are deleted."""
    docs = found.docs
    # a stale folder's manifest and state carry repodoc's own names: its own, even when damaged (the folder is
    # rebuilt), unless a link stands there; then neither is written, so the folder stays stale and the
    # conflict is said on every run
    own, blocked = _own_files(docs, found.stale)
    owned = own | frozenset(rel for folder, state in states.items() if state for rel in state.owned(folder))
    occupied = {rel for rel in docs if rel not in owned}
    change = reconcile(found.expected, found.stale, states, rendered, config, occupied)
    conflicts = refused(change.writes, docs, owned) | (blocked & set(change.writes))
    writes: dict[str, str] = {}
    unchanged: list[str] = []
    for rel, text in sorted(change.writes.items()):
        if rel in conflicts:
            continue
        if _sha(docs.get(rel)) == blob_id(text.encode("utf-8")):
            unchanged.append(rel)  # a page already holding its text is not written
        else:
            writes[rel] = text
    deletes = tuple(sorted(rel for rel in change.deletes if rel in docs and rel in owned))
    return DocsPlan(writes, deletes, tuple(sorted(conflicts)), tuple(unchanged), owned)


def refused(writes: Iterable[str], docs: Collection[str], owned: Collection[str]) -> set[str]:
    """The pages of writes that would replace something repodoc does not own: a file no state lists as
    repodoc's, a folder (a page would drop the files in it), or a file where one of the page's folders
    must be. Such a page is a conflict, never written, locally and in the App."""
    if not docs:  # an empty docs folder (a first run) has nothing in the way
        return set()
    folders = docs_folders(docs)
    return {rel for rel in writes if (rel in docs and rel not in owned) or in_the_way(rel, docs, folders)}


def _own_files(docs: Mapping[str, Entry], stale: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The manifests and states of stale folders that are regular files or absent (repodoc's own), and
    those of folders where a link (or anything but a file) stands at either name (both blocked)."""
    own: set[str] = set()
    blocked: set[str] = set()
    for folder in stale:
        names = [join(folder, MANIFEST), join(folder, STATE)]
        entries = [docs.get(rel) for rel in names]
        if all(entry is None or entry.mode in REGULAR for entry in entries):
            own.update(names)
        else:
            blocked.update(names)
    return frozenset(own), frozenset(blocked)


def in_the_way(rel: str, docs: Collection[str], folders: frozenset[str]) -> bool:
    """Whether writing a page at rel would replace what the docs folder holds (`docs`, its `folders`)
    with something else: a folder at rel or a file where one of rel's folders must be."""
    return rel in folders or any(folder in docs for folder in _ancestors(rel))


def docs_folders(docs: Iterable[str]) -> frozenset[str]:
    """Every folder holding one of the docs folder's files, at any depth (docs-relative)."""
    return frozenset(folder for p in docs for folder in _ancestors(p))


def _ancestors(rel: str) -> list[str]:
    """The folders on rel's way, outermost first (`a/b/c` -> `a`, `a/b`)."""
    found = []
    at = rel.find("/")
    while at >= 0:
        found.append(rel[:at])
        at = rel.find("/", at + 1)
    return found
