"""Choose the analyser for a file and turn any failure into a said reason, never a crash."""

from __future__ import annotations

from dataclasses import replace

from .analyze_python import analyze_python, module_of, origin, project_packages, resolve_relative
from .analyze_text import NESTED_TOO_DEEPLY, analyze_text
from .analyze_ts import analyze_tree_sitter, supported
from .config import Config
from .languages import Language
from .model import Analysis, Import, Symbol


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
    if lang.key == "python":
        return _python(path, text, data)
    if supported(lang.key):
        result = analyze_tree_sitter(lang.key, data)
        if lang.key == "go" and path.endswith("_test.go"):
            _go_tests(result)
        elif lang.key == "rust":
            result.test_framework = "cargo test" if result.tests else ""
            result.tests_inline = result.tests_inline and bool(result.tests)
        elif lang.switch in ("javascript", "typescript"):
            _js_tests(path, result)
        return result
    return analyze_text(lang.key, text)


_JS_RUNNERS = {
    "vitest": "npx vitest run",
    "@jest/globals": "npx jest",
    "mocha": "npx mocha",
    "node:test": "node --test",
}


def _js_tests(path: str, result: Analysis) -> None:
    """JS/TS tests: `test`/`it` calls in a file named *.test.* or *.spec.*, or importing a test runner;
    the runner is the one imported, else the project's own `npm test`."""
    imported = [m.module for m in result.imports if m.module in _JS_RUNNERS]
    name = path.rsplit("/", 1)[-1]
    if not result.tests or not (imported or ".test." in name or ".spec." in name):
        result.tests = []
        return
    result.test_framework = _JS_RUNNERS[imported[0]] if imported else "npm test --"


def _go_tests(result: Analysis) -> None:
    """Go's test functions: TestX, BenchmarkX, FuzzX and ExampleX in a _test.go file."""
    prefixes = ("Test", "Benchmark", "Fuzz", "Example")
    result.tests = [s.name for s in result.symbols if s.kind == "function" and s.name.startswith(prefixes)]
    result.test_framework = "go test" if result.tests else ""


def _python(path: str, text: str, data: bytes) -> Analysis:
    try:
        return analyze_python(path, text)
    except SyntaxError as exc:
        reason = f"syntax error at line {exc.lineno}: {exc.msg}"
    except (RecursionError, MemoryError):
        reason = "code nested too deeply for Python's parser"
    except ValueError as exc:
        reason = f"cannot be parsed: {exc}"
    # syntax newer than this interpreter (PEP 695) still parses with tree-sitter-python
    result = analyze_tree_sitter("python", data)
    module, is_init = module_of(path)
    result.package, result.is_package_init = module, is_init
    result.imports = [_resolve(path, imp) for imp in result.imports]
    if result.error or result.partial:
        result.error, result.partial = reason, 0
    else:
        refused = f"Python's own parser refused it ({reason}); analysed with tree-sitter-python"
        result.fallback = refused + (f"; {result.fallback}" if result.fallback else "")
    return result


def _resolve(path: str, imp: Import) -> Import:
    module = imp.module
    if module.startswith("."):
        level = len(module) - len(module.lstrip("."))
        module = resolve_relative(path, level, module.lstrip(".") or None)
        return Import(module, imp.line, imp.names, *origin(project_packages(path), module, True))
    return Import(module, imp.line, imp.names, *origin(project_packages(path), module, False))
