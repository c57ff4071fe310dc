"""The two pages of one source file, `X_docs.md` and `X_kw.md`, and its summary (pure).

Rules of this module: a file's pages depend on its path, its bytes and the config alone:
no sibling is named, no clock is read. Every list is complete; counts are len() of the lists.
"""

from __future__ import annotations

import codecs
import hashlib
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from . import md
from .analyze import analyze
from .analyze_python import project_packages
from .config import Config
from .languages import Language, extension_of, language_of
from .model import Analysis, FileSummary, Symbol
from .names import name_reason
from .stdlib import VERSIONS

_INDEX_LINK = md.link("index.md", "index.md")  # links every file's pages hold, made once
_DOC_LINK = md.link("doc.md", "doc.md")
KEY_NAMES_GROUPS = ("Classes", "Classes/Structs", "Types", "Functions", "Methods", "Headings", "Keys", "Targets")
_KEY_NAMES_GROUPS = frozenset(KEY_NAMES_GROUPS)


def blob_id(data: bytes | Iterable[bytes], size: int = 0) -> str:
    """The git blob id of data, as `git hash-object` computes it: bytes, or chunks of `size` bytes in all
    (a large file is hashed as it is read, never held whole)."""
    if isinstance(data, bytes):  # the header, then data itself: no copy of data with the header in front
        digest = hashlib.sha1(b"blob %d\0" % len(data))
        digest.update(data)
        return digest.hexdigest()
    digest = hashlib.sha1(b"blob %d\0" % size)
    for chunk in data:
        digest.update(chunk)
    return digest.hexdigest()


def page_names(path: str) -> tuple[str, str]:
    """Docs-relative paths of a source file's two pages."""
    return path + "_docs.md", path + "_kw.md"


@dataclass(frozen=True)
class FileResult:
    """A source file's pages (docs-relative path -> text) and its summary for the folder."""

    pages: dict[str, str]
    summary: FileSummary


def format_size(size: int) -> str:
    """`5,967 bytes (5.83 KB)`, MB above 1024 KB."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size:,} bytes ({size / 1024:.2f} KB)"
    return f"{size:,} bytes ({size / 1024 / 1024:.2f} MB)"


FAILED = "repodoc failed on this file"  # the reason for a file whose analysis raised, locally and in the App


def too_large(size: int, config: Config) -> str:
    """Why a file of this size is not documented, or '' (the one wording every caller uses, so that
    the App's pages, which know sizes from tree listings, match a local run's byte for byte)."""
    if size > config.max_file_bytes:
        return f"larger than max_file_bytes ({size:,} > {config.max_file_bytes:,} bytes)"
    return ""


def skip_reason(data: bytes, config: Config) -> str:
    """Why a file cannot be documented at all, or '' (size first, as the callers that know only sizes)."""
    return too_large(len(data), config) or ("binary (holds NUL bytes)" if b"\0" in data else "")


def decode(data: bytes) -> tuple[str, str]:
    """Text of the file and a note when it was not valid UTF-8."""
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        note = f"not valid UTF-8 (first bad byte at offset {exc.start}); shown with replacement characters"
        return data.decode("utf-8", "replace"), note


def not_documented(path: str, blob: str, reason: str) -> FileResult:
    """The result for a file that gets no pages, only a line in its folder's index."""
    return FileResult({}, FileSummary(posixpath.basename(path), blob, False, reason))


def render_file(path: str, data: bytes, config: Config) -> FileResult:
    """Both pages of one source file and its summary; never raises on bad input."""
    name = posixpath.basename(path)
    blob = blob_id(data)
    reason = name_reason(path) or skip_reason(data, config)
    if reason:
        return not_documented(path, blob, reason)
    text, note = decode(data)
    lang = language_of(path, data[:200].split(b"\n", 1)[0])
    analysis = analyze(path, text, data, lang, config)
    ctx = _Ctx(path, name, config, lang, analysis)
    docs_page, kw_page = page_names(path)
    pages = {
        docs_page: _docs_page(ctx, data, text, note, blob, config),
        kw_page: _kw_page(ctx, config, not text or text.isspace()),  # `not text.strip()`, without a copy
    }
    return FileResult(pages, _summary(ctx, name, blob, note))


