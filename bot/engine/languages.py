"""The language table: one spec per language (language_spec.py), from which everything else is derived:
which language a path is in, its type name and fence, the config's switches, the analyser and its
tree-sitter grammar, definitions, import and test shapes, doc-comment style.

Rules of this module: SPECS is the only place that says which language does what; a language is added
by adding its row (the indexes below are rebuilt from whatever SPECS holds).
"""

from __future__ import annotations

import functools
import posixpath
from dataclasses import dataclass, replace

from . import analyze_text as text_formats
from . import analyze_ts as ts
from .analyze_python import analyze_python, module_of, origin, project_packages, resolve_relative
from .doc_comments import godoc, rustdoc
from .language_spec import FileType, Grammar, LanguageSpec, Syntax
from .model import Analysis, Import

# --- definitions, by grammar (node type -> keyword group and kind; the name is the `name` field) ---------

_C_DEFS = {
    "struct_specifier": ("Classes/Structs", "struct"),
    "union_specifier": ("Classes/Structs", "union"),
    "enum_specifier": ("Classes/Structs", "enum"),
}
_CPP_DEFS = {
    "class_specifier": ("Classes/Structs", "class"),
    **_C_DEFS,
    "namespace_definition": ("Namespaces", "namespace"),
}
_JS_DEFS = {
    "class_declaration": ("Classes", "class"),
    "function_declaration": ("Functions", "function"),
    "generator_function_declaration": ("Functions", "function"),
    "method_definition": ("Functions", "method"),
}
_TS_DEFS = {
    **_JS_DEFS,
    "interface_declaration": ("Types", "interface"),
    "type_alias_declaration": ("Types", "type"),
    "enum_declaration": ("Types", "enum"),
    "abstract_class_declaration": ("Classes", "class"),
    "function_signature": ("Functions", "function"),
    "method_signature": ("Functions", "method"),  # an interface's method, a class method's overload
    "abstract_method_signature": ("Functions", "method"),
    "internal_module": ("Namespaces", "namespace"),
    "construct_signature": ("Functions", "constructor"),  # `new (…): T` in an interface, named `new`
}

# --- how each grammar's trees are read ---------------------------------------------------------------------

_C = Syntax(
    Grammar("c", "tree_sitter_c"),
    definitions=_C_DEFS,
    definers={"function_definition": ts.c_function},
    readers={"declaration": ts.c_declaration, "field_declaration": ts.c_declaration},
    classes=frozenset({"struct_specifier", "union_specifier"}),
    separator="::",
    imports={"preproc_include": ts.c_include},
    claims={"call_expression": ts.call_claim, "preproc_call": ts.omp_claim},
    reparse=ts.c_reparse,
)
_CPP = replace(
    _C,
    grammar=Grammar("cpp", "tree_sitter_cpp"),
    definitions=_CPP_DEFS,
    classes=frozenset({"class_specifier", "struct_specifier", "union_specifier"}),
    doc_wrappers=("template_declaration",),
)
_CUDA = replace(_CPP, prepare=ts.blank_cuda, finish=ts.cuda_finish)  # qualifiers and launches blanked
_JS = Syntax(
    Grammar("javascript", "tree_sitter_javascript"),
    definitions=_JS_DEFS,
    readers={
        "lexical_declaration": ts.js_function_vars,
        "variable_declaration": ts.js_function_vars,
        # a function bound to a name other than by declaring it: `a.b = function …`, `{ k: () => … }`,
        # a class field `handler = () => …`
        **dict.fromkeys(
            ("assignment_expression", "pair", "field_definition", "variable_declarator"), ts.js_bound_function
        ),
    },
    classes=frozenset({"class_declaration"}),
    doc_wrappers=("export_statement", "expression_statement"),
    imports={"import_statement": ts.js_import, "call_expression": ts.js_require},
    tests={"call_expression": ts.js_test},
    claims={"call_expression": ts.call_claim},
)
_TS = replace(
    _JS,
    grammar=Grammar("typescript", "tree_sitter_typescript", "language_typescript"),
    definitions=_TS_DEFS,
    readers={  # a class field is a `public_field_definition` in TypeScript's grammar
        **{kind: read for kind, read in _JS.readers.items() if kind != "field_definition"},
        "public_field_definition": ts.js_bound_function,
    },
    classes=frozenset({"class_declaration", "abstract_class_declaration", "interface_declaration", "enum_declaration"}),
    doc_wrappers=("export_statement", "expression_statement", "ambient_declaration"),
)
_TSX = replace(_TS, grammar=Grammar("tsx", "tree_sitter_typescript", "language_tsx"))

