"""Markdown building blocks: code spans, fences, escaped link text and percent-encoded links.

Rules of this module: every function is pure and total; any string a file name can hold
(spaces, backticks, brackets, `#`, `*`, `|`, leading dashes, non-ASCII) must come out as
markdown that renders as that name and, for links, resolves to that file.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from urllib.parse import quote

PAGE_MAX_BYTES = 2_000_000  # no page is longer: its longest lists are cut, with a count of what is left out
NAME_SHOWN = 2_000  # characters of one name, signature or doc line a page shows
TEXT_SHOWN = 100_000  # characters of one docstring or paragraph a page shows

_BACKTICK_RUN = re.compile(r"`+")
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~/-]*")  # what quote(…, safe="/") leaves as it is
_NUMBERED = re.compile(r"^(\d+)([.)])(?=\s)")  # what would start an ordered list
_WORDS = re.compile(r"[0-9A-Za-z_]+(?:[.-][0-9A-Za-z_]+)*")  # words joined by single dots or dashes
_NOT_WORD = re.compile(r"[^0-9A-Za-z_]+")
_SPECIALS = "\\`*_[]<>#|~!"  # what escape() puts a backslash before
# Fast paths: most names, paths and doc lines hold nothing these look for, and one regex search that
# finds nothing is far cheaper than the work it saves (tests/test_render_fast_paths.py checks each
# fast path against the slow one).
_ESCAPED = re.compile(rf"[{re.escape(_SPECIALS)}\r\n]")  # what escape() changes: specials and line ends
_ESCAPED_BUT_UNDERSCORE = re.compile(rf"[{re.escape(_SPECIALS.replace('_', ''))}\r\n]")
_ESCAPES = str.maketrans({"\r": " ", "\n": " ", **{c: "\\" + c for c in _SPECIALS}})
_HTML_OR_TICK = re.compile(r"[&<>`]")  # what no_html() can change or split on
# whitespace other than the space (str.split()'s, which the regex \s shares; none lies above U+3000)
_OTHER_SPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != " ")
_PROSE_CHANGES = re.compile(f"[`&<>|{re.escape(_OTHER_SPACE)}]")  # what prose() rewrites, but for "  "


def longest_backtick_run(text: str) -> int:
    """Length of the longest run of backticks in text. A run of n backticks holds every shorter run, so
    `"`" * n in text` is true up to the answer and false after it: a step at a time up to the common
    answers (RST's ``), then doubling and halving, finds it in a few substring searches (C speed)
    instead of listing every run (a whole source file is searched)."""
    if "`" not in text:
        return 0
    found = 1  # a run this long is in text
    while found < 4 and "`" * (found + 1) in text:  # the common answers (1 to 3), one search each
        found += 1
    if found < 4:
        return found
    while "`" * (2 * found) in text:
        found *= 2
    absent = 2 * found  # no run this long is
    while absent - found > 1:
        middle = (found + absent) // 2
        if "`" * middle in text:
            found = middle
        else:
            absent = middle
    return found


_LINE_ENDS = str.maketrans({"\r": " ", "\n": " "})


def one_line(text: str) -> str:
    """Text on one line: markdown's line endings (`\\r`, `\\n`), which would end a heading, a table row
    or a list item, become spaces; other control characters stay inside their span."""
    return text.translate(_LINE_ENDS) if "\n" in text or "\r" in text else text


def code(text: str) -> str:
    """An inline code span that shows text literally, whatever backticks it holds."""
    if "`" not in text:  # the common case, in one step
        if "\n" in text or "\r" in text:
            text = text.translate(_LINE_ENDS)
        return f"` {text} `" if text[:1] == " " or text[-1:] == " " else f"`{text}`"
    text = one_line(text)
    ticks = "`" * (longest_backtick_run(text) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def cell_code(text: str) -> str:
    """A code span safe inside a GFM table cell (pipes escaped)."""
    return code(text).replace("|", "\\|")


def escape(text: str) -> str:
    """Escape text so markdown shows it as written (link text, table cells): a backslash before each
    markdown special character, line ends as spaces (one table of both, applied once; text holding
    neither, the common case, is returned as it is; text whose only special is `_`, as in most Python
    names and paths, needs one replace)."""
    found = _ESCAPED.search(text)
    if found is None:
        return text
    if found[0] == "_" and not _ESCAPED_BUT_UNDERSCORE.search(text, found.end()):
        return text.replace("_", "\\_")
    return text.translate(_ESCAPES)


def prose(text: str) -> str:
    """Author-written prose (a docstring line, a README paragraph) as one line of inline markdown:
    its code spans and emphasis kept, but never HTML, a table-breaking pipe, or an unclosed span."""
    if "  " in text or text[:1] == " " or text[-1:] == " " or _PROSE_CHANGES.search(text):
        text = " ".join(text.split())
        if text.count("`") % 2:
            text = text.replace("`", "\\`")
        text = no_html(text).replace("|", "\\|")
    # else: words between single spaces, no code span, HTML or pipe: the steps above keep it as it is
    if text.startswith(("#", "-", "+", "*", "=")):
        text = "\\" + text
    return _NUMBERED.sub(r"\1\\\2", text) if text[:1].isdigit() else text


def no_html(text: str) -> str:
    """Markdown whose code spans are shown as written and whose other text is never read as HTML."""
    if not _HTML_OR_TICK.search(text):  # no code span to keep, nothing to neutralise
        return text
    parts = []
    for is_code, part in _code_spans(text):
        parts.append(part if is_code else part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(parts)


def _code_spans(text: str) -> list[tuple[bool, str]]:
    """Text split as CommonMark reads it: (True, a code span) and (False, the rest), in order. A backtick
    run opens a span closed by the next run of the same length; one escaped by a backslash opens
    nothing; a run that is never closed is escaped, so text after the prose cannot close it."""
    runs = [(m.start(), m.end()) for m in _BACKTICK_RUN.finditer(text)]
    starts_by_length: dict[int, list[int]] = {}
    for start, end in runs:
        starts_by_length.setdefault(end - start, []).append(start)
    ends = dict(runs)
    parts: list[tuple[bool, str]] = []
    plain = 0  # where the text not yet split off starts
    for start, end in runs:
        if start < plain:
            continue  # inside a code span already split off
        slashes = start
        while slashes > plain and text[slashes - 1] == "\\":
            slashes -= 1
        if (start - slashes) % 2:  # the first backtick is escaped: the rest is a run of its own
            start += 1
            if start == end:
                continue
        same = starts_by_length.get(end - start, [])
        after = bisect.bisect_right(same, start)
        closer = same[after] if after < len(same) else -1
        if closer >= 0:
            parts += [(False, text[plain:start]), (True, text[start : ends[closer]])]
            plain = ends[closer]
        else:
            parts += [(False, text[plain:start]), (True, "\\`" * (end - start))]
            plain = end
    parts.append((False, text[plain:]))
    return parts


def clip(text: str, limit: int = 160) -> str:
    """Text cut at a word boundary before limit, with a visible ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    if cut.count("`") % 2:
        cut = cut[: cut.rfind("`")].rstrip()
    return cut + " …"


def shown(text: str, limit: int = NAME_SHOWN) -> str:
    """Text as a page shows it: whole up to limit characters, else cut with a visible ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Room:
    """The bytes left on one page for its lists, shared by all of them: the one place a page's size is
    capped. A list that does not fit is cut, and says how many of its items are left out."""

    NOTE_BYTES = 200  # kept back for each list's cut note

    def __init__(self, fixed: int, lists: int = 32) -> None:
        self.left = PAGE_MAX_BYTES - fixed - lists * self.NOTE_BYTES

    def take(self, items: list[str], what: str) -> list[str]:
        """The leading items that fit (each a line), then, if any did not, a line counting the rest."""
        kept, note = self.split(items, what)
        return [*kept, note] if note else kept

    def split(self, items: list[str], what: str) -> tuple[list[str], str]:
        """The leading items that fit, and the note counting those left out ('' when none are)."""
        size = utf8_len("\n".join(items)) + 1 if items else 0  # every item's bytes and newline
        if size <= self.left:  # the common case: all fit
            self.left -= size
            return list(items), ""
        kept: list[str] = []
        for item in items:  # utf8_len, inline: this loop sees every line of every list
            size = (len(item) if item.isascii() else len(item.encode("utf-8"))) + 1
            if size > self.left:
                self.left = 0
                left_out = len(items) - len(kept)
                return (
                    kept,
                    f"- … and {left_out:,} more {what}, left out: a page holds at most {PAGE_MAX_BYTES:,} bytes",
                )
            self.left -= size
            kept.append(item)
        return kept, ""


def utf8_len(text: str) -> int:
    """len(text.encode("utf-8")), without the encoding when text is ASCII (str.isascii() reads a flag
    CPython keeps on every str: no scan)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def fence(body: str, lang: str = "") -> str:
    """A fenced block that no backtick run inside body can close."""
    ticks = "`" * max(3, longest_backtick_run(body) + 1)
    if not body.endswith("\n"):
        body += "\n"
    return f"{ticks}{lang}\n{body}{ticks}\n"


def href(target: str) -> str:
    """Percent-encode a relative path so it works as a markdown link target."""
    return target if _UNQUOTED.fullmatch(target) else quote(target, safe="/")


def link(text: str, target: str) -> str:
    """A markdown link with escaped text and an encoded target."""
    return f"[{escape(text)}]({href(target)})"


def code_link(text: str, target: str) -> str:
    """A link whose text is a code span."""
    return f"[{code(text)}]({href(target)})"


def relpath(target: str, start_dir: str) -> str:
    """Relative path from the folder start_dir to target, both relative to one root."""
    if target.startswith("/") or start_dir.startswith("/") or ".." in target or ".." in start_dir:
        return posixpath.relpath(target or ".", start_dir or ".")
    # posixpath.relpath("/" + target, "/" + start_dir) step by step, without its normpath and abspath:
    # with no `..` and no leading `/`, normalising only drops empty and `.` parts
    to = [part for part in target.split("/") if part and part != "."]
    start = [part for part in start_dir.split("/") if part and part != "."]
    common = 0
    for a, b in zip(to, start, strict=False):  # the common leading parts
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(start) - common) + to[common:]) or "."


def anchor_id(name: str) -> str:
    """A lowercase HTML id derived from a symbol name (callers make it unique)."""
    if _WORDS.fullmatch(name):  # `Class.method`, `imp-os.path`: each separator is one run of non-word
        slug = name.replace(".", "-").lower()
    else:
        slug = _NOT_WORD.sub("-", name).strip("-").lower()
    return "sym-" + (slug or "x")


def footer(line: str) -> str:
    """The closing rule and footer every page ends with (the config's Markdown, never its HTML)."""
    return f"---\n\n{no_html(line)}\n"