class _Ctx:
    """What the sections of a file's pages read, computed once per file: the anchors, and the spans,
    links and lines several sections share. A plain class with slots: its fields are read in the
    pages' innermost loops."""

    __slots__ = (
        "path",
        "lang",
        "analysis",
        "sym_anchors",
        "imp_anchors",
        "name",
        "folder",
        "path_code",
        "folder_code",
        "source_link",
        "source",
        "footer",
        "count_line",
    )

    def __init__(self, path: str, name: str, config: Config, lang: Language, analysis: Analysis) -> None:
        self.path = path
        self.lang = lang
        self.analysis = analysis
        self.sym_anchors, self.imp_anchors = _anchors(analysis)
        folder = posixpath.dirname(path)
        self.name = name
        self.folder = folder or "."
        self.path_code, self.folder_code = md.code(path), md.code(self.folder)  # each shown on both pages
        self.source_link = md.relpath(path, posixpath.join(config.docs_dir, folder))
        self.source = md.link(path, self.source_link)  # the link to the file, its path as text
        self.footer = md.footer(config.footer)
        self.count_line = count_line(analysis)


# Code spans and import anchors remembered across files: most signatures (`(self)`), imported modules
# and imported names recur from file to file (on Django about 90%, 90% and 70% of them), and a symbol's
# name is shown on both of its file's pages. What is remembered is what md's pure functions would make
# again. A plain dict (a look-up costs less than functools.lru_cache's), emptied when full; only short
# texts are kept, so it holds a few MB at most.
REMEMBERED = 8192
REMEMBERED_LENGTH = 200
_codes: dict[str, str] = {}
_module_anchors: dict[str, str] = {}


def _code(text: str) -> str:
    """md.code(md.shown(text)), remembered."""
    span = _codes.get(text)
    if span is None:
        span = _remember(_codes, text, md.code(text if len(text) <= md.NAME_SHOWN else md.shown(text)))
    return span


def _module_anchor(module: str) -> str:
    """The base html id of an imported module (before _anchors makes it unique), remembered."""
    slug = _module_anchors.get(module)
    if slug is None:
        slug = _remember(_module_anchors, module, md.anchor_id("imp-" + md.shown(module)))
    return slug


def _remember(memory: dict[str, str], key: str, value: str) -> str:
    """Keep value for a short key in memory, emptied when full; return value."""
    if len(key) <= REMEMBERED_LENGTH:
        if len(memory) >= REMEMBERED:
            memory.clear()
        memory[key] = value
    return value


def _anchors(analysis: Analysis) -> tuple[list[str], dict[str, str]]:
    """A unique html id per symbol (one per entry: the same name in two groups, or two headings of one
    text, get two; listed in the order of analysis.symbols) and per imported module; each slug's next
    free suffix is remembered (ids only get taken, so the search for a free one resumes where it
    stopped: linear, not quadratic)."""
    used: set[str] = set()
    tried: dict[str, int] = {}  # base slug -> the last suffix tried for it
    modules = list(dict.fromkeys([i.module for i in analysis.imports]))
    shown = md.NAME_SHOWN
    bases = [md.anchor_id(s.name if len(s.name) <= shown else md.shown(s.name)) for s in analysis.symbols]
    bases += [_module_anchor(module) for module in modules]
    ids: list[str] = []
    for base in bases:
        if base not in used:  # the common case: a slug's first use (a slug in tried is in used)
            used.add(base)
            ids.append(base)
            continue
        n = tried.get(base, 1)
        candidate = base if n == 1 else f"{base}-{n}"
        while candidate in used:
            n += 1
            candidate = f"{base}-{n}"
        tried[base] = n
        used.add(candidate)
        ids.append(candidate)
    symbols = len(analysis.symbols)
    return ids[:symbols], dict(zip(modules, ids[symbols:], strict=True))


