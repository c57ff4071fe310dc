"""What the analysers find in one file, and the summary a folder's pages need from it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

_ANCHOR = re.compile(r"#sym-[0-9a-z_-]+")  # what md.anchor_id makes, with a numeric suffix when repeated


@dataclass(frozen=True)
class Symbol:
    """A named thing defined in a file: class, function, method, heading, key, …"""

    group: str  # keyword group on the _kw page: "Classes", "Functions", "Headings", …
    kind: str  # "class", "function", "method", "struct", "namespace", "heading", "key", …
    name: str  # qualified: Class.method, ns::fn, a.b
    line: int = 0
    signature: str = ""
    doc: str = ""  # first line of its docstring or doc comment
    bases: tuple[str, ...] = ()
    decorators: tuple[str, ...] = ()
    level: int = 0  # heading level for documents
    overloads: tuple[tuple[int, str], ...] = ()  # (line, signature) of each further declaration of the name


@dataclass(frozen=True)
class Import:
    """One imported module (or included header), with the names taken from it."""

    module: str
    line: int
    names: tuple[str, ...] = ()
    stdlib: bool = False
    local: bool = False  # the file's own project (Python: a relative import or the file's own top-level package)


@dataclass(frozen=True)
class Finding:
    """A claim backed by code: which construct, at which line."""

    section: str  # "patterns" | "performance" | "security"
    what: str  # markdown-free description naming the construct
    line: int


@dataclass
class Analysis:
    """The result of analysing one file; every list is complete (pages never cut silently)."""

    parser: str = "none"
    docstring: str = ""
    symbols: list[Symbol] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    import_group: str = "Imports"
    exports: list[str] = field(default_factory=list)
    main_guard: int = 0
    test_framework: str = ""
    tests: list[str] = field(default_factory=list)
    tests_inline: bool = False  # the tests sit in a module beside the code they test (Rust's `#[cfg(test)]`)
    findings: list[Finding] = field(default_factory=list)
    error: str = ""  # why the file could not be analysed, said on its page
    fallback: str = ""  # why the preferred parser was not used
    partial: int = 0  # the line where a tree-sitter grammar lost the thread (what it found is still listed)
    package: str = ""  # dotted module of the file (Python), for the folder's import graph
    is_package_init: bool = False


@dataclass(frozen=True)
class FileSummary:
    """What a folder's index.md and doc.md need to know about one child file."""

    name: str
    blob: str
    documented: bool
    reason: str = ""  # why not documented, or why analysis failed
    type_name: str = ""
    description: str = ""
    overview: str = ""  # a README's or package docstring's first paragraph
    key_names: tuple[tuple[str, str], ...] = ()  # (name, anchor) of public top-level names
    refs: tuple[str, ...] = ()  # what it imports/includes, for the folder's import graph
    module: str = ""  # its own module name, matched against siblings' refs
    is_test: bool = False  # a test file, by its language's test shapes (LanguageSpec.is_test)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (lists, not tuples)."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["key_names"] = [list(pair) for pair in self.key_names]
        data["refs"] = list(self.refs)
        return data

    @classmethod
    def from_json(cls, data: Any) -> FileSummary:
        """Inverse of to_json; raises ValueError naming the first missing, unknown or mistyped field."""
        if not isinstance(data, dict):
            raise ValueError("a file summary must be an object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown summary field {sorted(unknown)[0]!r}")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data:
                values[f.name] = _CHECKS[f.name](f.name, data[f.name])
            elif f.name in ("name", "blob", "documented"):
                raise ValueError(f"summary field {f.name!r} is missing")
        if "is_test" not in data:  # written before the field was: read as that version's pages did
            values["is_test"] = values.get("documented", False) and values.get("description", "").startswith("Tests (")
        page = values["name"] + "_docs.md"  # a key name links into its own file's page, nowhere else
        for _, target in values.get("key_names", ()):
            if not (target.startswith(page) and _ANCHOR.fullmatch(target, len(page))):
                raise ValueError("summary field 'key_names' must link to anchors of the file's own page")
        return cls(**values)


def _text(key: str, value: Any) -> str:
    """A JSON string that can be written back as UTF-8."""
    if not isinstance(value, str):
        raise ValueError(f"summary field {key!r} must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"summary field {key!r} holds a lone surrogate") from None
    return value


def _blob(key: str, value: Any) -> str:
    """A git object id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits."""
    if not isinstance(value, str) or len(value) not in (40, 64) or value.strip("0123456789abcdef"):
        raise ValueError(f"summary field {key!r} must be a git object id")
    return value


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"summary field {key!r} must be true or false")
    return value


def _texts(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"summary field {key!r} must be a list of strings")
    return tuple(_text(key, item) for item in value)


def _pairs(key: str, value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not all(isinstance(pair, list) and len(pair) == 2 for pair in value):
        raise ValueError(f"summary field {key!r} must be a list of [name, anchor] pairs")
    return tuple((_text(key, a), _text(key, b)) for a, b in value)


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "name": _text,
    "blob": _blob,
    "documented": _flag,
    "reason": _text,
    "type_name": _text,
    "description": _text,
    "overview": _text,
    "key_names": _pairs,
    "refs": _texts,
    "module": _text,
    "is_test": _flag,
}
