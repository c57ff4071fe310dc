"""Choose the analyser for a file and turn any failure into a said reason, never a crash."""

from __future__ import annotations

import sys

from .analyze_python import analyze_python, module_of, resolve_relative
from .analyze_text import NESTED_TOO_DEEPLY, analyze_text
from .analyze_ts import analyze_tree_sitter, supported
from .config import Config
from .languages import Language
from .model import Analysis, Import

_STDLIB = frozenset(sys.stdlib_module_names)


def analyze(path: str, text: str, data: bytes, lang: Language, config: Config) -> Analysis:
    """Analyse one file; the result's `error` says why when the analysis could not be done."""
    if not config.language_on(lang.switch):
        return Analysis(parser="off", error=f"analysis of {lang.switch} is turned off in the config")
    try:
        return _analyze(path, text, data, lang)
    except RecursionError:  # any analyser, on input nested deeper than it can follow: a reason, not a crash
        return Analysis(parser=lang.key, error=NESTED_TOO_DEEPLY)


def _analyze(path: str, text: str, data: bytes, lang: Language) -> Analysis:
    if lang.key == "python":
        return _python(path, text, data)
    if supported(lang.key):
        result = analyze_tree_sitter(lang.key, data)
        if lang.key == "go" and path.endswith("_test.go"):
            _go_tests(result)
        elif lang.key == "rust":
            result.test_framework = "cargo test" if result.tests else ""
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
        return Import(module, imp.line, imp.names, False)
    return Import(module, imp.line, imp.names, module.split(".")[0] in _STDLIB)
