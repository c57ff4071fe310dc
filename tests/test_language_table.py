"""The language table (bot/engine/languages.py) is the only source of what each language is: extensions,
config switches, grammars and their node types, test shapes; a row added is a language analysed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tree_sitter import Language

from bot.engine import analyze_ts as ts
from bot.engine import languages
from bot.engine.analyze_ts import analyze_tree_sitter, parser_for
from bot.engine.config import Config, parse_config
from bot.engine.file_pages import render_file
from bot.engine.folder_pages import folder_pages
from bot.engine.language_spec import FileType, Grammar, LanguageSpec, Syntax
from bot.engine.languages import SPECS, language_of, spec, switches
from bot.engine.model import FileSummary
from bot.engine.tree import FolderState, parse_state, state_text

ENGINE = Path(__file__).resolve().parent.parent / "bot" / "engine"


def _rows() -> list[tuple[LanguageSpec, FileType]]:
    return [(s, f) for s in SPECS for f in s.files]


@pytest.mark.parametrize(("row", "file"), _rows(), ids=[f.match for _, f in _rows()])
def test_every_row_of_the_table_maps_to_its_language(row, file):
    path = f"src/a{file.match}" if file.match.startswith(".") else f"src/{file.match}"
    lang = language_of(path)
    assert lang.spec is row
    assert (lang.key, lang.switch, lang.type_name) == (row.key, row.switch, file.type_name)
    assert lang.fence == (file.fence or row.fence or row.key)
    if file.match.startswith("."):
        assert language_of("src/A" + file.match.upper()).spec is row  # extensions match in any case


def test_keys_extensions_and_names_are_each_in_one_row():
    keys = [s.key for s in SPECS]
    matches = [f.match.lower() if f.match.startswith(".") else f.match for _, f in _rows()]
    assert len(keys) == len(set(keys))
    assert len(matches) == len(set(matches))


def test_the_config_switches_are_the_tables():
    assert set(switches()) == {s.switch for s in SPECS}
    assert dict(Config().languages) == dict.fromkeys(switches(), True)
    for switch in switches():
        config, _ = parse_config(f"languages:\n  {switch}: false\n")
        assert config.language_on(switch) is False
        off = next(s for s in SPECS if s.switch == switch)
        name = next(f.match for f in off.files if f.match.startswith("."))
        page = render_file("a" + name, b"x\n", config).pages[f"a{name}_docs.md"]
        assert f"analysis of {switch} is turned off in the config" in page


def _node_types(syntax: Syntax) -> set[str]:
    return (
        set(syntax.definitions)
        | set(syntax.definers)
        | set(syntax.readers)
        | set(syntax.imports)
        | set(syntax.tests)
        | set(syntax.claims)
        | set(syntax.doc_wrappers)
        | syntax.classes
        | syntax.methods
    )


@pytest.mark.parametrize("row", [s for s in SPECS if s.syntax is not None], ids=lambda s: s.key)
def test_every_node_type_a_spec_names_is_one_of_its_grammar(row):
    assert row.syntax is not None
    grammar = Language(row.syntax.grammar.load())
    unknown = sorted(t for t in _node_types(row.syntax) if grammar.id_for_node_kind(t, True) is None)
    assert unknown == []
    assert row.syntax.classes | row.syntax.methods <= set(row.syntax.definitions) | set(row.syntax.definers)
    assert analyze_tree_sitter(row, b"").parser == f"tree-sitter-{row.syntax.grammar.name}"
    assert analyze_tree_sitter(row.key, b"").import_group == row.import_group  # by its key, as by its spec


def test_no_analyser_asks_which_language_it_reads():
    """What differs between languages is a field of their spec, not an `if key in (…)` in an analyser."""
    for name in ("analyze.py", "analyze_ts.py", "analyze_text.py", "doc_comments.py", "folder_pages.py"):
        source = (ENGINE / name).read_text(encoding="utf-8")
        assert not re.search(r"\bkey (==|!=|in|not in) [(\"']", source), name
        assert "lang.key ==" not in source and "switch in (" not in source, name


# --- a toy language: a row of the table is all it takes ----------------------------------------------------

TOY = LanguageSpec(
    "toy",
    "toy",
    (FileType(".toy", "Toy Source Code"), FileType("Toyfile", "Toy Build File")),
    syntax=Syntax(  # shell's grammar, read otherwise
        Grammar("bash", "tree_sitter_bash"),
        definitions={"function_definition": ("Procedures", "procedure")},
        imports={"command": ts.sh_source},
    ),
    import_group="Loads",
    test_paths=("*_check.toy",),
)
TOY_SOURCE = b"""#!/bin/toy

