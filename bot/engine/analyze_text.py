"""Text formats: Markdown and reStructuredText headings, YAML/TOML/JSON top-level keys, CMake targets."""

from __future__ import annotations

import json
import re
import tomllib

import yaml

from .model import Analysis, Symbol

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:._])\1{2,}\s*$")
_CMAKE_TARGET = re.compile(
    r"^\s*(project|add_library|add_executable|add_subdirectory|function|macro)\s*\(\s*([^\s)]+)", re.I
)


def analyze_text(key: str, text: str) -> Analysis:
    """Headings or top-level keys of a text file, by its format key."""
    result = Analysis(parser=key)
    handler = _HANDLERS.get(key)
    if handler is not None:
        handler(text, result)
    return result


def _markdown(text: str, result: Analysis) -> None:
    fence = ""
    paragraph: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _FENCE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
            continue
        if match:
            fence = match.group(1)
            continue
        heading = _ATX.match(line)
        if heading:
            title = heading.group(2).strip()
            if title:
                result.symbols.append(Symbol("Headings", "heading", title, number, level=len(heading.group(1))))
        elif not result.docstring:
            _paragraph(line, paragraph, result)
    if paragraph and not result.docstring:
        result.docstring = " ".join(paragraph)


def _paragraph(line: str, paragraph: list[str], result: Analysis) -> None:
    """Collect the first prose paragraph as the document's overview."""
    stripped = line.strip()
    if stripped and not stripped.startswith(("<", "[!", "![", "|", "---", "===")):
        paragraph.append(stripped)
    elif paragraph:
        result.docstring = " ".join(paragraph)


def _rst(text: str, result: Analysis) -> None:
    lines = text.splitlines()
    levels: list[str] = []
    for index in range(1, len(lines)):
        title, under = lines[index - 1].strip(), lines[index]
        match = _RST_UNDERLINE.match(under)
        if title and match and len(under.strip()) >= len(title) and not _RST_UNDERLINE.match(title):
            char = match.group(1)
            if char not in levels:
                levels.append(char)
            result.symbols.append(Symbol("Headings", "heading", title, index, level=levels.index(char) + 1))


def _yaml(text: str, result: Analysis) -> None:
    try:
        for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if isinstance(document, yaml.MappingNode):
                for key_node, _ in document.value:
                    result.symbols.append(Symbol("Keys", "key", str(key_node.value), key_node.start_mark.line + 1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        result.error = f"YAML error at line {mark.line + 1}" if mark else "YAML error"


def _toml(text: str, result: Analysis) -> None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        result.error = f"TOML error: {exc}"
        return
    lines = text.splitlines()
    for key in data:
        line = _find_line(lines, [rf"^\s*\[+\s*\"?{re.escape(key)}\"?\s*[\].]", rf"^\s*\"?{re.escape(key)}\"?\s*="])
        result.symbols.append(Symbol("Keys", "table" if isinstance(data[key], dict) else "key", key, line))


def _json(text: str, result: Analysis) -> None:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", 0)
        result.error = f"JSON error at line {line}" if line else "JSON error"
        return
    if isinstance(data, dict):
        lines = text.splitlines()
        for key in data:
            pattern = re.escape(json.dumps(key)) + r"\s*:"
            result.symbols.append(Symbol("Keys", "key", key, _find_line(lines, [pattern])))


def _find_line(lines: list[str], patterns: list[str]) -> int:
    compiled = [re.compile(p) for p in patterns]
    for number, line in enumerate(lines, 1):
        if any(p.search(line) for p in compiled):
            return number
    return 0


def _cmake(text: str, result: Analysis) -> None:
    for number, line in enumerate(text.splitlines(), 1):
        match = _CMAKE_TARGET.match(line.split("#", 1)[0])
        if match:
            command = match.group(1).lower()
            group = "Functions" if command in ("function", "macro") else "Targets"
            result.symbols.append(Symbol(group, command, match.group(2), number))


_HANDLERS = {"markdown": _markdown, "rst": _rst, "yaml": _yaml, "toml": _toml, "json": _json, "cmake": _cmake}
