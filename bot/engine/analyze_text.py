"""Text formats: Markdown and reStructuredText headings, YAML/TOML/JSON top-level keys, CMake targets."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable

import yaml

from .model import Analysis, Symbol

# the closing `#`s are stripped in code: a lazy `(.*?)` before `[ \t#]*$` backtracks quadratically
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*)$")
MAX_NESTING = 200  # YAML deeper than this is reported, not composed (composing recurses once per level)
NESTED_TOO_DEEPLY = "nested too deeply to analyse"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:._])\1{2,}\s*$")
_CMAKE_TARGET = re.compile(
    r"^\s*(project|add_library|add_executable|add_subdirectory|function|macro)\s*\(\s*([^\s)]+)", re.I
)


def analyze_text(key: str, text: str, reader: Callable[[str, Analysis], None] | None = None) -> Analysis:
    """Headings or top-level keys of a text file, found by its format's reader (by default the one the
    language table names for key; none for a format of no structure)."""
    result = Analysis(parser=key)
    if reader is None:
        reader = _reader(key)
    if reader is not None:
        reader(text, result)
    return result


def _reader(key: str) -> Callable[[str, Analysis], None] | None:
    from .languages import spec  # the table names this module's readers: imported when first asked

    try:
        return spec(key).text_reader
    except KeyError:
        return None


def markdown(text: str, result: Analysis) -> None:
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
            title = heading.group(2).rstrip(" \t#").strip()
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


def rst(text: str, result: Analysis) -> None:
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


def yaml_keys(text: str, result: Analysis) -> None:
    try:
        if _yaml_depth(text) > MAX_NESTING:
            result.error = NESTED_TOO_DEEPLY
            return
        for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if isinstance(document, yaml.MappingNode):
                for key_node, _ in document.value:
                    result.symbols.append(Symbol("Keys", "key", _key_name(key_node), key_node.start_mark.line + 1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        result.error = f"YAML error at line {mark.line + 1}" if mark else "YAML error"
    except RecursionError:
        result.symbols.clear()
        result.error = NESTED_TOO_DEEPLY


def _key_name(node: yaml.Node) -> str:
    """A key's name: its text, or what kind of complex key it is (the text of a sequence or mapping
    key made of aliases can be exponentially longer than the file: it is never spelled out)."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    return "(a sequence as a key)" if isinstance(node, yaml.SequenceNode) else "(a mapping as a key)"


def _yaml_depth(text: str) -> int:
    """The deepest nesting of collections, from the parser's events (the parser does not recurse)."""
    depth = deepest = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                break
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return deepest


_TOML_TABLE = re.compile(r'\s*\[+\s*(?:"([^"]*)"|([^\s\].="\[]+))"?\s*[\].]')
_TOML_KEY = re.compile(r'\s*(?:"([^"]*)"|([^\s="]+))"?\s*=')


def toml_keys(text: str, result: Analysis) -> None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        result.error = f"TOML error: {exc}"
        return
    except RecursionError:
        result.error = NESTED_TOO_DEEPLY
        return
    first: dict[str, int] = {}  # key -> first line that defines it (as a table or a key), found in one pass
    for number, line in enumerate(text.splitlines(), 1):
        for pattern in (_TOML_TABLE, _TOML_KEY):
            match = pattern.match(line)
            if match:
                first.setdefault(match.group(1) if match.group(1) is not None else match.group(2), number)
    for key in data:
        result.symbols.append(Symbol("Keys", "table" if isinstance(data[key], dict) else "key", key, first.get(key, 0)))


_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:]|\r\n?|\n')


def json_keys(text: str, result: Analysis) -> None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        result.error = f"JSON error at line {exc.lineno}"
        return
    except RecursionError:
        result.error = NESTED_TOO_DEEPLY
        return
    if isinstance(data, dict):
        lines = _json_key_lines(text)
        for key in data:
            result.symbols.append(Symbol("Keys", "key", key, lines.get(json.dumps(key), 0)))


def _json_key_lines(text: str) -> dict[str, int]:
    """Each key as written (`"name"`) -> the first line where it stands before a `:`, at any depth,
    in one pass over the tokens (the line a search for `"name"\\s*:` finds first)."""
    lines: dict[str, int] = {}
    line, pending = 1, ""
    for match in _JSON_TOKEN.finditer(text):
        token = match.group(0)
        if token == ":" and pending:
            lines.setdefault(pending, line)
        if token[0] in "\r\n":
            line += 1
        pending = token if token[0] == '"' else ""
    return lines


def cmake(text: str, result: Analysis) -> None:
    for number, line in enumerate(text.splitlines(), 1):
        match = _CMAKE_TARGET.match(line.split("#", 1)[0])
        if match:
            command = match.group(1).lower()
            group = "Functions" if command in ("function", "macro") else "Targets"
            result.symbols.append(Symbol(group, command, match.group(2), number))
