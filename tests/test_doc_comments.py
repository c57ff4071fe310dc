"""Doc-comment summaries: the first sentence of the comment block above a definition, in every
tree-sitter language, rendered as a Python docstring's summary is."""

from __future__ import annotations

import pytest

from bot.engine import Config, render_file
from bot.engine.analyze_ts import analyze_tree_sitter
from bot.engine.doc_comments import first_sentence, godoc, rustdoc, summary


def doc_of(key: str, src: str, name: str) -> str:
    return next(s.doc for s in analyze_tree_sitter(key, src.encode()).symbols if s.name == name)


@pytest.mark.parametrize(
    ("key", "src", "name", "expected"),
    [
        (
            "go",
            "package p\n\n// Open opens the named file for reading. If successful, methods on\n"
            "// the returned file can be used for reading.\nfunc Open(name string) {}\n",
            "Open",
            "Open opens the named file for reading.",
        ),
        (
            "rust",
            "/// Returns the number of elements in the vector, also referred to\n/// as its 'length'.\n///\n"
            "/// # Examples\n#[inline]\npub fn len(&self) -> usize { 0 }\n",
            "len",
            "Returns the number of elements in the vector, also referred to as its 'length'.",
        ),
        (
            "javascript",
            "/**\n * Creates a debounced function that delays invoking `func` until after\n * `wait` milliseconds. "
            "The debounced function comes with a `cancel` method.\n *\n * @param {Function} func\n */\n"
            "function debounce(func, wait) {}\n",
            "debounce",
            "Creates a debounced function that delays invoking `func` until after `wait` milliseconds.",
        ),
        (
            "typescript",
            "/**\n * @internal\n */\nexport function hidden(): void {}\n",
            "hidden",
            "",
        ),
        (
            "java",
            "class A {\n  /**\n   * Returns the {@code String} form, e.g. a name. See {@link Object#toString()}.\n"
            '   * <p>Never null.\n   */\n  @Override\n  public String toString() { return ""; }\n}\n',
            "A.toString",
            "Returns the `String` form, e.g. a name.",
        ),
        (
            "cpp",
            "/// Parses text into a tree.\n/// Throws on bad input.\nint parse(const char *text);\n",
            "parse",
            "Parses text into a tree.",
        ),
        (
            "go",
            "package p\n\n// | key | value |\n// |-----|-------|\n// Table maps keys.\ntype Table map[string]string\n",
            "Table",
            "Table maps keys.",
        ),
        (
            "javascript",
            "// - first item\n// - second item\nfunction listed() {}\n",
            "listed",
            "",
        ),
        (
            "javascript",
            "let x = 1; // counts calls\nfunction next() {}\n",
            "next",
            "",
        ),
        (
            "rust",
            "// A plain comment, not rustdoc.\nfn plain() {}\n",
            "plain",
            "",
        ),
        (
            "typescript",
            "/** Says hello. */\nexport const greet = (name: string): string => name;\n",
            "greet",
            "Says hello.",
        ),
    ],
)
def test_summary_is_the_first_sentence(key, src, name, expected):
    assert doc_of(key, src, name) == expected


def test_summary_of_comment_texts():
    assert summary(rustdoc, ["//! Inner.", "/// Outer one.", "/// More."]) == "Outer one."
    assert summary(godoc, ["// Run runs.", "//go:noinline"]) == "Run runs."
    assert first_sentence(["", "* a list", "Prose here. More."]) == "Prose here."
    assert first_sentence(["Uses `a. b` inside. Then."]) == "Uses `a. b` inside."


def test_summary_on_the_page_keeps_code_spans_and_neutralises_html():
    src = b"/**\n * Wraps <b>bold</b> text in a `<div>` and <script>alert(1)</script>.\n */\nfunction wrap() {}\n"
    page = render_file("w.js", src, Config()).pages["w.js_docs.md"]
    line = next(line for line in page.splitlines() if "`wrap`" in line and "<a id" in line)
    assert line.endswith(": Wraps bold text in a `<div>` and &lt;script&gt;alert(1)&lt;/script&gt;.")