def _docs_page(ctx: _Ctx, data: bytes, text: str, note: str, blob: str, config: Config) -> str:
    """The sections of fixed size first; the lists share what is left of the page (md.Room)."""
    source, source_bytes = _source(ctx, text, _text_bytes(data, text, note), config)
    title, overview = f"# Documentation: {ctx.path_code}\n", _overview(ctx)
    metadata, purpose = _metadata(ctx, data, blob), _purpose(ctx, note)
    tail = [
        f"## Related Files\n\n- Folder index: {_INDEX_LINK}, which lists every file of {ctx.folder_code}\n",
        _cross_refs(ctx),
        ctx.footer,
    ]
    # each part's UTF-8 size and its joining newline (the source's size is known without encoding it)
    room = md.Room(source_bytes + 1 + md.utf8_len("\n".join([title, metadata, purpose, overview, *tail])) + 1)
    lists = [
        _structure(ctx, room),
        _architecture(ctx, room),
        _dependencies(ctx, room),
        _findings(ctx, room, "patterns", "Code Patterns & Idioms"),
        _findings(ctx, room, "performance", "Performance Considerations"),
        _findings(ctx, room, "security", "Security & Safety"),
        _testing(ctx, room),
    ]
    return "\n".join([title, metadata, purpose, source, overview, *lists, *tail])


def _metadata(ctx: _Ctx, data: bytes, blob: str) -> str:
    ext = extension_of(ctx.path)
    return (
        "## File Metadata\n\n"
        f"- **Path**: {ctx.path_code}\n"
        f"- **Size**: {format_size(len(data))}\n"
        f"- **Type**: {ctx.lang.type_name}\n"
        f"- **Extension**: {md.code(ext) if ext else 'none'}\n"
        f"- **Source blob**: {md.code(blob)}\n"
    )


def _counts(analysis: Analysis) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sym in analysis.symbols:
        counts[sym.kind] = counts.get(sym.kind, 0) + 1
    return counts


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    if word.endswith(("s", "sh", "ch")):
        return f"{n} {word}es"
    if word.endswith("y") and word[-2:] not in ("ey", "ay", "oy"):
        return f"{n} {word[:-1]}ies"
    return f"{n} {word}s"


def count_line(analysis: Analysis) -> str:
    """'3 classes, 5 functions and 2 imports' (every count equals its list)."""
    counts = _counts(analysis)
    words = [_plural(n, kind) for kind, n in sorted(counts.items())]
    if analysis.imports:
        words.append(_plural(len(analysis.imports), analysis.import_group.lower().rstrip("s")))
    if not words:
        return "no definitions"
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]


def _purpose(ctx: _Ctx, note: str) -> str:
    a = ctx.analysis
    lines = [f"This file ({ctx.lang.type_name}) holds {ctx.count_line}."]
    if a.is_package_init:
        lines.append(f"It is the `__init__` of the package {md.code(a.package)}.")
    if a.docstring:
        first = md.prose(md.shown(a.docstring.strip().partition("\n\n")[0], md.TEXT_SHOWN))
        lines.append(f"Its {'docstring' if ctx.lang.key == 'python' else 'opening paragraph'} says: {first}")
    if a.test_framework and a.tests_inline:
        lines.append(
            f"It contains {_plural(len(a.tests), 'test')} for {a.test_framework}, in a test module beside its code."
        )
    elif a.test_framework:
        lines.append(f"It is a test file: it holds {_plural(len(a.tests), 'test')} for {a.test_framework}.")
    if a.main_guard:
        lines.append(f'It runs as a script: `if __name__ == "__main__":` at line {a.main_guard}.')
    if a.error:
        lines.append(f"It could not be fully analysed: {md.prose(a.error)}.")
    if a.partial:
        lines.append(
            f"It was partly analysed: the {a.parser} grammar gave up at line {a.partial} (a grammar's limit, "
            "not a verdict on the code); what it did read is listed."
        )
    if a.fallback:
        lines.append(f"{md.prose(a.fallback)}.")
    if note:
        lines.append(f"Its bytes are {note}.")
    return "## File Purpose\n\n" + "\n".join(lines) + "\n"


