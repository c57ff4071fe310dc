"""JavaScript, TypeScript, Java, Rust and Go: the definitions each shape makes, at the line of their name,
with signatures and doc summaries; overloads listed once; every id on a page unique, every link resolving."""

from __future__ import annotations

import html
import posixpath
import re
from urllib.parse import unquote

from markdown_it import MarkdownIt

from bot.engine import Config, build, render_file
from bot.engine.analyze import analyze
from bot.engine.analyze_ts import analyze_tree_sitter
from bot.engine.languages import language_of

MD = MarkdownIt("commonmark").enable("table")


def symbols(key: str, src: str, path: str = "") -> list[tuple[str, str, int, str, str]]:
    """(name, kind, line, signature, doc) of each symbol, as a page lists it (overloads merged)."""
    if path:
        lang = language_of(path, b"")
        result = analyze(path, src, src.encode(), lang, Config())
    else:
        result = analyze_tree_sitter(key, src.encode())
    return [(s.name, s.kind, s.line, s.signature, s.doc) for s in result.symbols]


def names_lines(key: str, src: str) -> list[tuple[str, int]]:
    return [(name, line) for name, _, line, _, _ in symbols(key, src)]


# JavaScript (item 4) ------------------------------------------------------------------------------

JS_BINDINGS = """\
'use strict';

/**
 * Streams the rows of a table.
 * @param {string} name the table
 */
const rows = async function* (name) {
  yield name;
};

// Collects every promise; fails on the first rejection.
obj.all = function all(promises) {
  return promises;
};

module.exports.parse = function (text) {
  return text;
};
exports.format = (value) => String(value);

/** Renders the widget. */
Widget.prototype.render = function () {
  return this;
};
Widget.create = function () {};
Promise.prototype.caught = Promise.prototype["catch"] = function (fn) {};
"""


def test_js_functions_bound_to_names_and_properties():
    assert [(n, k, line, sig) for n, k, line, sig, _ in symbols("javascript", JS_BINDINGS)] == [
        ("rows", "function", 7, "(name)"),
        ("obj.all", "function", 12, "(promises)"),
        ("module.exports.parse", "function", 16, "(text)"),
        ("exports.format", "function", 19, "(value)"),
        ("Widget.prototype.render", "method", 22, "()"),
        ("Widget.create", "function", 25, "()"),
        ("Promise.prototype.caught", "method", 26, "(fn)"),
    ]
    docs = {n: d for n, _, _, _, d in symbols("javascript", JS_BINDINGS)}
    assert docs["rows"] == "Streams the rows of a table."
    assert docs["obj.all"] == "Collects every promise; fails on the first rejection."
    assert docs["Widget.prototype.render"] == "Renders the widget."


def test_js_object_literals_bound_to_a_name_name_their_members():
    src = (
        "const api = {\n  get: function (url) {},\n  post: (url, body) => body,\n  nested: { put() {} },\n};\n"
        "module.exports = {\n  start() {},\n  stop: function () {},\n};\n"
        "call({ onDone: function () {} });\n"
        "class Button {\n  handleClick = (event) => {};\n  static defaults = { size: function () {} };\n}\n"
    )
    assert names_lines("javascript", src) == [
        ("api.get", 2),
        ("api.post", 3),
        ("api.nested.put", 4),
        ("module.exports.start", 7),
        ("module.exports.stop", 8),
        ("Button", 11),
        ("Button.handleClick", 12),
        ("Button.defaults.size", 13),
    ]


def test_js_file_whose_only_definition_is_a_binding_says_so():
    page = render_file("lib/only.js", b"module.exports = function () {};\nexports.run = () => 1;\n", Config())
    docs = page.pages["lib/only.js_docs.md"]
    assert "holds 2 functions" in docs and "`module.exports`" in docs and "`exports.run`" in docs
    assert "no definitions" not in page.summary.description


# TypeScript (item 5) ------------------------------------------------------------------------------

TS_SHAPES = """\
export interface Shape {
  /** The area, in square units. */
  area(): number;
  scale?(factor: number): Shape;
  new (side: number): Shape;
}

export class Calc {
  /** Adds two numbers or concatenates two strings. */
  add(a: number, b: number): number;
  add(a: string, b: string): string;
  add(a: any, b: any): any {
    return a + b;
  }
  abstract reset(): void;
}

/** Parses a value. */
export function parse(x: string): number;
export function parse(x: number): number;
export function parse(x: any): number {
  return Number(x);
}
"""