# --- test shapes and analysers of their own ---------------------------------------------------------------

_JS_RUNNERS = {
    "vitest": "npx vitest run",
    "@jest/globals": "npx jest",
    "mocha": "npx mocha",
    "node:test": "node --test",
}
_JS_TEST_PATHS = ("*.test.*", "*.spec.*")


def _js_tests(spec: LanguageSpec, path: str, result: Analysis) -> None:
    """JS/TS tests: `test`/`it` calls in a file named as a test file, or importing a test runner; the
    runner is the one imported, else the project's own `npm test`."""
    imported = [m.module for m in result.imports if m.module in _JS_RUNNERS]
    if not result.tests or not (imported or spec.is_test_path(path)):
        result.tests = []
        return
    result.test_framework = _JS_RUNNERS[imported[0]] if imported else "npm test --"


def _go_tests(spec: LanguageSpec, path: str, result: Analysis) -> None:
    """Go's test functions: TestX, BenchmarkX, FuzzX and ExampleX in a _test.go file."""
    if not spec.is_test_path(path):
        return
    prefixes = ("Test", "Benchmark", "Fuzz", "Example")
    result.tests = [s.name for s in result.symbols if s.kind == "function" and s.name.startswith(prefixes)]
    result.test_framework = "go test" if result.tests else ""


def _rust_tests(spec: LanguageSpec, path: str, result: Analysis) -> None:
    """Rust's `#[test]` functions run with cargo; in a module beside other code only when there are some."""
    result.test_framework = "cargo test" if result.tests else ""
    result.tests_inline = result.tests_inline and bool(result.tests)


def _python(spec: LanguageSpec, path: str, text: str, data: bytes) -> Analysis:
    """Python's own `ast`; syntax newer than this interpreter (PEP 695) still parses with tree-sitter-python."""
    try:
        return analyze_python(path, text)
    except SyntaxError as exc:
        reason = f"syntax error at line {exc.lineno}: {exc.msg}"
    except (RecursionError, MemoryError):
        reason = "code nested too deeply for Python's parser"
    except ValueError as exc:
        reason = f"cannot be parsed: {exc}"
    result = ts.analyze_tree_sitter(spec, data)
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


# --- the table -------------------------------------------------------------------------------------------