FENCE_SLACK = 10_000  # bytes a source's fence lines may add to embed_max_bytes before the source is cut more


def _text_bytes(data: bytes, text: str, note: str) -> int:
    """len(text.encode("utf-8")) for the text decode(data) gave: data's own length when it was valid
    UTF-8 (decoding dropped only a leading byte order mark), so a large source is never encoded again."""
    if note:
        return len(text.encode("utf-8"))
    return len(data) - 3 if data.startswith(codecs.BOM_UTF8) else len(data)


def _source(ctx: _Ctx, text: str, text_bytes: int, config: Config) -> tuple[str, int]:
    """The source section, and its size in UTF-8 bytes (text_bytes is text's)."""
    head = "## Original Source\n\n"
    if not config.embed_source:
        section = head + f"Not embedded (`embed_source: false`): see {md.link(ctx.name, ctx.source_link)}.\n"
        return section, md.utf8_len(section)
    limit = config.embed_max_bytes
    lang = ctx.lang.fence
    while True:  # a fence is one backtick longer than the longest run inside: a run of them is cut more
        body, body_bytes, note = _cut(ctx, text, text_bytes, limit, config.embed_max_bytes)
        fenced = md.fence(body, lang) if body else ""
        # the fence adds backticks, newlines (ASCII) and the language tag to body
        fenced_bytes = body_bytes + len(fenced) - len(body) + md.utf8_len(lang) - len(lang) if body else 0
        if fenced_bytes <= config.embed_max_bytes + FENCE_SLACK:
            break
        limit //= 2
    if not body:
        section = head + ("*The file is empty.*\n" if not text else note.lstrip("\n"))
        return section, md.utf8_len(section)
    return head + fenced + note, len(head) + fenced_bytes + md.utf8_len(note)


def _cut(ctx: _Ctx, text: str, text_bytes: int, limit: int, embed_max_bytes: int) -> tuple[str, int, str]:
    """The source cut at a line boundary within limit bytes, its size in bytes, and the note that says so
    (or ''); text_bytes is the size of the whole text."""
    if text_bytes <= limit:
        return text, text_bytes, ""
    encoded = text.encode("utf-8")
    cut = encoded[:limit].decode("utf-8", "ignore")
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else ""
    total_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    shown = cut.count("\n")
    cut_bytes = len(cut.encode("utf-8"))
    left = len(encoded) - cut_bytes
    note = (
        f"\n*Cut at line {shown} of {total_lines} (`embed_max_bytes` is {embed_max_bytes:,}): "
        f"{total_lines - shown:,} more lines ({left:,} bytes) are in "
        f"{md.link(ctx.name, ctx.source_link)}.*\n"
    )
    return cut, cut_bytes, note


def _overview(ctx: _Ctx) -> str:
    a = ctx.analysis
    out = "## High-Level Overview\n\n"
    if a.docstring:
        out += md.fence(md.shown(a.docstring, md.TEXT_SHOWN), "text") + "\n"
    return out + f"This file defines {ctx.count_line}.\n"


def _symbol_line(sym: Symbol, anchor: str) -> str:
    """A symbol's item in Code Structure (built in one f-string where it can: this is a page's
    innermost loop)."""
    signature = sym.signature
    if sym.overloads:
        return _overloaded_line(sym, anchor)
    if signature:
        line = f'- <a id="{anchor}"></a>{_code(sym.name)} {_code(signature)} — {sym.kind}'
    else:
        line = f'- <a id="{anchor}"></a>{_code(sym.name)} — {sym.kind}'
    if sym.line:
        line += f"; line {sym.line}"
    if sym.bases:
        line += "; bases " + ", ".join([_code(b) for b in sym.bases])
    if sym.decorators:
        line += "; decorators " + ", ".join([_code("@" + d) for d in sym.decorators])
    return f"{line}: {md.prose(md.shown(sym.doc))}" if sym.doc else line


