"""The whole docs tree: folder manifests and states, and a full build (pure); the incremental update is
`reconcile.plan_docs`, one planner for the App and `repodoc generate --since`.

Rules of this module: state lives in the docs tree, one pair of files per folder —
`.repodoc-manifest.json` (a function of the source tree listing alone: child names, blob ids,
subfolders, generator version and config fingerprint; the bot predicts it from a git tree read)
and `.repodoc-state.json` (the children's summaries, which the folder pages are made from).
A page is owned, so written or deleted, only when a state lists it and does not name it foreign:
a file that stood at a page's path when the folder was made (`occupied`, docs-relative paths of files
present and owned by no state) is recorded in the folder's state as foreign, so ownership is what was
actually written, on the first run and on every run after it.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from .config import Config
from .file_pages import FileResult, page_names
from .folder_pages import folder_pages
from .model import FileSummary

MANIFEST = ".repodoc-manifest.json"
STATE = ".repodoc-state.json"
FOLDER_PAGES = ("index.md", "doc.md")


@dataclass
class FolderState:
    """What one docs folder was made from: its child files' summaries and its subfolders."""

    files: dict[str, FileSummary] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    generator: str = __version__
    config: str = ""
    foreign: set[str] = field(default_factory=set)  # page names a file repodoc did not write stood at

    def pages(self, folder: str) -> list[str]:
        """Docs-relative paths of the folder's pages and its documented children's pages."""
        prefix = folder + "/" if folder else ""
        paths = [prefix + name for name in FOLDER_PAGES]
        for summary in self.files.values():
            if summary.documented:
                paths += [prefix + p for p in page_names(summary.name)]
        return paths

    def owned(self, folder: str) -> list[str]:
        """Docs-relative paths of every file this state says repodoc wrote in the folder."""
        pages = [p for p in self.pages(folder) if posixpath.basename(p) not in self.foreign]
        return pages + [join(folder, MANIFEST), join(folder, STATE)]


def join(folder: str, name: str) -> str:
    """Path of name inside folder ('' is the root)."""
    return f"{folder}/{name}" if folder else name


def parent(folder: str) -> str:
    """The parent folder ('' for a top-level folder)."""
    return posixpath.dirname(folder)


def manifest_text(files: Mapping[str, str], dirs: Iterable[str], config: Config) -> str:
    """The manifest of a folder from child name -> blob id and subfolder names."""
    data = {
        "config": config.fingerprint(),
        "dirs": sorted(dirs),
        "files": dict(sorted(files.items())),
        "generator": __version__,
    }
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def state_text(state: FolderState, config: Config) -> str:
    """The state file of a folder (summaries, deterministic JSON)."""
    data = {
        "config": config.fingerprint(),
        "dirs": sorted(state.dirs),
        "generator": __version__,
        "files": {name: state.files[name].to_json() for name in sorted(state.files)},
    }
    if state.foreign:
        data["foreign"] = sorted(state.foreign)
    try:
        return _indented(data, "\n") + "\n"
    except _Unlike:
        return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


class _Unlike(Exception):
    """A value `_indented` leaves to `json.dumps`."""


_quoted = json.encoder.encode_basestring  # the function json.dumps uses with ensure_ascii=False


def _indented(value: object, newline: str) -> str:
    """The text of `json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1)` for the values a
    state holds (objects with string keys, lists, strings, integers, booleans, None): the same bytes
    without the pure-Python encoder's generators, which indent=1 falls back to, and a list of strings
    (most of a state's lists) quoted by the C encoder in one pass; _Unlike for anything else."""
    kind = type(value)
    scalar = _SCALARS.get(kind)
    if scalar:
        return scalar(value)
    inner = newline + " "
    between = "," + inner
    if kind is list:
        if not value:
            return "[]"
        try:
            items = list(map(_quoted, value))  # type: ignore[call-overload]
        except TypeError:  # not only strings
            items = [_indented(item, inner) for item in value]  # type: ignore[attr-defined]
        return "[" + inner + between.join(items) + newline + "]"
    if kind is dict:
        if not value:
            return "{}"
        try:
            keys = sorted(value)  # type: ignore[call-overload]
        except TypeError:  # keys of several types
            raise _Unlike from None
        pairs = []
        for key in keys:
            if type(key) is not str:
                raise _Unlike
            item = value[key]  # type: ignore[index]
            scalar = _SCALARS.get(type(item))  # most of a state's values: written here, without a call
            pairs.append(_quoted(key) + ": " + (scalar(item) if scalar else _indented(item, inner)))
        return "{" + inner + between.join(pairs) + newline + "}"
    raise _Unlike


_SCALARS: dict[type, Callable[[Any], str]] = {
    str: _quoted,
    int: int.__repr__,
    bool: lambda value: "true" if value else "false",
    type(None): lambda value: "null",
}


