"""The docs folder on disk: reads folder states, writes only the pages repodoc owns.

Rule of this module: every read, write and delete below the docs folder goes through `Tree`, which
reaches a page one path component at a time from an open folder, never following a symbolic link
(`O_NOFOLLOW`), so nothing outside the docs folder is ever read, created, truncated or removed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from .engine import MANIFEST, STATE, FolderState, blob_id, parse_state
from .engine.reconcile import REGULAR, SYMLINK, Entry
from .engine.tree import join, parent
from .report import Report

_ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC  # fails on anything there


class Unsafe(Exception):
    """A path repodoc will not go through: a symlink, a file where a folder should be, or a bad name."""


class DamagedState(ValueError):
    """A folder state that cannot be trusted: unreadable, not a regular file, or not a valid state."""


def _reason(exc: OSError, folder: int, name: str) -> str:
    """Why name in folder could not be opened, in the words of a conflict."""
    try:
        mode = os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode) or exc.errno == errno.ELOOP:
        return "a symlink is in the way"
    if stat.S_ISDIR(mode):
        return "a folder is in the way"
    if exc.errno == errno.ENOTDIR:
        return "a file is in the way of a folder"
    return exc.strerror or type(exc).__name__


def _kind(mode: int) -> str:
    return "a folder is in the way" if stat.S_ISDIR(mode) else "not a regular file"


def _open(folder: int, name: str, flags: int, kind: int) -> int | None:
    """open(2) name in folder, never through a link (None when absent); Unsafe unless it is of that kind."""
    try:
        fd = os.open(name, flags, 0o666, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unsafe(_reason(exc, folder, name)) from None
    mode = os.fstat(fd).st_mode
    if stat.S_IFMT(mode) != kind:
        os.close(fd)
        raise Unsafe(_kind(mode))
    return fd


def _read_all(fd: int) -> bytes:
    """Everything fd holds from where it stands (one read for a file whose size fstat tells)."""
    size = os.fstat(fd).st_size
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, max(size, 1 << 16) + 1)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _parts(rel: str) -> tuple[str, ...]:
    """The components of a relative path, each a plain name (no '', '.', '..' or NUL)."""
    parts = tuple(rel.split("/"))
    if "" in parts or "." in parts or ".." in parts or "\0" in rel:
        raise Unsafe(f"{rel!r} is not a path inside the docs folder")
    return parts


class Tree:
    """The safe I/O primitive: files below one folder, reached without following any link."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._fds: dict[tuple[str, ...], int] = {}

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close every folder opened so far."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def _folder(self, parts: tuple[str, ...], create: bool) -> int | None:
        """An open folder below the root (None when missing and not created); Unsafe on a link or a file."""
        if parts in self._fds:
            return self._fds[parts]
        if not parts:
            fd = self._open_root(create)
        else:
            up = self._folder(parts[:-1], create)
            if up is None:
                return None
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(parts[-1], 0o777, dir_fd=up)
            fd = _open(up, parts[-1], _DIR_FLAGS, stat.S_IFDIR)
        if fd is not None:
            self._fds[parts] = fd
        return fd

    def _open_root(self, create: bool) -> int | None:
        """The root itself, which is the caller's choice (a link to it is followed, none below it)."""
        try:
            if create:
                os.makedirs(self.root, exist_ok=True)
            return os.open(self.root, _ROOT_FLAGS)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise Unsafe(f"{self.root}: {exc.strerror}") from None

    def _trim(self, keep: tuple[str, ...]) -> None:
        """Close the open folders that are not keep or its ancestors (sorted paths reuse them)."""
        for parts in [p for p in self._fds if p != keep[: len(p)]]:
            os.close(self._fds.pop(parts))

    def _entry(self, rel: str, create: bool = False) -> tuple[int, str] | None:
        """The open folder holding rel and rel's last name (None when that folder is missing)."""
        parts = _parts(rel)
        self._trim(parts[:-1])
        up = self._folder(parts[:-1], create)
        return None if up is None else (up, parts[-1])

    def read(self, rel: str) -> bytes | None:
        """The bytes of a regular file (None when absent); Unsafe for a link or anything else."""
        entry = self._entry(rel)
        fd = None if entry is None else _open(*entry, _READ_FLAGS, stat.S_IFREG)
        if fd is None:
            return None
        try:
            return _read_all(fd)
        finally:
            os.close(fd)

    def blob(self, rel: str) -> str | None:
        """The git blob id of a regular file, hashed as it is read (None when absent); Unsafe for a link
        or anything else."""
        entry = self._entry(rel)
        fd = None if entry is None else _open(*entry, _READ_FLAGS, stat.S_IFREG)
        if fd is None:
            return None
        with open(fd, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            return blob_id(iter(lambda: handle.read(1 << 20), b""), size)

    def write(self, rel: str, data: bytes, new: bool = False) -> None:
        """Create or replace a regular file, making its folders; Unsafe for a link or anything else. new:
        nothing stood there when the run began, so the file is first created exclusively, which makes it a
        regular file without a look at what was opened (anything that stands there now is checked)."""
        entry = self._entry(rel, create=True)
        fd = None
        if entry is not None and new:
            with contextlib.suppress(OSError):  # something stands there after all: as for any page
                fd = os.open(entry[1], _NEW_FLAGS, 0o666, dir_fd=entry[0])
        if fd is None and entry is not None:
            fd = _open(*entry, _WRITE_FLAGS, stat.S_IFREG)
        if fd is None:
            raise Unsafe("its folder vanished")
        try:
            view = memoryview(data)
            while view:  # os.write, not a file object around fd: a page is written in one call
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def lstat(self, rel: str) -> os.stat_result | None:
        """What stands at rel itself (a link is not followed); None when nothing does."""
        entry = self._entry(rel)
        if entry is None:
            return None
        try:
            return os.stat(entry[1], dir_fd=entry[0], follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise Unsafe(_reason(exc, *entry)) from None

    def remove(self, rel: str) -> bool:
        """Delete a regular file (never a link or a folder); whether it was deleted."""
        found, entry = self.lstat(rel), self._entry(rel)
        if found is None or entry is None:
            return False
        if not stat.S_ISREG(found.st_mode):
            raise Unsafe("a symlink is in the way" if stat.S_ISLNK(found.st_mode) else _kind(found.st_mode))
        try:
            os.unlink(entry[1], dir_fd=entry[0])
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise Unsafe(_reason(exc, *entry)) from None
        return True

    def prune(self, folder: str) -> None:
        """Remove folder and then its ancestors while they are empty, never the root itself."""
        parts = _parts(folder) if folder else ()
        while parts:
            up = self._folder(parts[:-1], create=False)
            fd = self._fds.pop(parts, None)
            if fd is not None:
                os.close(fd)
            if up is None:
                return
            try:
                os.rmdir(parts[-1], dir_fd=up)
            except OSError:  # not empty, not a folder, or a link: left alone
                return
            parts = parts[:-1]


class DocsDir:
    """The docs folder on disk: reads states, writes only pages it owns."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def state(self, folder: str) -> FolderState | None:
        """The state of a docs folder (None when it has none); DamagedState when it cannot be trusted."""
        with Tree(self.path) as tree:
            try:
                data = tree.read(join(folder, STATE))
            except Unsafe as exc:
                raise DamagedState(f"{join(folder, STATE)}: {exc}") from None
        if data is None:
            return None
        try:
            return parse_state(data)
        except ValueError as exc:
            raise DamagedState(f"{join(folder, STATE)}: {exc}") from None

    def read_state(self, folder: str) -> FolderState | None:
        """The state of a docs folder, None when it is missing or damaged."""
        try:
            return self.state(folder)
        except DamagedState:
            return None

    def scan(self) -> tuple[set[str], set[str]]:
        """In one walk of the docs folder: every file a state in it lists as repodoc's, and every file."""
        owned: set[str] = set()
        present: set[str] = set()
        for folder, _, files in os.walk(self.path):  # never descends into a linked folder
            rel = Path(folder).relative_to(self.path).as_posix()
            rel = "" if rel == "." else rel
            present.update(join(rel, name) for name in files)
            if STATE in files:
                state = self.read_state(rel)
                owned.update(state.owned(rel) if state else (join(rel, MANIFEST), join(rel, STATE)))
        return owned, present

    def files(self) -> list[str]:
        """Docs-relative paths of everything below the docs folder that is not a folder (a link, to a
        folder too, is listed, never followed); [] when the docs folder is missing."""
        found: list[str] = []
        stack = [""]
        while stack:
            rel = stack.pop()
            try:
                entries = list(os.scandir(self.path / rel if rel else self.path))
            except OSError:  # missing, not a folder, or gone
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(join(rel, entry.name))
                else:
                    found.append(join(rel, entry.name))
        return sorted(found)

    def present(self, folders: Iterable[str]) -> set[str]:
        """Docs-relative paths of the files directly in folders (none through a link)."""
        found: set[str] = set()
        for rel in folders:
            try:
                with Tree(self.path) as tree:
                    here = tree.lstat(rel) if rel else os.stat(self.path)
            except (Unsafe, OSError):  # a link on the way: nothing there is listed, let alone written
                continue
            if here is not None and stat.S_ISDIR(here.st_mode):
                with contextlib.suppress(OSError):
                    found.update(
                        join(rel, e.name) for e in os.scandir(self.path / rel) if not e.is_dir(follow_symlinks=False)
                    )
        return found

    def exists(self, rel: str) -> bool:
        """Whether something (a file, a folder or a link) stands at rel."""
        try:
            with Tree(self.path) as tree:
                return tree.lstat(rel) is not None
        except Unsafe:
            return True

    def differs(self, rel: str, text: str) -> bool:
        """Whether rel is not a regular file holding exactly text."""
        try:
            with Tree(self.path) as tree:
                return tree.read(rel) != text.encode("utf-8")
        except (Unsafe, UnicodeEncodeError):
            return True

    def entries(self, folders: Iterable[str]) -> Files:
        """The files directly in folders (none through a link), as the planner reads a docs listing."""
        return Files(self, self.present(folders))

    def entry(self, rel: str) -> Entry:
        """What stands at rel as a git tree entry: a regular file's mode and blob id (read here), a link's
        mode, or a mode that is neither for anything else (a folder, a file gone, a link on the way)."""
        try:
            with Tree(self.path) as tree:
                found = tree.lstat(rel)
                if found is not None and stat.S_ISREG(found.st_mode):
                    return Entry(REGULAR[1] if found.st_mode & 0o111 else REGULAR[0], tree.blob(rel) or "")
        except Unsafe:
            return Entry(OTHER, "")
        return Entry(SYMLINK if found is not None and stat.S_ISLNK(found.st_mode) else OTHER, "")

    def obstacle(self, rel: str, owned: Collection[str]) -> str:
        """Why the planner left a page unwritten, in the words of a conflict."""
        try:
            with Tree(self.path) as tree:
                found = tree.lstat(rel)
        except Unsafe as exc:
            return str(exc)
        if found is not None and not stat.S_ISREG(found.st_mode):
            return "a symlink is in the way" if stat.S_ISLNK(found.st_mode) else _kind(found.st_mode)
        if found is not None and rel not in owned:
            return "a file repodoc did not write is in the way"
        return "not written while its folder's manifest or state is not a regular file"

    def refuse(self, conflicts: Iterable[str], owned: Collection[str], report: Report) -> None:
        """Report the pages a plan does not write, each with what stands in the way."""
        report.conflicts += [f"{rel}: {self.obstacle(rel, owned)}" for rel in sorted(conflicts)]

    def apply(self, writes: Mapping[str, str], deletes: Iterable[str], report: Report, compared: bool = False) -> None:
        """Write pages (those whose bytes differ; compared: the planner knows they all do, so none is read
        again) and delete files; which pages are repodoc's is the engine's to decide (`reconcile.refused`),
        and nothing is written or deleted through a link."""
        with Tree(self.path) as tree:
            for rel in sorted(writes):
                write_page(tree, rel, writes[rel], report, compared)
            for rel in sorted(set(deletes) - set(writes)):
                try:
                    if tree.remove(rel):
                        report.deleted += 1
                        tree.prune(parent(rel))
                except Unsafe as exc:
                    report.conflicts.append(f"{rel}: {exc} (not deleted)")


OTHER = "0"  # the mode of an entry that is neither a regular file nor a link


class Files(Mapping[str, Entry]):
    """Some files of the docs folder as a listing: docs-relative path -> entry, each file read (to hash it)
    only when the planner asks for its entry, so a plan reads the pages it compares and no others."""

    def __init__(self, docs: DocsDir, paths: set[str]) -> None:
        self._docs = docs
        self._paths = paths
        self._entries: dict[str, Entry] = {}

    def __getitem__(self, rel: str) -> Entry:
        if rel not in self._paths:
            raise KeyError(rel)
        if rel not in self._entries:
            self._entries[rel] = self._docs.entry(rel)
        return self._entries[rel]

    def __contains__(self, rel: object) -> bool:
        return rel in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    @property
    def read(self) -> int:
        """How many entries were read so far."""
        return len(self._entries)


def write_page(tree: Tree, rel: str, text: str, report: Report, compared: bool, absent: bool = False) -> None:
    """Write one page unless it is unchanged or unsafe; compared: the caller knows that its bytes differ
    from the file's, so that it is not read first; absent: nothing stood there when the run began."""
    try:
        data = text.encode("utf-8")
        if not (compared or absent) and tree.read(rel) == data:
            report.unchanged += 1
            return
        tree.write(rel, data, new=absent)
    except Unsafe as exc:
        report.conflicts.append(f"{rel}: {exc}")
        return
    except (UnicodeEncodeError, OSError) as exc:
        report.failures.append(f"{rel}: cannot be written: {exc}")
        return
    report.written += 1


@dataclass
class Sink:
    """Where a worker puts the file pages it renders (full runs): written, or compared for --check,
    in the worker itself so that page I/O overlaps the other workers' parsing; refused: the pages the
    engine's ownership rule (`reconcile.refused`) keeps from being written, owned: repodoc's own, and
    present: those a file stood at when the run began (None: unknown), the only ones read to be compared."""

    out: Path
    refused: set[str]
    owned: set[str]
    check: bool
    present: set[str] | None = None
    report: Report = field(default_factory=Report)
    _tree: Tree | None = field(default=None, repr=False, compare=False)

    def take(self, pages: dict[str, str]) -> None:
        docs = DocsDir(self.out)
        if self.check:
            self.report.stale += [rel for rel, text in pages.items() if docs.differs(rel, text)]
        else:
            docs.refuse(self.refused & set(pages), self.owned, self.report)
            if self._tree is None:  # one for all the pages it takes (as `DocsDir.apply` writes them), so
                self._tree = Tree(self.out)  # that a page's folders are not opened again for each page
            for rel in sorted(pages):
                if rel not in self.refused:
                    absent = self.present is not None and rel not in self.present
                    write_page(self._tree, rel, pages[rel], self.report, compared=False, absent=absent)

    def close(self) -> None:
        """Close the folders the pages were written through (taken again, it opens them again)."""
        if self._tree is not None:
            self._tree.close()
            self._tree = None
