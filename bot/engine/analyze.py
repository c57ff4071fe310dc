"""Choose the analyser for a file and turn any failure into a said reason, never a crash."""

from __future__ import annotations

from dataclasses import replace

from .analyze_text import NESTED_TOO_DEEPLY, analyze_text
from .analyze_ts import analyze_tree_sitter
from .config import Config
from .languages import Language
from .model import Analysis, Symbol


def analyze(path: str, text: str, data: bytes, lang: Language, config: Config) -> Analysis:
    """Analyse one file; the result's `error` says why when the analysis could not be done."""
    if not config.language_on(lang.switch):
        return Analysis(parser="off", error=f"analysis of {lang.switch} is turned off in the config")
    try:
        result = _analyze(path, text, data, lang)
    except RecursionError:  # any analyser, on input nested deeper than it can follow: a reason, not a crash
        return Analysis(parser=lang.key, error=NESTED_TOO_DEEPLY)
    result.symbols = merge_overloads(result.symbols)
    return result


_DISTINCT_GROUPS = frozenset({"Headings", "Keys", "Targets"})  # a repeated heading is another section


def merge_overloads(symbols: list[Symbol]) -> list[Symbol]:
    """One symbol per (group, name): the declarations after the first (overloads, a property's setter,
    a C++ method declared in its class and defined below) become its `overloads`, so that a page lists
    the name once, under one anchor, with each declaration's line and signature."""
    first: dict[tuple[str, str], int] = {}
    more: dict[int, list[tuple[int, str]]] = {}
    docs: dict[int, str] = {}
    out: list[Symbol] = []
    for sym in symbols:
        key = (sym.group, sym.name)
        index = first.get(key, -1)
        if index < 0 or sym.group in _DISTINCT_GROUPS:
            first[key] = len(out)
            out.append(sym)
            continue
        more.setdefault(index, []).extend([(sym.line, sym.signature), *sym.overloads])
        if not out[index].doc and sym.doc:
            docs.setdefault(index, sym.doc)
    for index, declarations in more.items():
        kept = out[index]
        out[index] = replace(kept, overloads=kept.overloads + tuple(declarations), doc=kept.doc or docs.get(index, ""))
    return out


def _analyze(path: str, text: str, data: bytes, lang: Language) -> Analysis:
    """The analyser the language's spec names: its own, else its grammar's, else its text format's; then
    which tests the file holds, by the spec's test shapes."""
    spec = lang.spec
    if spec.analyse is not None:
        result = spec.analyse(spec, path, text, data)
    elif spec.syntax is not None:
        result = analyze_tree_sitter(spec, data)
    else:
        result = analyze_text(spec.key, text, spec.text_reader)
    if spec.tests is not None:
        spec.tests(spec, path, result)
    return result