def _overloaded_line(sym: Symbol, anchor: str) -> str:
    """A symbol declared more than once: its declarations' lines, then each one's signature."""
    line = f'- <a id="{anchor}"></a>{_code(sym.name)}'
    lines = [n for n, _ in ((sym.line, sym.signature), *sym.overloads) if n]
    details = [sym.kind, f"{len(sym.overloads) + 1} declarations" + (f" ({_lines(lines)})" if lines else "")]
    if sym.bases:
        details.append("bases " + ", ".join([_code(b) for b in sym.bases]))
    if sym.decorators:
        details.append("decorators " + ", ".join([_code("@" + d) for d in sym.decorators]))
    line += f" — {'; '.join(details)}"
    if sym.doc:
        line += f": {md.prose(md.shown(sym.doc))}"
    for number, signature in ((sym.line, sym.signature), *sym.overloads):  # one nested item each
        where = f"line {number}" if number else "declaration"
        line += f"\n  - {where}: " + (md.code(md.shown(signature)) if signature else "no signature")
    return line


def _lines(numbers: list[int]) -> str:
    """`line 4`, `lines 4 and 9`, `lines 4, 5 and 9`."""
    shown = [str(n) for n in numbers]
    if len(shown) == 1:
        return f"line {shown[0]}"
    return "lines " + ", ".join(shown[:-1]) + " and " + shown[-1]


def _structure(ctx: _Ctx, room: md.Room) -> str:
    out = "## Detailed Analysis\n\n### Code Structure\n\n"
    symbols = ctx.analysis.symbols
    groups: dict[str, list[tuple[int, str, int]]] = {}  # (line, name, index): sorted by line, then name
    for index, sym in enumerate(symbols):
        group = groups.get(sym.group)
        if group is None:
            group = groups[sym.group] = []
        group.append((sym.line, sym.name, index))
    if not groups:
        return out + "No definitions found.\n"
    anchors = ctx.sym_anchors
    for group_name, members in groups.items():
        out += f"#### {group_name} ({len(members)})\n\n"
        lines = [_symbol_line(symbols[i], anchors[i]) for _, _, i in sorted(members)]
        out += "\n".join(room.take(lines, group_name.lower())) + "\n\n"
    return out.rstrip("\n") + "\n"


def _architecture(ctx: _Ctx, room: md.Room) -> str:
    a = ctx.analysis
    lines = [f"- **Folder**: {ctx.folder_code} (see {_INDEX_LINK})"]
    if ctx.lang.key == "python" and a.package:
        lines.append(f"- **Module**: {md.code(a.package)}")
    if a.exports:
        exports, cut = room.split([_code(e) for e in a.exports], "exports")
        shown = exports + [cut.removeprefix("- ")] if cut else exports
        lines.append(f"- **Exports** (`__all__`, {len(a.exports)}): " + ", ".join(shown))
    elif ctx.lang.key == "python":
        lines.append("- **Exports**: no `__all__` is declared")
    return "## Architecture & Design\n\n" + "\n".join(lines) + "\n"


def _dependencies(ctx: _Ctx, room: md.Room) -> str:
    out = "## Dependencies\n\n### Import Dependencies\n\n"
    imports = ctx.analysis.imports
    if not imports:
        return out + "None.\n"
    includes = ctx.analysis.import_group == "Includes"  # by their syntax: `<…>` or `"…"`, no guess of origin
    groups = [
        ("Angle-bracket includes" if includes else "Standard library", [i for i in imports if i.stdlib]),
        ("Quoted includes" if includes else "Other", [i for i in imports if not i.stdlib]),
    ]
    if ctx.lang.key == "python":
        out += _python_origins(ctx.path)
        groups = [
            ("Standard library", [i for i in imports if i.stdlib]),
            ("This project", [i for i in imports if i.local]),
            ("Third party", [i for i in imports if not i.stdlib and not i.local]),
        ]
    for label, group in groups:
        if not group:
            continue
        merged: dict[str, list[str]] = {}
        lines: dict[str, int] = {}
        for imp in group:
            merged.setdefault(imp.module, []).extend(imp.names)
            lines.setdefault(imp.module, imp.line)
        out += f"#### {label} ({len(merged)})\n\n"
        items = []
        for module in sorted(merged):
            names = sorted(set(merged[module]))
            line = f'- <a id="{ctx.imp_anchors[module]}"></a>{_code(module)} (line {lines[module]})'
            if names:
                line += ": " + ", ".join([_code(n) for n in names])
            items.append(line)
        out += "\n".join(room.take(items, "imports")) + "\n\n"  # items is not empty: neither is what is taken
    return out.rstrip("\n") + "\n"


