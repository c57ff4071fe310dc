"""What the analysers find in one file, and the summary a folder's pages need from it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


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


@dataclass(frozen=True)
class Import:
    """One imported module (or included header), with the names taken from it."""

    module: str
    line: int
    names: tuple[str, ...] = ()
    stdlib: bool = False


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
    findings: list[Finding] = field(default_factory=list)
    error: str = ""  # why the file could not be analysed, said on its page
    fallback: str = ""  # why the preferred parser was not used
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

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (lists, not tuples)."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["key_names"] = [list(pair) for pair in self.key_names]
        data["refs"] = list(self.refs)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileSummary:
        """Inverse of to_json."""
        values = dict(data)
        values["key_names"] = tuple(tuple(pair) for pair in values.get("key_names", ()))
        values["refs"] = tuple(values.get("refs", ()))
        return cls(**values)