PYTHON = LanguageSpec(
    "python",
    "python",
    (FileType(".py", "Python Source Code"), FileType(".pyi", "Python Type Stub")),
    shebangs=(b"python",),
    analyse=_python,
    syntax=Syntax(  # for syntax newer than the running interpreter's `ast`
        Grammar("python", "tree_sitter_python"),
        definitions={
            "class_definition": ("Classes", "class"),
            "function_definition": ("Functions", "function"),
            "type_alias_statement": ("Types", "type"),
        },
        classes=frozenset({"class_definition"}),
        methods=frozenset({"function_definition"}),
        returns=" -> ",
        doc_wrappers=("decorated_definition",),
        imports={"import_statement": ts.python_import, "import_from_statement": ts.python_import},
        finish=ts.python_finish,
    ),
    test_paths=("test_*.py", "*_test.py"),  # pytest's; analyze_python finds the tests and their runner
)
SHELL = LanguageSpec(
    "bash",
    "shell",
    (FileType(".sh", "Shell Script"), FileType(".bash", "Shell Script")),
    shebangs=(b"/sh", b"bash", b"zsh"),
    syntax=Syntax(
        Grammar("bash", "tree_sitter_bash"),
        definitions={"function_definition": ("Functions", "function")},
        imports={"command": ts.sh_source},
        claims={"command": ts.sh_eval_claim},
        reparse=ts.sh_reparse,
    ),
    import_group="Sources",
)
SPECS: tuple[LanguageSpec, ...] = (
    PYTHON,
    LanguageSpec(
        "c",
        "c",
        (FileType(".c", "C Source Code"),),
        syntax=_C,
        import_group="Includes",
    ),
    LanguageSpec(
        "cpp",
        "cpp",
        (
            FileType(".h", "C/C++ Header File", "c"),
            FileType(".cc", "C++ Source Code"),
            FileType(".cpp", "C++ Source Code"),
            FileType(".cxx", "C++ Source Code"),
            FileType(".hpp", "C++ Header File"),
            FileType(".hh", "C++ Header File"),
            FileType(".hxx", "C++ Header File"),
        ),
        syntax=_CPP,
        import_group="Includes",
    ),
    LanguageSpec(
        "cuda",
        "cuda",
        (FileType(".cu", "CUDA Source Code"), FileType(".cuh", "CUDA Header File")),
        syntax=_CUDA,
        import_group="Includes",
    ),
    LanguageSpec(
        "javascript",
        "javascript",
        (
            FileType(".js", "JavaScript Source Code"),
            FileType(".mjs", "JavaScript Module"),
            FileType(".cjs", "CommonJS Module"),
            FileType(".jsx", "JavaScript (JSX) Source Code", "jsx"),
        ),
        syntax=_JS,
        test_paths=_JS_TEST_PATHS,
        tests=_js_tests,
    ),
    LanguageSpec(
        "typescript",
        "typescript",
        (FileType(".ts", "TypeScript Source Code"),),
        syntax=_TS,
        test_paths=_JS_TEST_PATHS,
        tests=_js_tests,
    ),
    LanguageSpec(
        "tsx",
        "typescript",
        (FileType(".tsx", "TypeScript (TSX) Source Code"),),
        syntax=_TSX,
        test_paths=_JS_TEST_PATHS,
        tests=_js_tests,
    ),
    LanguageSpec(
        "go",
        "go",
        (FileType(".go", "Go Source Code"),),
        syntax=Syntax(
            Grammar("go", "tree_sitter_go"),
            definitions={"function_declaration": ("Functions", "function"), "type_spec": ("Types", "type")},
            definers={"method_declaration": ts.go_method},
            doc_wrappers=("type_declaration",),
            imports={"import_spec": ts.go_import},
            claims={"call_expression": ts.call_claim, "go_statement": ts.go_claim},
        ),
        doc_comment=godoc,
        test_paths=("*_test.go",),
        tests=_go_tests,
    ),
    LanguageSpec(
        "rust",
        "rust",
        (FileType(".rs", "Rust Source Code"),),
        syntax=Syntax(
            Grammar("rust", "tree_sitter_rust"),
            definitions={
                "function_item": ("Functions", "function"),
                "struct_item": ("Types", "struct"),
                "enum_item": ("Types", "enum"),
                "trait_item": ("Types", "trait"),
                "union_item": ("Types", "union"),
                "mod_item": ("Modules", "module"),
                "function_signature_item": ("Functions", "function"),
                "type_item": ("Types", "type alias"),
                "associated_type": ("Types", "associated type"),
            },
            definers={"impl_item": ts.rust_impl},
            classes=frozenset({"impl_item", "trait_item"}),
            methods=frozenset({"function_item"}),
            separator="::",
            returns=" -> ",
            imports={"use_declaration": ts.rust_use},
            tests={"function_item": ts.rust_test},  # `#[test]`
            claims={"call_expression": ts.call_claim, "unsafe_block": ts.unsafe_claim},
            finish=ts.rust_finish,
        ),
        doc_comment=rustdoc,
        tests=_rust_tests,
    ),
    LanguageSpec(
        "java",
        "java",
        (FileType(".java", "Java Source Code"),),
        syntax=Syntax(
            Grammar("java", "tree_sitter_java"),
            definitions={
                "class_declaration": ("Classes", "class"),
                "interface_declaration": ("Classes", "interface"),
                "enum_declaration": ("Classes", "enum"),
                "record_declaration": ("Classes", "record"),
                "method_declaration": ("Methods", "method"),
                "constructor_declaration": ("Methods", "constructor"),
                "annotation_type_declaration": ("Classes", "annotation"),
                "annotation_type_element_declaration": ("Methods", "element"),
                "enum_constant": ("Classes", "enum constant"),  # only one with a body of its own: a class
            },
            classes=frozenset(
                {
                    "class_declaration",
                    "interface_declaration",
                    "enum_declaration",
                    "record_declaration",
                    "annotation_type_declaration",
                    "enum_constant",
                }
            ),
            imports={"import_declaration": ts.java_import},
        ),
        test_paths=("Test*.java", "*Test.java", "*Tests.java", "*TestCase.java"),  # Maven Surefire's
    ),
    SHELL,
    LanguageSpec(
        "markdown",
        "text",
        (FileType(".md", "Markdown Documentation"), FileType(".markdown", "Markdown Documentation")),
        text_reader=text_formats.markdown,
    ),
    LanguageSpec("rst", "text", (FileType(".rst", "reStructuredText Documentation"),), text_reader=text_formats.rst),
    LanguageSpec(
        "yaml",
        "text",
        (FileType(".yml", "YAML Configuration"), FileType(".yaml", "YAML Configuration")),
        text_reader=text_formats.yaml_keys,
    ),
    LanguageSpec("toml", "text", (FileType(".toml", "TOML Configuration"),), text_reader=text_formats.toml_keys),
    LanguageSpec("json", "text", (FileType(".json", "JSON Data"),), text_reader=text_formats.json_keys),
    LanguageSpec("ini", "text", (FileType(".cfg", "INI Configuration"), FileType(".ini", "INI Configuration"))),
    LanguageSpec(
        "cmake",
        "text",
        (FileType(".cmake", "CMake Script"), FileType("CMakeLists.txt", "CMake Build Script")),
        text_reader=text_formats.cmake,
    ),
    LanguageSpec(
        "text",
        "text",
        (
            FileType(".txt", "Plain Text"),
            FileType(".html", "HTML Document", "html"),
            FileType(".css", "CSS Stylesheet", "css"),
            FileType(".xml", "XML Document", "xml"),
            FileType(".sql", "SQL Script", "sql"),
            FileType(".po", "Gettext Translation", "po"),
            FileType("Makefile", "Makefile", "makefile"),
            FileType("Dockerfile", "Dockerfile", "dockerfile"),
            FileType("LICENSE", "License Text"),
        ),
    ),
)