def _python_origins(path: str) -> str:
    """The sentence that says how a Python file's imports are grouped, naming its own top-level packages."""
    own = [md.code(md.shown(p)) for p in project_packages(path)]
    where = f"{' and '.join(own)}, the top-level {'package' if len(own) == 1 else 'folders'} this file lies in"
    project = f"relative imports and imports of {where}" if own else "relative imports"
    return (
        f"Grouped by origin: the standard library (Python {VERSIONS[0]} to {VERSIONS[-1]}), "
        f"this project ({project}) and third party (the rest).\n\n"
    )


def _findings(ctx: _Ctx, room: md.Room, section: str, title: str) -> str:
    lines: dict[str, list[int]] = {}  # a pattern -> its lines, patterns in the order of their first line
    for f in ctx.analysis.findings:
        if f.section == section:
            lines.setdefault(f.what, []).append(f.line)
    if not lines:
        return f"## {title}\n\nNone detected.\n"
    items = [_finding_line(what, at) for what, at in lines.items()]
    return f"## {title}\n\n" + "\n".join(room.take(items, "findings")) + "\n"


LINES_SHOWN = 12  # lines named on a repeated pattern's one line; the rest are counted


def _finding_line(what: str, lines: list[int]) -> str:
    """One line per pattern: where it is, or how often and where (the first LINES_SHOWN lines)."""
    if len(lines) == 1:
        return f"- {what} at line {lines[0]}"
    shown = ", ".join(str(n) for n in lines[:LINES_SHOWN])
    more = f" and {len(lines) - LINES_SHOWN} more" if len(lines) > LINES_SHOWN else ""
    return f"- {what}: {len(lines)} times, at lines {shown}{more}"


def _testing(ctx: _Ctx, room: md.Room) -> str:
    a = ctx.analysis
    out = "## Testing & Usage\n\n"
    if a.test_framework:
        command = {
            "pytest": f"python -m pytest {ctx.path}",
            "unittest": f"python -m unittest {a.package}",
            "go test": "go test ./" + posixpath.dirname(ctx.path) if "/" in ctx.path else "go test .",
            "cargo test": "cargo test",
        }.get(a.test_framework, f"{a.test_framework} {ctx.path}")
        out += f"Tests ({len(a.tests)}):\n\n"
        out += "".join(line + "\n" for line in room.take([f"- {md.code(md.shown(t))}" for t in a.tests], "tests"))
        out += f"\nRun them with:\n\n{md.fence(command, 'bash')}"
        return out
    if a.main_guard:
        return out + f"Run it as a script:\n\n{md.fence('python ' + ctx.path, 'bash')}"
    return out + "This file holds no tests.\n"


def _cross_refs(ctx: _Ctx) -> str:
    kw = ctx.name + "_kw.md"  # the basename of page_names(ctx.path)[1]
    return (
        "## Cross-References\n\n"
        f"- Keyword index: {md.link(kw, kw)}\n"
        f"- Folder index: {_INDEX_LINK}\n"
        f"- Folder documentation: {_DOC_LINK}\n"
        f"- Source file: {ctx.source}\n"
    )


_SECTION_OF = {"Imports": "import-dependencies", "Includes": "import-dependencies", "Sources": "import-dependencies"}


