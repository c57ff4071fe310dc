"""The shape of one row of the language table (languages.py): everything the engine knows of a language.

Rules of this module: a spec is data and the functions it names; nothing outside the table says which
language does what (no `if key in (…)` elsewhere), so that a language is added by adding its row.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node, Parser

from .model import Analysis

# each is called with a node, the named sibling before it, the prefix of its name, whether it is in a class,
# and the analysis so far; a definition returns its qualified name (the prefix of what it holds), or None
# for no symbol; another node that binds names returns the prefix and class flag of what it holds, or None
Definer = Callable[[Node, Node | None, str, bool, Analysis], str | None]
Reader = Callable[[Node, Node | None, str, bool, Analysis], tuple[str, bool] | None]
ImportShape = Callable[[Node, Analysis], None]
TestShape = Callable[[Node, list[Node], int, Analysis], None]  # node, its named siblings, its index among them
ClaimShape = Callable[[Node, set[tuple[str, str, int]]], None]  # node, (section, what, line) found so far


@dataclass(frozen=True)
class FileType:
    """Files of a language by extension (`.h`) or whole name (`CMakeLists.txt`): their type and fence."""

    match: str  # an extension, with its dot, or a file's whole name
    type_name: str
    fence: str = ""  # the source's code fence; '' for the language's own


@dataclass(frozen=True)
class Grammar:
    """A tree-sitter grammar from its wheel: `module.function()` is the language."""

    name: str  # the parser shown on pages: tree-sitter-<name>
    module: str
    function: str = "language"

    def load(self) -> Any:
        return getattr(__import__(self.module), self.function)()


@dataclass(frozen=True, eq=False)
class Syntax:
    """How a language's tree-sitter trees are read (analyze_ts walks them with this)."""

    grammar: Grammar
    definitions: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # node type -> (group, kind)
    definers: Mapping[str, Definer] = field(default_factory=dict)  # definitions read by a function of their own
    readers: Mapping[str, Reader] = field(default_factory=dict)  # other nodes that bind names
    classes: frozenset[str] = frozenset()  # definitions whose members are in a class (methods, fields)
    methods: frozenset[str] = frozenset()  # function definitions that are methods inside a class
    separator: str = "."  # between a name and the names it holds: `a.b`, `ns::f`
    returns: str = " "  # between a signature's parameters and a return type not written with a `:`
    doc_wrappers: tuple[str, ...] = ()  # nodes whose doc comment goes to the definition they wrap
    imports: Mapping[str, ImportShape] = field(default_factory=dict)
    tests: Mapping[str, TestShape] = field(default_factory=dict)  # a test case in the file
    claims: Mapping[str, ClaimShape] = field(default_factory=dict)  # findings backed by a node
    prepare: Callable[[bytes], bytes] | None = None  # the bytes parsed (offsets and newlines kept)
    reparse: Callable[[Parser, bytes, Node], Node] | None = None  # a second try when the tree has errors
    finish: Callable[[bytes, Node, Analysis], None] | None = None  # what the whole tree tells


def plain_doc(text: str) -> str | None:
    """Every comment above a definition documents it."""
    return text


@dataclass(frozen=True, eq=False)
class LanguageSpec:
    """One language: its files, how they are analysed, and which of them are tests."""

    key: str  # the analyser key, shown on pages as the parser of text formats
    switch: str  # the config's per-language switch (`languages:`)
    files: tuple[FileType, ...]
    fence: str = ""  # '' for the key
    shebangs: tuple[bytes, ...] = ()  # a first line `#!…` holding one of these, for a file of no known name
    analyse: Callable[[LanguageSpec, str, str, bytes], Analysis] | None = None  # an analyser of its own
    syntax: Syntax | None = None  # else its tree-sitter grammar's
    text_reader: Callable[[str, Analysis], None] | None = None  # else this, for a text format (or nothing)
    import_group: str = "Imports"  # what its imports are called: Imports, Includes, Sources
    doc_comment: Callable[[str], str | None] = plain_doc  # the documenting part of a comment, None if none
    test_paths: tuple[str, ...] = ()  # file names of test files (fnmatch, case-sensitive)
    tests: Callable[[LanguageSpec, str, Analysis], None] | None = None  # which tests it holds, and their runner

    @property
    def fence_tag(self) -> str:
        return self.fence or self.key

    def is_test_path(self, path: str) -> bool:
        """Whether the file's name is that of a test file in this language."""
        name = posixpath.basename(path)
        return any(fnmatch.fnmatchcase(name, shape) for shape in self.test_paths)

    def is_test(self, path: str, analysis: Analysis) -> bool:
        """A test file: named as one, or holding tests that are not in a module beside other code
        (a Rust library file with an inline `#[cfg(test)] mod tests` contains tests; it is not one)."""
        return self.is_test_path(path) or (bool(analysis.test_framework) and not analysis.tests_inline)