def test_ts_interface_and_overload_signatures():
    found = symbols("typescript", TS_SHAPES, "src/shapes.ts")
    assert [(n, k, line, sig) for n, k, line, sig, _ in found] == [
        ("Shape", "interface", 1, ""),
        ("Shape.area", "method", 3, "(): number"),
        ("Shape.scale", "method", 4, "(factor: number): Shape"),
        ("Shape.new", "constructor", 5, "(side: number): Shape"),
        ("Calc", "class", 8, ""),
        ("Calc.add", "method", 10, "(a: number, b: number): number"),
        ("Calc.reset", "method", 15, "(): void"),
        ("parse", "function", 19, "(x: string): number"),
    ]
    result = analyze("src/shapes.ts", TS_SHAPES, TS_SHAPES.encode(), language_of("a.ts", b""), Config())
    add = next(s for s in result.symbols if s.name == "Calc.add")
    assert add.overloads == ((11, "(a: string, b: string): string"), (12, "(a: any, b: any): any"))
    assert add.doc == "Adds two numbers or concatenates two strings."


def test_overloads_are_one_entry_under_one_anchor():
    docs = render_file("src/shapes.ts", TS_SHAPES.encode(), Config()).pages["src/shapes.ts_docs.md"]
    ids = re.findall(r'id="([^"]+)"', docs)
    assert len(ids) == len(set(ids))
    entry = docs.split('<a id="sym-calc-add"></a>')[1].split("\n- ")[0]
    assert entry.startswith("`Calc.add` — method; 3 declarations (lines 10, 11 and 12)")
    assert "  - line 11: `(a: string, b: string): string`" in entry
    assert "  - line 12: `(a: any, b: any): any`" in entry
    assert "holds 1 class, 1 constructor, 1 function, 1 interface and 4 methods" in docs


# Java (item 6) ------------------------------------------------------------------------------------

JAVA = """\
package com.example;

/** Marks a field as exposed to JSON. */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD})
public @interface Expose {
  /** Whether the field is written. */
  boolean serialize() default true;
  String[] names();
}

public enum Policy {
  IDENTITY() {
    @Override
    public String translate(String name) {
      return name;
    }
  },
  PLAIN;

  public abstract String translate(String name);
}

class Reader {
  @Override
  @Deprecated
  public
  String toString() {
    return "";
  }

  /**
   * Reads one value.
   *
   * <p>Blocks until a value is there.
   * @param in the input
   */
  int read(java.io.InputStream in) { return 0; }
  int read(byte[] buffer) { return 0; }
}
"""


def test_java_annotation_types_and_lines_of_names():
    assert names_lines("java", JAVA) == [
        ("Expose", 6),
        ("Expose.serialize", 8),
        ("Expose.names", 9),
        ("Policy", 12),
        ("Policy.IDENTITY", 13),
        ("Policy.IDENTITY.translate", 15),
        ("Policy.translate", 21),
        ("Reader", 24),
        ("Reader.toString", 28),
        ("Reader.read", 38),
        ("Reader.read", 39),
    ]
    found = symbols("java", JAVA, "src/Expose.java")
    kinds = {n: (k, d) for n, k, _, _, d in found}
    assert kinds["Expose"] == ("annotation", "Marks a field as exposed to JSON.")
    assert kinds["Expose.serialize"] == ("element", "Whether the field is written.")
    assert kinds["Reader.read"] == ("method", "Reads one value.")


# Rust and Go --------------------------------------------------------------------------------------

RUST = """\
//! Money arithmetic.

/// An amount of money in cents.
///
/// Never negative.
#[derive(Debug, Clone)]
pub struct Money(u64);

/// The result of a money operation.
pub type Result<T> = std::result::Result<T, Error>;

pub trait Currency {
    /// The code, such as `EUR`.
    type Code;
}

impl Money {
    // not a doc comment
    pub fn cents(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {}
}
"""


def test_rust_doc_comments_type_aliases_and_inline_tests():
    found = symbols("rust", RUST, "src/money.rs")
    assert [(n, k, line, d) for n, k, line, _, d in found] == [
        ("Money", "struct", 7, "An amount of money in cents."),
        ("Result", "type alias", 10, "The result of a money operation."),
        ("Currency", "trait", 12, ""),
        ("Currency::Code", "associated type", 14, "The code, such as `EUR`."),
        ("Money::cents", "method", 19, ""),
        ("tests", "module", 25, ""),
        ("tests::adds", "function", 27, ""),
    ]
    docs = render_file("src/money.rs", RUST.encode(), Config())
    page = docs.pages["src/money.rs_docs.md"]
    assert "It contains 1 test for cargo test, in a test module beside its code." in page
    assert "It is a test file" not in page and not docs.summary.description.startswith("Tests (")
    whole = render_file("tests/money.rs", b"#[test]\nfn adds() {}\n", Config()).pages["tests/money.rs_docs.md"]
    assert "It is a test file: it holds 1 test for cargo test." in whole