def _kw_page(ctx: _Ctx, config: Config, empty: bool) -> str:
    docs = ctx.name + "_docs.md"  # the basename of page_names(ctx.path)[0]
    target = md.href(docs)
    head = (
        f"# Keyword Index: {ctx.path_code}\n\n"
        "## File Information\n\n"
        f"- **Original File**: {ctx.source}\n"
        f"- **Documentation**: {md.link(docs, docs)}\n"
        f"- **Folder**: {ctx.folder_code}\n\n"
        "## Keywords Extracted\n\n"
    )
    groups: dict[str, dict[str, str]] = {}  # a group's names -> the anchor of each one's first entry
    for sym, anchor in zip(ctx.analysis.symbols, ctx.sym_anchors, strict=True):
        names = groups.get(sym.group)
        if names is None:
            names = groups[sym.group] = {}
        if sym.name not in names:
            names[sym.name] = anchor
    if ctx.analysis.imports:
        imported = groups.setdefault(ctx.analysis.import_group, {})
        for module, anchor in ctx.imp_anchors.items():
            imported.setdefault(module, anchor)
    if not groups:
        head += "The file is empty.\n\n" if empty else "No keywords: the file defines no names.\n\n"
    out = [head]
    room = md.Room(md.utf8_len(head) + md.utf8_len(ctx.footer) + 200 * len(groups))
    titles = sorted(groups)
    for title in titles:
        names = groups[title]
        out.append(f"### {title} ({len(names)})\n\n")
        lines = [f"- [{_code(n)}]({target}#{names[n]})" for n in sorted(names)]
        out.append("\n".join(room.take(lines, title.lower())) + "\n\n")  # lines is not empty, nor is what is taken
    out.append("## Keyword → Section Map\n\n")
    for title in titles:
        anchor = _SECTION_OF.get(title, "code-structure")
        section = "Import Dependencies" if anchor == "import-dependencies" else "Code Structure"
        out.append(f"- **{title}** → [{section}]({target}#{anchor})\n")
    if not groups:
        out.append("Nothing to map.\n")
    out += ["\n", ctx.footer]
    return "".join(out)


def _summary(ctx: _Ctx, name: str, blob: str, note: str) -> FileSummary:
    a = ctx.analysis
    docs = ctx.name + "_docs.md"  # the basename of page_names(ctx.path)[0]
    key_names = [  # public top-level names; the cheapest test, which drops every method, first
        (md.shown(s.name), f"{docs}#{anchor}")
        for s, anchor in zip(a.symbols, ctx.sym_anchors, strict=True)
        if "." not in s.name
        and s.group in _KEY_NAMES_GROUPS
        and s.kind not in ("method", "heading", "key")
        and "::" not in s.name
        and not s.name.startswith("_")
    ]
    refs: list[str] = []
    for imp in a.imports:
        refs += [f"{imp.module}.{n}" for n in imp.names] if imp.names else [imp.module]
    overview = ""
    if a.docstring and (a.is_package_init or name.lower().startswith("readme")):
        overview = md.shown(a.docstring.strip().partition("\n\n")[0].replace("\n", " "), md.TEXT_SHOWN)
    module = a.package if ctx.lang.key == "python" else name
    return FileSummary(
        name,
        blob,
        True,
        a.error or note,
        ctx.lang.type_name,
        _description(ctx),
        overview,
        tuple(dict.fromkeys(key_names)),
        tuple(sorted(set(refs))),
        module,
        ctx.lang.spec.is_test(ctx.path, a),
    )


def _description(ctx: _Ctx) -> str:
    a = ctx.analysis
    if a.test_framework and not a.tests_inline:
        return f"Tests ({len(a.tests)}, {a.test_framework})"
    if a.docstring:
        return md.clip(a.docstring.strip().partition("\n\n")[0])
    heading = next((s.name for s in a.symbols if s.kind == "heading"), None)
    if heading is not None:
        return md.clip(heading)
    if a.error:
        return f"{ctx.lang.type_name} ({a.error})"
    return f"{ctx.lang.type_name}: {ctx.count_line}"