def parse_state(text: str | bytes) -> FolderState:
    """Inverse of state_text; raises ValueError for anything but a valid state (untrusted input)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if not isinstance(text, str):
            raise ValueError(f"a state is text, not {type(text).__name__}")
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        files, dirs, generator, config = data["files"], data["dirs"], data["generator"], data["config"]
        if not isinstance(files, dict) or not isinstance(dirs, list):
            raise ValueError("'files' must be an object and 'dirs' a list")
        if not isinstance(generator, str) or not isinstance(config, str):
            raise ValueError("'generator' and 'config' must be strings")
        summaries = {_name(name): FileSummary.from_json(s) for name, s in files.items()}
        if any(summary.name != name for name, summary in summaries.items()):
            raise ValueError("a summary's name differs from its key in 'files'")
        foreign = data.get("foreign", [])
        if not isinstance(foreign, list):
            raise ValueError("'foreign' must be a list")
        return FolderState(summaries, {_name(d) for d in dirs}, generator, config, {_name(f) for f in foreign})
    except KeyError as exc:
        raise ValueError(f"damaged state file: missing {exc}") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"damaged state file: {exc}") from None


def _name(name: object) -> str:
    """A name from a state: one path component (not '', '.' or '..'; no '/', NUL or lone surrogate)."""
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"{name!r} is not a file or folder name")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name!r} is not a file or folder name") from None
    return name


def folders_of(paths: Iterable[str]) -> dict[str, set[str]]:
    """Every folder holding one of paths (root included) -> its direct subfolders."""
    folders: dict[str, set[str]] = {"": set()}
    for path in paths:
        folder = parent(path)
        while folder:
            folders.setdefault(folder, set())
            siblings = folders.setdefault(parent(folder), set())
            if posixpath.basename(folder) in siblings:
                break
            siblings.add(posixpath.basename(folder))
            folder = parent(folder)
    return folders


def folder_outputs(
    folder: str, state: FolderState, config: Config, occupied: Collection[str] = frozenset()
) -> dict[str, str]:
    """Docs-relative path -> text of a folder's pages, manifest and state; the state records which
    of its pages were occupied by a file repodoc did not write (they are not written)."""
    state.foreign = {posixpath.basename(p) for p in state.pages(folder) if p in occupied}
    out = folder_pages(folder, list(state.files.values()), sorted(state.dirs), config)
    out[join(folder, MANIFEST)] = manifest_text({n: s.blob for n, s in state.files.items()}, state.dirs, config)
    out[join(folder, STATE)] = state_text(state, config)
    return out


def build(results: Mapping[str, FileResult], config: Config, occupied: Collection[str] = frozenset()) -> dict[str, str]:
    """The full docs tree (docs-relative path -> text) from every candidate file's result;
    occupied: docs-relative paths of files present that no state lists as repodoc's."""
    out: dict[str, str] = {}
    dirs = folders_of(results)
    states = {folder: FolderState(dirs=sub) for folder, sub in dirs.items()}
    for path in sorted(results):
        states[parent(path)].files[posixpath.basename(path)] = results[path].summary
        out.update(results[path].pages)
    for folder, state in states.items():
        out.update(folder_outputs(folder, state, config, occupied))
    return out


class FolderBuilder:
    """`build`'s folder outputs made while the files' results come in: a folder's are made as soon as the
    summaries of all its direct child files are in (they depend on nothing else), so that a full run makes
    them while the workers still render files; together they are those `build` makes."""

    def __init__(self, paths: Collection[str], config: Config, occupied: Collection[str] = frozenset()) -> None:
        self._config = config
        self._occupied = occupied
        self._states = {folder: FolderState(dirs=sub) for folder, sub in folders_of(paths).items()}
        self._waiting: dict[str, int] = dict.fromkeys(self._states, 0)
        for path in paths:
            self._waiting[parent(path)] += 1
        self._ready = [folder for folder, count in self._waiting.items() if count == 0]

    def collides(self) -> bool:
        """Whether a folder's name could be a page's (a folder page's, or a file page's), so that which of
        them is written first would matter: then the outputs are left to `build`."""
        names = (*FOLDER_PAGES, MANIFEST, STATE)
        return any(posixpath.basename(f) in names or f.endswith(("_docs.md", "_kw.md")) for f in self._states if f)

    def add(self, path: str, summary: FileSummary) -> None:
        """One file's summary is in (each listed path once, in sorted order, as `build` takes them)."""
        folder = parent(path)
        self._states[folder].files[posixpath.basename(path)] = summary
        self._waiting[folder] -= 1
        if not self._waiting[folder]:
            self._ready.append(folder)

    def take(self) -> dict[str, str]:
        """The outputs of the folders completed since the last call."""
        out: dict[str, str] = {}
        for folder in self._ready:
            out.update(folder_outputs(folder, self._states[folder], self._config, self._occupied))
        self._ready = []
        return out


@dataclass
class Update:
    """What reconciling stale folders writes and deletes (docs-relative paths)."""

    writes: dict[str, str] = field(default_factory=dict)
    deletes: set[str] = field(default_factory=set)
