"""Which source paths can have pages (pure).

Rules of this module: a source folder's docs folder holds the folder's own pages and state files
and, per child file X, `X_docs.md` and `X_kw.md`; a source folder whose name is one of those (or
ends like a page) would stand where a page must go, so nothing under it is documented. A file whose
page name would pass the file system's 255-byte limit gets no pages, and a path that is not valid
UTF-8 (git allows any bytes) cannot be named on a page or in a state. Each reason is the same words
locally and in the App.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

PAGE_SUFFIXES = ("_docs.md", "_kw.md")
RESERVED = ("index.md", "doc.md", ".repodoc-manifest.json", ".repodoc-state.json")
NAME_MAX = 255  # bytes in one path component (ext4, APFS, NTFS in UTF-16 units)
COLLIDES = "name collides with a repodoc page"
TOO_LONG = "name too long"
NOT_UTF8 = "name is not valid UTF-8"


_IN_THE_WAY = tuple(f"/{name}/" for name in RESERVED)  # a reserved name as a folder on a path
_ENDS_IN_THE_WAY = tuple(f"{suffix}/" for suffix in PAGE_SUFFIXES)  # a folder named like a page


def collides(path: str) -> bool:
    """Whether a folder on the path has a name that repodoc's own files use in a docs folder (substring
    tests: every file's name is asked, locally and in the App)."""
    if any(end in path for end in _ENDS_IN_THE_WAY):
        return True
    slashed = "/" + path
    return any(folder in slashed for folder in _IN_THE_WAY)


def within(path: str, folder: str | None) -> bool:
    """Whether path is folder or lies below it (no folder, None or '', holds nothing)."""
    return bool(folder) and (path == folder or path.startswith(f"{folder}/"))


def unlisted(path: str) -> str:
    """Why a path is left out of the docs tree altogether, or '' (it may have pages)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return NOT_UTF8
    return COLLIDES if collides(path) else ""


def name_reason(path: str) -> str:
    """Why a file cannot have pages because of its name alone, or ''."""
    if collides(path):
        return COLLIDES
    name = path.rsplit("/", 1)[-1]
    longest = max(len(s) for s in PAGE_SUFFIXES)  # ASCII: one byte a character
    if len(name) * 4 + longest > NAME_MAX and len(name.encode("utf-8", "surrogateescape")) + longest > NAME_MAX:
        return TOO_LONG
    return ""


def docs_folder_problem(docs_dir: str, standing: Callable[[str], str]) -> str:
    """Why the docs folder cannot be written, or '': it, or a folder above it, is a link or a file.
    standing(rel) says what stands at a repository path: "link", "file", or "" (a folder, or nothing);
    the same words locally (the disk) and in the App (the commit's listing)."""
    parts = docs_dir.split("/")
    for depth in range(1, len(parts) + 1):
        rel = "/".join(parts[:depth])
        what = standing(rel)
        if what == "link":
            return f"docs folder {docs_dir}: {rel} is a symlink; repodoc does not write through links"
        if what == "file":
            return f"docs folder {docs_dir}: {rel} is not a folder"
    return ""


STATE_NAME = ".repodoc-state.json"
SHOWN_FOREIGN = 5  # hand-written files named in the message
REFERENCE = "docs/reference"  # the docs folder proposed beside a project's own docs


def hand_written(docs_files: Collection[str], docs_dir_given: bool) -> tuple[str, ...]:
    """The files of a project's own docs folder that repodoc must not mix pages into: when the docs
    folder comes from the default (no `docs_dir` in the config), holds files, and has no repodoc state
    at its root, every file in it (docs-relative, sorted); else (). Asked of the disk locally and of
    the listing in the App."""
    if docs_dir_given or not docs_files or STATE_NAME in docs_files:
        return ()
    return tuple(sorted(docs_files))


def hand_written_problem(docs_dir: str, found: tuple[str, ...]) -> str:
    """What `repodoc generate` (exit 2) and the App say about a docs folder that holds a project's own docs."""
    shown = ", ".join(f"{docs_dir}/{rel}" for rel in found[:SHOWN_FOREIGN])
    more = f" and {len(found) - SHOWN_FOREIGN} more" if len(found) > SHOWN_FOREIGN else ""
    return (
        f"{docs_dir}/ holds files repodoc did not write ({shown}{more}); repodoc does not mix generated pages "
        f"into a project's own docs. Set `docs_dir: {REFERENCE}` (or another free folder) in "
        ".github/repodoc.yml, or pass --out DIR"
    )


def free_docs_dir(paths: Collection[str]) -> str:
    """A docs folder for a project with its own docs/: `docs/reference`, else `docs/reference-2`, … the first
    that holds no file and is not a file (paths: every path of the repository)."""
    folders = {p[:at] for p in paths for at in range(len(p)) if p[at] == "/"}
    candidate, n = REFERENCE, 1
    while candidate in folders or candidate in paths:
        n += 1
        candidate = f"{REFERENCE}-{n}"
    return candidate