# --- what is derived from it ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Language:
    """How one file is named, fenced and analysed: its type and fence, and its language's spec."""

    type_name: str
    fence: str
    spec: LanguageSpec

    @property
    def key(self) -> str:
        """The analyser key: python, c, cpp, cuda, javascript, typescript, tsx, go, rust, java, bash, markdown, …"""
        return self.spec.key

    @property
    def switch(self) -> str:
        """The config's switch for it."""
        return self.spec.switch


@dataclass(frozen=True)
class _Index:
    by_key: dict[str, LanguageSpec]
    by_ext: dict[str, Language]  # lowercase extension, with its dot
    by_name: dict[str, Language]  # a file's whole name
    by_shebang: tuple[tuple[bytes, Language], ...]
    switches: tuple[str, ...]


@functools.cache
def _index(specs: tuple[LanguageSpec, ...]) -> _Index:
    by_key: dict[str, LanguageSpec] = {}
    by_ext: dict[str, Language] = {}
    by_name: dict[str, Language] = {}
    shebangs: list[tuple[bytes, Language]] = []
    for spec in specs:
        if by_key.setdefault(spec.key, spec) is not spec:
            raise ValueError(f"two languages have the key {spec.key!r}")
        for file in spec.files:
            table = by_ext if file.match.startswith(".") else by_name
            match = file.match.lower() if table is by_ext else file.match
            if match in table:
                raise ValueError(f"{file.match!r} is in two rows of the language table")
            table[match] = Language(file.type_name, file.fence or spec.fence_tag, spec)
        if spec.shebangs:
            first = spec.files[0]
            shebangs += [
                (word, Language(first.type_name, first.fence or spec.fence_tag, spec)) for word in spec.shebangs
            ]
    if "text" not in by_key:
        raise ValueError("the language table has no 'text' row, for files of no known kind")
    switches = tuple(dict.fromkeys(spec.switch for spec in specs))
    return _Index(by_key, by_ext, by_name, tuple(shebangs), switches)


def _table() -> _Index:
    return _index(SPECS)


def spec(key: str) -> LanguageSpec:
    """The spec of an analyser key (KeyError for none)."""
    return _table().by_key[key]


def switches() -> tuple[str, ...]:
    """The config's per-language switches, in the table's order."""
    return _table().switches


def language_of(path: str, first_line: bytes = b"") -> Language:
    """The language of a file, from its name, else its extension, else its shebang."""
    table = _table()
    name = posixpath.basename(path)
    if name in table.by_name:
        return table.by_name[name]
    ext = extension_of(path).lower()
    if ext in table.by_ext:
        return table.by_ext[ext]
    if first_line.startswith(b"#!"):
        for word, language in table.by_shebang:
            if word in first_line:
                return language
    text = table.by_key["text"]
    return Language(f"{ext[1:].upper()} File" if ext else "Text File", text.fence_tag, text)


def extension_of(path: str) -> str:
    """The extension with its dot, or '' (a leading dot is a hidden file, not an extension)."""
    name = posixpath.basename(path)
    stem, ext = posixpath.splitext(name)
    return ext if stem else ""