GO = """\
package money

// Money is an amount in cents.
//
// It is never negative.
type Money int64

type (
\t// Rate is a ratio between currencies.
\tRate float64
\tCode string
)

// Add returns the sum of m and o. It never overflows.
//
//go:noinline
func (m Money) Add(o Money) Money { return m + o }

// Parse reads an amount such as "1.50".
func Parse(text string) (Money, error) { return 0, nil }
"""


def test_go_doc_blocks_give_their_first_sentence():
    assert [(n, line, d) for n, _, line, _, d in symbols("go", GO)] == [
        ("Money", 6, "Money is an amount in cents."),
        ("Rate", 10, "Rate is a ratio between currencies."),
        ("Code", 11, ""),
        ("Money.Add", 17, "Add returns the sum of m and o."),
        ("Parse", 20, 'Parse reads an amount such as "1.50".'),
    ]


# every id unique, every link resolving, across languages ----------------------------------------

SAMPLE = {
    "README.md": "# Sample\n\nA sample.\n\n## Usage\n\nText.\n\n## Part two\n\n## Usage\n",
    "py/shapes.py": (
        "from typing import overload\n\n\nclass A:\n    @property\n    def size(self):\n        return 1\n\n"
        "    @size.setter\n    def size(self, value):\n        pass\n\n    def run(self):\n        pass\n\n\n"
        "class B:\n    def run(self):\n        pass\n\n\n@overload\ndef f(x: int) -> int: ...\n@overload\n"
        "def f(x: str) -> str: ...\ndef f(x):\n    return x\n"
    ),
    "c/stat.h": "struct stat { int size; };\nint stat(const char *path, struct stat *out);\nint stat(const char *p);\n",
    "cpp/calc.hpp": (
        "class Calc {\n public:\n  int add(int a, int b);\n  double add(double a, double b);\n};\n"
        "class Other {\n public:\n  int add(int a, int b);\n};\n"
    ),
    "js/widget.js": JS_BINDINGS + "function all() {}\n",
    "ts/shapes.ts": TS_SHAPES,
    "java/Expose.java": JAVA,
    "rust/money.rs": RUST + "impl std::fmt::Display for Money {\n    fn fmt(&self) {}\n}\n"
    "impl std::fmt::Debug for Money {\n    fn fmt(&self) {}\n}\n",
    "go/money.go": GO + "func (c Code) Add(o Code) Code { return c }\n",
    "sh/run.sh": "#!/bin/sh\nsetup() { echo one; }\nsetup() { echo two; }\nmain() { setup; }\n",
}


def _heading_ids(page: str) -> set[str]:
    """The ids GitHub gives a page's headings."""
    ids = set()
    for line in page.splitlines():
        if line.startswith("#"):
            text = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower())
            ids.add(text.replace(" ", "-"))
    return ids


def test_every_id_is_unique_and_every_link_resolves_across_languages():
    config = Config()
    results = {path: render_file(path, text.encode(), config) for path, text in SAMPLE.items()}
    tree = build(results, config)
    docs_dir = config.docs_dir
    pages = {posixpath.join(docs_dir, rel): text for rel, text in tree.items() if rel.endswith(".md")}
    checked = 0
    for path, page in pages.items():
        ids = re.findall(r'<a id="([^"]+)"', page)
        assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))
        for target in re.findall(r'href="([^"]*)"', MD.render(page)):
            target = html.unescape(target)
            where, _, anchor = target.partition("#")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), unquote(where))) if where else path
            assert resolved in pages or resolved in SAMPLE, (path, target)
            if anchor:
                assert resolved in pages, (path, target)
                assert f'id="{anchor}"' in pages[resolved] or anchor in _heading_ids(pages[resolved]), (path, target)
                checked += 1
    assert checked > 100
    ts = pages[posixpath.join(docs_dir, "ts/shapes.ts_docs.md")]
    assert ts.count('id="sym-calc-add"') == 1
