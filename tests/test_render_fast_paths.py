"""The fast paths of page rendering against the code they replace.

Each `_reference_*` function below is the implementation `bot/engine/md.py` (or `file_pages.py`) had
before its fast path was added, copied as it was: the fast versions must give the same output for
every input, since a page must stay the same bytes. Inputs are hypothesis-drawn text over an alphabet
rich in what markdown, HTML and paths treat specially, plus hand-picked hostile strings.
"""

from __future__ import annotations

import codecs
import posixpath
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.engine import file_pages, md
from bot.engine.config import Config
from bot.engine.languages import Language
from bot.engine.model import Analysis, Import, Symbol

# ---------------------------------------------------------------------------------------------------
# the implementations before the fast paths, verbatim

_BACKTICK_RUN = re.compile(r"`+")
_WORD = re.compile(r"[0-9A-Za-z_]+")
_NOT_WORD = re.compile(r"[^0-9A-Za-z_]+")
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~!])")


def _reference_longest_backtick_run(text: str) -> int:
    if "`" not in text:
        return 0
    return max((len(m) for m in _BACKTICK_RUN.findall(text)), default=0)


def _reference_code(text: str) -> str:
    text = md.one_line(text)
    if "`" not in text:
        return f"` {text} `" if text.startswith(" ") or text.endswith(" ") else f"`{text}`"
    ticks = "`" * (_reference_longest_backtick_run(text) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _reference_escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", md.one_line(text))


def _reference_no_html(text: str) -> str:
    parts = []
    for is_code, part in md._code_spans(text):
        parts.append(part if is_code else part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(parts)


_NUMBERED = re.compile(r"^(\d+)([.)])(?=\s)")


def _reference_prose(text: str) -> str:
    text = " ".join(text.split())
    if text.count("`") % 2:
        text = text.replace("`", "\\`")
    text = _reference_no_html(text).replace("|", "\\|")
    if text.startswith(("#", "-", "+", "*", "=")):
        text = "\\" + text
    return _NUMBERED.sub(r"\1\\\2", text) if text[:1].isdigit() else text


def _reference_anchor_id(name: str) -> str:
    slug = name.lower() if _WORD.fullmatch(name) else _NOT_WORD.sub("-", name).strip("-").lower()
    return "sym-" + (slug or "x")


def _reference_relpath(target: str, start_dir: str) -> str:
    target, start_dir = target or ".", start_dir or "."
    if target.startswith("/") or start_dir.startswith("/") or ".." in target or ".." in start_dir:
        return posixpath.relpath(target, start_dir)
    return posixpath.relpath("/" + target, "/" + start_dir)


# ---------------------------------------------------------------------------------------------------
# inputs

HOSTILE = [
    "",
    " ",
    "plain",
    "snake_case_name",
    "__init__.py_kw.md",
    "_*x",
    "snake_case`code`",
    "under_score\nnewline",
    "Class.method",
    "a..b",
    ".hidden",
    "trailing.",
    "-leading-dash",
    "imp-os.path",
    "imp-.relative",
    "ns::fn",
    "`",
    "``",
    "a `b` c",
    "```fence```",
    "\\`escaped`",
    "` lead",
    "trail `",
    "<script>alert(1)</script>",
    "a & b < c > d",
    "`<b>` & <i>",
    "| cell | cell |",
    "line one\nline two\r\nthree\rfour",
    "[link](http://x) ![img](y)",
    "*bold* _em_ __dunder__ ~strike~ #hash !bang",
    "Ünïcödé ß 名前 🐍",
    "ÄÖÜ.straße",
    "control \x00\x01\x1b[31m\x7f chars",
    "\u2028line separator\u2029",
    "tab\there",
    "double  space",
    " leading and trailing ",
    "# heading-like",
    "1. numbered",
    "12) numbered",
    "+ plus",
    "nbsp\xa0and\u3000ideographic",
    "a" * 3000,
    "`" * 70 + "x" + "`" * 33,
    "x" + "`" * 64 + "y" + "`" * 65,
]

# an alphabet weighted towards what the slow paths handle: markdown and HTML specials, line ends,
# backticks, separators, control characters and non-ASCII
ALPHABET = (
    st.sampled_from(list("\\`*_[]<>#|~!&\r\n\t ./-:aZ09=+1\x00\x1b\x1c\x85\xa0\u3000é名🐍\u2028")) | st.characters()
)
# and short texts of specials alone, where one special right after another is likely
SPECIALS = st.sampled_from(list("_\\`*[]<>#|~!&\r\n a1"))
texts = st.text(ALPHABET, max_size=60) | st.text(SPECIALS, max_size=8) | st.sampled_from(HOSTILE)
path_parts = st.sampled_from(["a", "b", "docs", ".", "", "..", "x y", "é", "c.py", "_", "-"])
paths = st.lists(path_parts, max_size=5).map("/".join) | st.sampled_from(["", ".", "/", "/a", "a//b", "./a/"])


@settings(max_examples=800, deadline=None)
@given(texts)
def test_code_is_the_slow_code(text: str) -> None:
    assert md.code(text) == _reference_code(text)


@settings(max_examples=800, deadline=None)
@given(texts)
def test_escape_is_the_slow_escape(text: str) -> None:
    assert md.escape(text) == _reference_escape(text)


@settings(max_examples=800, deadline=None)
@given(texts)
def test_no_html_is_the_slow_no_html(text: str) -> None:
    assert md.no_html(text) == _reference_no_html(text)


@settings(max_examples=800, deadline=None)
@given(texts)
def test_prose_and_link_keep_their_output(text: str) -> None:
    """prose and link are built on no_html and escape: whatever their fast paths change shows here too."""
    assert md.link(text, "t") == f"[{_reference_escape(text)}](t)"
    assert md.prose(text) == _reference_prose(text)


@settings(max_examples=800, deadline=None)
@given(texts | st.builds(lambda a, n, b: a + "`" * n + b, texts, st.integers(0, 300), texts))
@example("`" * 1)
@example("`" * 2 + "x" + "`" * 3)
@example("`" * 255 + "y" + "`" * 256)
def test_longest_backtick_run_is_the_slow_one(text: str) -> None:
    assert md.longest_backtick_run(text) == _reference_longest_backtick_run(text)
    assert md.fence(text) == md.fence(text)  # fence is built on it, and stays total


@settings(max_examples=800, deadline=None)
@given(texts | st.lists(st.sampled_from(["a", "B", "_", "1", ".", "-", "..", "é", ":", " "]), max_size=8).map("".join))
def test_anchor_id_is_the_slow_one(name: str) -> None:
    assert md.anchor_id(name) == _reference_anchor_id(name)
    assert md.anchor_id("imp-" + name) == _reference_anchor_id("imp-" + name)


@settings(max_examples=1500, deadline=None)
@given(paths, paths)
@example("a/b/c.py", "docs/a/b")
@example("c.py", "docs")
@example("a/b", "a/b")
@example("", "")
@example("a", "a/b/c")
def test_relpath_is_posixpaths(target: str, start_dir: str) -> None:
    assert md.relpath(target, start_dir) == _reference_relpath(target, start_dir)


def test_prose_knows_every_whitespace() -> None:
    """prose's fast path lists the whitespace str.split() splits on, searching code points up to U+3000."""
    import sys

    assert {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()} == set(md._OTHER_SPACE) | {" "}


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings(text: str) -> None:
    assert md.code(text) == _reference_code(text)
    assert md.escape(text) == _reference_escape(text)
    assert md.no_html(text) == _reference_no_html(text)
    assert md.prose(text) == _reference_prose(text)
    assert md.anchor_id(text) == _reference_anchor_id(text)
    assert md.longest_backtick_run(text) == _reference_longest_backtick_run(text)
    assert md.utf8_len(text) == len(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=500, deadline=None)
@given(st.lists(texts, max_size=20), st.integers(0, 400))
def test_room_counts_utf8_bytes(items: list[str], left: int) -> None:
    """Room.split measures each item without encoding the ASCII ones: the same cut as encoding all."""
    items = [i.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for i in items]
    room = md.Room(0)
    room.left = left
    kept, note = room.split(items, "things")
    budget, expected = left, 0
    for item in items:
        if len(item.encode("utf-8")) + 1 > budget:
            break
        budget -= len(item.encode("utf-8")) + 1
        expected += 1
    assert kept == items[:expected]
    assert bool(note) == (expected < len(items))
    assert room.left == (budget if expected == len(items) else 0)


@settings(max_examples=800, deadline=None)
@given(st.binary(max_size=80) | st.text(ALPHABET, max_size=40).map(lambda t: t.encode("utf-8", "replace")))
@example(codecs.BOM_UTF8 + "é".encode())
@example(codecs.BOM_UTF8 * 2)
@example(b"\xef\xbb")
@example(codecs.BOM_UTF8 + b"\xff")
def test_text_bytes_is_the_encoded_size(data: bytes) -> None:
    """The source's size comes from its bytes when they were valid UTF-8, without encoding the text."""
    text, note = file_pages.decode(data)
    assert file_pages._text_bytes(data, text, note) == len(text.encode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(
    st.text(ALPHABET, max_size=200).map(lambda t: t.encode("utf-8", "replace").decode("utf-8")),
    st.integers(0, 120),
    st.sampled_from(["a.py", "dir/é.md", "x.c", "Makefile"]),
    st.sampled_from(["", "python", "tëxt"]),
)
def test_source_section_knows_its_size(text: str, embed_max_bytes: int, path: str, fence: str) -> None:
    """_source's size of the section it makes (cut or not, fenced or not, whatever the fence's language
    tag) is that section's UTF-8 size."""
    config = Config(embed_max_bytes=embed_max_bytes)
    data = text.encode("utf-8")
    lang = file_pages.language_of(path)
    lang = Language(lang.type_name, fence, lang.spec)
    ctx = file_pages._Ctx(path, posixpath.basename(path), config, lang, file_pages.Analysis())
    section, size = file_pages._source(ctx, text, len(data), config)
    assert size == len(section.encode("utf-8"))


def _reference_anchors(analysis: Analysis) -> dict[str, str]:
    used: set[str] = set()
    tried: dict[str, int] = {}
    anchors: dict[str, str] = {}
    keys = [(f"sym#{n}", s.name) for n, s in enumerate(analysis.symbols)]
    keys += [(f"imp:{i.module}", i.module) for i in analysis.imports]
    for key, name in keys:
        if key in anchors:
            continue
        base = _reference_anchor_id(("imp-" if key.startswith("imp:") else "") + md.shown(name))
        n = tried.get(base, 1)
        candidate = base if n == 1 else f"{base}-{n}"
        while candidate in used:
            n += 1
            candidate = f"{base}-{n}"
        tried[base] = n
        used.add(candidate)
        anchors[key] = candidate
    return anchors


# names whose slugs collide: with each other, with numbered suffixes, and between symbols and imports
COLLIDING = st.sampled_from(
    ["a", "A", "a-2", "a_2", "a.2", "a-3", "a--2", "imp-x", "x", "X.y", "x-y", "-", "", "é", "a" * 2100]
)


@settings(max_examples=800, deadline=None)
@given(st.lists(COLLIDING, max_size=12), st.lists(COLLIDING, max_size=8))
def test_anchors_are_the_slow_anchors(names: list[str], modules: list[str]) -> None:
    """_anchors (by position, a slug's first use taken at once) gives every symbol and import the id
    the keyed version did, collisions and numbered suffixes included."""
    analysis = Analysis(
        symbols=[Symbol("Functions", "function", name) for name in names],
        imports=[Import(module, 1) for module in modules],
    )
    symbols, imports = file_pages._anchors(analysis)
    expected = _reference_anchors(analysis)
    assert symbols == [expected[f"sym#{n}"] for n in range(len(names))]
    assert imports == {module: expected[f"imp:{module}"] for module in modules}
