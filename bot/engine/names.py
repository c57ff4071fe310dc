"""Which source paths can have pages (pure).

Rules of this module: a source folder's docs folder holds the folder's own pages and state files
and, per child file X, `X_docs.md` and `X_kw.md`; a source folder whose name is one of those (or
ends like a page) would stand where a page must go, so nothing under it is documented. A file whose
page name would pass the file system's 255-byte limit gets no pages, and a path that is not valid
UTF-8 (git allows any bytes) cannot be named on a page or in a state. Each reason is the same words
locally and in the App.
"""

from __future__ import annotations

from collections.abc import Callable

PAGE_SUFFIXES = ("_docs.md", "_kw.md")
RESERVED = ("index.md", "doc.md", ".repodoc-manifest.json", ".repodoc-state.json")
NAME_MAX = 255  # bytes in one path component (ext4, APFS, NTFS in UTF-16 units)
COLLIDES = "name collides with a repodoc page"
TOO_LONG = "name too long"
NOT_UTF8 = "name is not valid UTF-8"


def collides(path: str) -> bool:
    """Whether a folder on the path has a name that repodoc's own files use in a docs folder."""
    return any(folder in RESERVED or folder.endswith(PAGE_SUFFIXES) for folder in path.split("/")[:-1])


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
    if max(len((name + s).encode("utf-8", "surrogateescape")) for s in PAGE_SUFFIXES) > NAME_MAX:
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
