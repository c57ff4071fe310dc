"""The docs folder on disk: reads folder states, writes only the pages repodoc owns."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .engine import MANIFEST, STATE, FolderState, parse_state
from .engine.tree import join
from .report import Report


class DocsDir:
    """The docs folder on disk: reads states, writes only pages it owns."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_state(self, folder: str) -> FolderState | None:
        target = self.path / join(folder, STATE)
        if not target.is_file():
            return None
        try:
            return parse_state(target.read_bytes())
        except ValueError:
            return None

    def owned(self) -> set[str]:
        """Every file that a state in the docs folder lists as repodoc's."""
        owned: set[str] = set()
        if not self.path.is_dir():
            return owned
        for folder, _, files in os.walk(self.path):
            if STATE in files:
                rel = Path(folder).relative_to(self.path).as_posix()
                rel = "" if rel == "." else rel
                state = self.read_state(rel)
                owned.update(state.owned(rel) if state else (join(rel, MANIFEST), join(rel, STATE)))
        return owned

    def present(self, folders: Iterable[str] | None = None) -> set[str]:
        """Docs-relative paths of every file in the docs folder, or of those directly in folders."""
        found: set[str] = set()
        if folders is None:
            for folder, _, files in os.walk(self.path):
                rel = Path(folder).relative_to(self.path).as_posix()
                found.update(join("" if rel == "." else rel, name) for name in files)
            return found
        for rel in folders:
            with contextlib.suppress(OSError):
                found.update(
                    join(rel, e.name) for e in os.scandir(self.path / rel) if not e.is_dir(follow_symlinks=False)
                )
        return found

    def differs(self, rel: str, text: str) -> bool:
        target = self.path / rel
        try:
            return target.read_bytes() != text.encode("utf-8")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return True

    def apply(self, writes: dict[str, str], deletes: set[str], owned: set[str], report: Report) -> None:
        """Write changed pages and delete owned ones; never touch a file repodoc did not write."""
        made: set[Path] = set()
        for rel in sorted(writes):
            target = self.path / rel
            data = writes[rel].encode("utf-8")
            try:
                current: bytes | None = target.read_bytes()
            except FileNotFoundError:
                current = None
            except OSError:  # a folder or something unreadable stands there
                current = b""
            if current == data:
                report.unchanged += 1
                continue
            if (current is not None or target.is_symlink()) and rel not in owned:
                report.conflicts.append(f"{rel}: a file repodoc did not write is in the way")
                continue
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            target.write_bytes(data)
            report.written += 1
        for rel in sorted(deletes - set(writes)):
            target = self.path / rel
            if rel in owned and target.is_file():
                target.unlink()
                report.deleted += 1
                _prune_empty(target.parent, self.path)


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


@dataclass
class Sink:
    """Where a worker puts the file pages it renders (full runs): written, or compared for --check,
    in the worker itself so that page I/O overlaps the other workers' parsing."""

    out: Path
    owned: set[str]
    check: bool
    report: Report = field(default_factory=Report)

    def take(self, pages: dict[str, str]) -> None:
        docs = DocsDir(self.out)
        if self.check:
            self.report.stale += [rel for rel, text in pages.items() if docs.differs(rel, text)]
        else:
            docs.apply(pages, set(), self.owned, self.report)
