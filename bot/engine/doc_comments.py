"""The one-line summary of a doc comment: its first sentence (pure).

Rules of this module: the summary is prose the author wrote, never a tag line (`@param …`), a directive
(`//go:noinline`), a Markdown table row, list item, heading, rule or code block; comment markers and the
leading `*` of block comments are stripped; Javadoc's inline tags and simple HTML become Markdown, so that
the page renders the summary as it renders a Python docstring's (file_pages: `md.prose`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

SUMMARY_SHOWN = 400  # characters of a summary a page shows (cut at a word, with an ellipsis)

# Rust's doc comments are `///` and `/** */` only (`//!` and `/*!` document the enclosing module; a
# plain `//` is not rustdoc)
_RUST_OUTER = re.compile(r"^(///(?!/)|/\*\*(?![*/]))")
_DIRECTIVE = re.compile(r"^//(go:|line |export |extern |nolint|lint:|\+build|#)")  # Go's machine-read lines
_TAG = re.compile(r"^@[A-Za-z]")  # JSDoc / Javadoc block tags end the description
_NOT_PROSE = re.compile(
    r"^(\|"  # a table row
    r"|[-*+]\s|\d+[.)]\s"  # a list item
    r"|#{1,6}(\s|$)"  # a heading
    r"|(-{3,}|\*{3,}|_{3,}|={3,})\s*$"  # a rule or a setext underline
    r"|```|~~~"  # a code block
    r"|<[a-z]+[^>]*>\s*$)"  # a lone HTML tag
)
_INLINE_CODE_TAG = re.compile(r"\{@(?:code|literal)\s+([^{}]*)\}")
_INLINE_LINK_TAG = re.compile(r"\{@(?:link|linkplain|see)\s+([^{}\s]+)(?:\s+([^{}]*))?\}")
_INLINE_OTHER_TAG = re.compile(r"\{@[a-zA-Z]+\s*([^{}]*)\}")
_HTML_CODE = re.compile(r"<(code|tt)>(.*?)</\1>", re.IGNORECASE)
_HTML_FORMAT = re.compile(r"</?(b|i|em|strong|u|small|big|sup|sub|a|span|br|p)\b[^>]*>", re.IGNORECASE)
_PARAGRAPH_TAG = re.compile(r"<p\s*/?>|</p>|<br\s*/?>\s*<br\s*/?>", re.IGNORECASE)
# a sentence ends at `.`, `!` or `?` before white space, except in a few abbreviations
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<!\bcf)(?<!\bapprox)[.!?](?=\s)")


def rustdoc(text: str) -> str | None:
    """Rust's doc comments: `///` and `/** */` document what follows; `//!`, `/*!` and `//` do not."""
    return text if _RUST_OUTER.match(text) is not None else None


def godoc(text: str) -> str:
    """Go's doc comments without the lines machines read (`//go:noinline`, `//nolint`, …)."""
    return "\n".join(line for line in text.split("\n") if not _DIRECTIVE.match(line.strip()))


def comment_lines(text: str) -> list[str]:
    """A comment's lines without their markers (`//`, `///`, `//!`, `#`, `/*`, `/**`, `*/`, a leading `*`)."""
    text = text.strip()
    lines: list[str] = []
    if text.startswith("/*"):
        body = text[2:].removesuffix("*/")
        body = body.lstrip("*!")
        for raw in body.split("\n"):
            line = raw.strip()
            if line.startswith("*") and not line.startswith("**"):
                line = line[1:]
            elif line.startswith("**") and not line.startswith("***"):
                line = line[1:]  # ` ** text`: a decorated margin, not emphasis
            lines.append(line.rstrip())
        return lines
    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith("//"):
            line = re.sub(r"^//[/!]?", "", line)
        elif line.startswith("#"):
            line = line.lstrip("#")
        lines.append(line.rstrip())
    return lines


def summary(style: Callable[[str], str | None], comments: list[str]) -> str:
    """The first sentence of the doc comment made of comments (each one comment's text, top to bottom);
    style is the language's (its spec's `doc_comment`): the documenting part of one comment, or None."""
    lines: list[str] = []
    for text in comments:
        kept = style(text)
        if kept is not None:
            lines += comment_lines(kept)
    return first_sentence(lines)


def first_sentence(lines: list[str]) -> str:
    """The first sentence of the first prose paragraph of lines (a tag line ends the prose)."""
    paragraph: list[str] = []
    for raw in lines:
        line = raw.strip()
        if _TAG.match(line):
            break
        if not line or _NOT_PROSE.match(line) or _PARAGRAPH_TAG.fullmatch(line):
            if paragraph:
                break
            continue
        split = _PARAGRAPH_TAG.split(line, 1)
        if split[0].strip():
            paragraph.append(split[0].strip())
        if len(split) > 1 and paragraph:
            break
    text = _inline(" ".join(paragraph))
    return _clip(_first(text))


def _inline(text: str) -> str:
    """Javadoc / JSDoc inline tags and simple HTML as Markdown."""
    text = _INLINE_CODE_TAG.sub(lambda m: f"`{m.group(1).strip()}`", text)
    text = _INLINE_LINK_TAG.sub(lambda m: (m.group(2) or "").strip() or f"`{m.group(1)}`", text)
    text = _INLINE_OTHER_TAG.sub(lambda m: m.group(1).strip(), text)
    text = _HTML_CODE.sub(lambda m: f"`{m.group(2)}`", text)
    text = _HTML_FORMAT.sub("", text)
    return " ".join(text.split())


def _first(text: str) -> str:
    """Text up to the end of its first sentence, never cut inside a code span."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"(`+)(?:(?!\1).)*?\1", text)]
    for match in _SENTENCE_END.finditer(text):
        if not any(start < match.start() < end for start, end in spans):
            return text[: match.end()]
    return text


def _clip(text: str) -> str:
    if len(text) <= SUMMARY_SHOWN:
        return text
    cut = text[: SUMMARY_SHOWN - 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    if cut.count("`") % 2:
        cut = cut[: cut.rfind("`")].rstrip()
    return cut + " …"