# Greet someone.
greet() {
  echo "hello $1"
}
source ./common.toy
"""


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(languages, "SPECS", (*SPECS, TOY))


def test_a_spec_added_to_the_table_is_enough_for_its_files_to_be_analysed(toy):
    assert "toy" in switches() and spec("toy") is TOY
    assert language_of("Toyfile").type_name == "Toy Build File"
    result = render_file("lib/hello.toy", TOY_SOURCE, Config())
    page = result.pages["lib/hello.toy_docs.md"]
    assert "- **Type**: Toy Source Code" in page
    assert "#### Procedures (1)" in page
    assert '<a id="sym-greet"></a>`greet` — procedure; line 4: Greet someone.' in page
    assert "This file (Toy Source Code) holds 1 procedure and 1 load." in page
    assert "```toy\n#!/bin/toy\n" in page
    assert "./common.toy" in result.pages["lib/hello.toy_kw.md"]
    assert result.summary.is_test is False
    check = render_file("lib/hello_check.toy", TOY_SOURCE, Config()).summary
    assert check.is_test is True
    doc = folder_pages("lib", [result.summary, check], [], Config())["lib/doc.md"]
    assert "1 of its files are test files." in doc
    off, _ = parse_config("languages:\n  toy: false\n")
    assert "analysis of toy is turned off" in render_file("a.toy", TOY_SOURCE, off).pages["a.toy_docs.md"]
    assert parser_for(Grammar("bash", "tree_sitter_bash")) is parser_for(Grammar("bash", "tree_sitter_bash"))


def test_without_the_row_the_toy_is_plain_text():
    assert language_of("lib/hello.toy").type_name == "TOY File"
    with pytest.raises(KeyError):
        spec("toy")


# --- is_test: the spec's test shapes, not the text of a description -----------------------------------------

GO_HELPERS = b"""package cmd

import "testing"

// newTestCmd builds the command the tests run.
func newTestCmd(t *testing.T) *Command {
\treturn &Command{}
}
"""
RUST_LIB = b"""/// Adds.
pub fn add(a: i32, b: i32) -> i32 { a + b }

#[cfg(test)]
mod tests {
    #[test]
    fn adds() { assert_eq!(super::add(1, 2), 3); }
}
"""
RUST_INTEGRATION = b"""use mylib::add;

#[test]
fn adds() { assert_eq!(add(1, 2), 3); }
"""
PY_HELPERS = b'''"""Tests (integration) share these helpers: a server and a client."""


def server():
    return None
'''
TS_EACH = b"""import { expect, test } from "vitest";

test.each([1, 2])("parses %i", (n) => {
  expect(n).toBeGreaterThan(0);
});
"""
JAVA_TEST = b"""package org.example;

import org.junit.jupiter.api.Test;

class ParserTest {
    @Test
    void parses() {}
}
"""


@pytest.mark.parametrize(
    ("path", "source", "is_test"),
    [
        ("cmd/cmd_test.go", GO_HELPERS, True),  # a _test.go file of helpers: a test file all the same
        ("cmd/cmd.go", GO_HELPERS, False),
        ("src/lib.rs", RUST_LIB, False),  # it contains tests beside its code; it is not a test file
        ("tests/add.rs", RUST_INTEGRATION, True),  # `#[test]`: a content shape
        ("tests/helpers.py", PY_HELPERS, False),  # its description says "Tests (…": it is not one
        ("tests/test_server.py", PY_HELPERS, True),
        (
            "tests/check_server.py",
            b"import unittest\n\nclass T(unittest.TestCase):\n    def test_a(self): pass\n",
            True,
        ),
        ("docs/TESTING.md", b"# Tests (how to run them)\n\nRun pytest.\n", False),
        ("src/parse.test.ts", TS_EACH, True),
        ("src/parse.ts", TS_EACH, False),
        ("src/test/java/org/example/ParserTest.java", JAVA_TEST, True),
        ("src/main/java/org/example/Parser.java", b"package org.example;\nclass Parser {}\n", False),
    ],
)
def test_is_test_comes_from_the_languages_test_shapes(path, source, is_test):
    assert render_file(path, source, Config()).summary.is_test is is_test


def test_a_folder_counts_its_test_files_by_is_test():
    files = [
        render_file(p, s, Config()).summary
        for p, s in [("t/helpers.py", PY_HELPERS), ("t/cmd_test.go", GO_HELPERS), ("t/lib.rs", RUST_LIB)]
    ]
    doc = folder_pages("t", files, [], Config())["t/doc.md"]
    assert "1 of its files are test files." in doc


def test_is_test_is_in_the_state_and_checked_when_read():
    summary = render_file("pkg/test_a.py", b"def test_a():\n    pass\n", Config()).summary
    assert summary.is_test and summary.to_json()["is_test"] is True
    text = state_text(FolderState({"test_a.py": summary}), Config())
    assert parse_state(text).files["test_a.py"] == summary
    data = json.loads(text)
    data["files"]["test_a.py"]["is_test"] = "yes"
    with pytest.raises(ValueError, match="'is_test' must be true or false"):
        parse_state(json.dumps(data))


@pytest.mark.parametrize(
    ("description", "documented", "is_test"),
    [
        ("Tests (2, pytest)", True, True),
        ("Python Source Code: 1 function", True, False),
        ("Tests (1, x)", False, False),
    ],
)
def test_a_summary_written_before_is_test_reads_it_as_its_pages_did(description, documented, is_test):
    old = {"name": "a.py", "blob": "0" * 40, "documented": documented, "description": description}
    assert FileSummary.from_json(old).is_test is is_test
