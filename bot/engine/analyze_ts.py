"""Analysis through tree-sitter grammars (offline wheels): C family, CUDA, JS/TS, Go, Rust, Java,
shell, and Python whose syntax is newer than the running interpreter.

Rules of this module: walk syntax trees iteratively (deeply nested code must not exhaust the
stack); take names from name fields of definition nodes only, never from comments or strings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tree_sitter import Language, Node, Parser

from . import doc_comments
from .model import Analysis, Finding, Import, Symbol


def _loader(module: str, attr: str = "language") -> Callable[[], Any]:
    def load() -> Any:
        mod = __import__(module)
        return getattr(mod, attr)()

    return load


_GRAMMARS: dict[str, Callable[[], Any]] = {
    "python": _loader("tree_sitter_python"),
    "c": _loader("tree_sitter_c"),
    "cpp": _loader("tree_sitter_cpp"),
    "cuda": _loader("tree_sitter_cpp"),
    "javascript": _loader("tree_sitter_javascript"),
    "typescript": _loader("tree_sitter_typescript", "language_typescript"),
    "tsx": _loader("tree_sitter_typescript", "language_tsx"),
    "go": _loader("tree_sitter_go"),
    "rust": _loader("tree_sitter_rust"),
    "java": _loader("tree_sitter_java"),
    "bash": _loader("tree_sitter_bash"),
}


@functools.cache
def parser_for(key: str) -> Parser:
    """A tree-sitter parser for an analyser key (grammars load once per process)."""
    return Parser(Language(_GRAMMARS[key]()))


def supported(key: str) -> bool:
    """Whether a tree-sitter grammar serves this analyser key."""
    return key in _GRAMMARS


# node type -> (keyword group, kind) for definitions whose name sits in the `name` field
_DEFS: dict[str, dict[str, tuple[str, str]]] = {
    "c": {
        "struct_specifier": ("Classes/Structs", "struct"),
        "union_specifier": ("Classes/Structs", "union"),
        "enum_specifier": ("Classes/Structs", "enum"),
    },
    "cpp": {
        "class_specifier": ("Classes/Structs", "class"),
        "struct_specifier": ("Classes/Structs", "struct"),
        "union_specifier": ("Classes/Structs", "union"),
        "enum_specifier": ("Classes/Structs", "enum"),
        "namespace_definition": ("Namespaces", "namespace"),
    },
    "javascript": {
        "class_declaration": ("Classes", "class"),
        "function_declaration": ("Functions", "function"),
        "generator_function_declaration": ("Functions", "function"),
        "method_definition": ("Functions", "method"),
    },
    "typescript": {
        "interface_declaration": ("Types", "interface"),
        "type_alias_declaration": ("Types", "type"),
        "enum_declaration": ("Types", "enum"),
        "abstract_class_declaration": ("Classes", "class"),
        "function_signature": ("Functions", "function"),
        "method_signature": ("Functions", "method"),  # an interface's method, a class method's overload
        "abstract_method_signature": ("Functions", "method"),
        "internal_module": ("Namespaces", "namespace"),
        "construct_signature": ("Functions", "constructor"),  # `new (…): T` in an interface, named `new`
    },
    "go": {"function_declaration": ("Functions", "function"), "type_spec": ("Types", "type")},
    "rust": {
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
    "java": {
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
    "bash": {"function_definition": ("Functions", "function")},
    "python": {
        "class_definition": ("Classes", "class"),
        "function_definition": ("Functions", "function"),
        "type_alias_statement": ("Types", "type"),
    },
}
_DEFS["cuda"] = _DEFS["cpp"]
_DEFS["typescript"] = {**_DEFS["javascript"], **_DEFS["typescript"]}
_DEFS["tsx"] = _DEFS["typescript"]
_CLASS_LIKE = frozenset(
    {
        "class_specifier",
        "struct_specifier",
        "union_specifier",
        "class_declaration",
        "abstract_class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "annotation_type_declaration",
        "enum_constant",
        "impl_item",
        "trait_item",
        "class_definition",
    }
)
_SEP = {"c": "::", "cpp": "::", "cuda": "::", "rust": "::"}
_IMPORT_GROUP = {"c": "Includes", "cpp": "Includes", "cuda": "Includes", "bash": "Sources"}
# calls whose callee name backs a claim
_CALL_CLAIMS: dict[str, tuple[str, str]] = {
    "system": ("security", "`system()` runs a command through the shell"),
    "popen": ("security", "`popen()` runs a command through the shell"),
    "gets": ("security", "`gets()` cannot bound its input"),
    "strcpy": ("security", "`strcpy()` does not bound the copy"),
    "strcat": ("security", "`strcat()` does not bound the copy"),
    "sprintf": ("security", "`sprintf()` does not bound its output"),
    "eval": ("security", "`eval` executes a string as code"),
    "cudaMalloc": ("performance", "`cudaMalloc` allocates GPU memory"),
    "cudaMemcpy": ("performance", "`cudaMemcpy` copies between host and GPU"),
    "cudaDeviceSynchronize": ("performance", "`cudaDeviceSynchronize` blocks until the GPU is idle"),
}


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_CUDA_WORDS = re.compile(
    rb"__(global|device|host|shared|constant|forceinline|noinline|managed)__|__launch_bounds__\(|<<<"
)
_CUDA_CLOSE = {b"<": b">>>", b"_": b")"}  # a launch `<<<…>>>`, a `__launch_bounds__(…)`


def _blank_cuda(data: bytes) -> bytes:
    """CUDA qualifiers, `__launch_bounds__(…)` and launch configurations `<<<…>>>` blanked (newlines
    and offsets kept). One left-to-right pass: a construct whose closer never comes again is never
    looked for again (a regex `<<<.*?>>>` rescans to the end from every `<<<`: quadratic)."""
    out = bytearray(data)
    pos, unclosed = 0, set()
    while (match := _CUDA_WORDS.search(data, pos)) is not None:
        start, end = match.span()
        if match.group(1) is None:  # needs its closer
            closer = _CUDA_CLOSE[data[start : start + 1]]
            found = -1 if closer in unclosed else data.find(closer, end)
            if found < 0:
                unclosed.add(closer)
                pos = start + 1
                continue
            end = found + len(closer)
        out[start:end] = re.sub(rb"[^\n]", b" ", data[start:end])
        pos = end
    return bytes(out)


def analyze_tree_sitter(key: str, data: bytes) -> Analysis:
    """Analyse source bytes with the grammar for key; a tree with errors names its first line."""
    source = data
    if key == "cuda":  # the C++ grammar parses CUDA once its qualifiers are blanked (offsets kept)
        source = _blank_cuda(data)
    tree = parser_for(key).parse(source)
    result = Analysis(
        parser=f"tree-sitter-{'cpp' if key == 'cuda' else key}", import_group=_IMPORT_GROUP.get(key, "Imports")
    )
    root = tree.root_node
    if root.has_error:
        line = _first_error_line(root)
        result.error = f"syntax error at line {line}"
    _walk(key, root, result)
    if key == "cuda":
        _cuda_kernels(data, result)
    if key == "python":
        result.docstring = _python_docstring(root)
    if key == "rust":
        result.tests_inline = _rust_inline_tests(root)
    return result


_RUST_NOT_CODE = frozenset(
    {"attribute_item", "inner_attribute_item", "line_comment", "block_comment", "use_declaration"}
    | {"extern_crate_declaration", "empty_statement"}
)


def _rust_inline_tests(root: Node) -> bool:
    """Whether the file holds a `#[cfg(test)] mod … { … }` beside code of its own (a library file that
    contains tests), rather than being all tests (an integration test, a `tests.rs` module file)."""
    test_module = code = False
    children = root.named_children
    for index, child in enumerate(children):
        if child.type in _RUST_NOT_CODE or (child.type == "mod_item" and child.child_by_field_name("body") is None):
            continue
        attributes, above = [], index - 1
        while above >= 0 and children[above].type in ("attribute_item", "line_comment", "block_comment"):
            attributes.append(_text(children[above]).replace(" ", ""))
            above -= 1
        if child.type == "mod_item" and "#[cfg(test)]" in attributes:
            test_module = True
        else:
            code = True
    return test_module and code


def _cuda_kernels(data: bytes, result: Analysis) -> None:
    """A `__global__` function is a kernel (each line is looked at once, however many functions it holds)."""
    lines = data.splitlines()
    kernel_line: dict[int, bool] = {}
    for sym in result.symbols:
        if sym.group != "Functions" or not 0 < sym.line <= len(lines):
            continue
        if sym.line not in kernel_line:
            kernel_line[sym.line] = b"__global__" in lines[sym.line - 1].split(b"//")[0]
        if kernel_line[sym.line]:
            result.findings.append(Finding("performance", f"`__global__` kernel `{sym.name}`", sym.line))
    result.findings.sort(key=lambda f: (f.line, f.section, f.what))


def _first_error_line(root: Node) -> int:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return node.start_point[0] + 1
        if node.has_error:
            stack.extend(reversed(node.children))
    return root.start_point[0] + 1


def _python_docstring(root: Node) -> str:
    for child in root.named_children:
        if child.type == "comment":
            continue
        if child.type == "expression_statement" and child.named_children and child.named_children[0].type == "string":
            import ast

            try:
                value = ast.literal_eval(_text(child.named_children[0]))
            except (ValueError, SyntaxError):
                return ""
            import inspect

            return inspect.cleandoc(value) if isinstance(value, str) else ""
        return ""
    return ""


MAX_QUALIFIED_DEPTH = 8  # a qualified name shows at most this many enclosing definitions


def _walk(key: str, root: Node, result: Analysis) -> None:
    """One iterative pass over the tree; definitions nested deeper than MAX_QUALIFIED_DEPTH are named
    under their nearest shown parent (names, and so pages, stay proportional to the source)."""
    defs = _DEFS[key]
    sep = _SEP.get(key, ".")
    # each entry: node, its name prefix, whether it is in a class, its definition depth, and the named
    # siblings before it (tree-sitter finds a previous sibling from the root down: quadratic when deep)
    stack: list[tuple[Node, str, bool, int, list[Node], int]] = [(root, "", False, 0, [], 0)]
    found: set[tuple[str, str, int]] = set()
    handed: dict[int, str] = {}  # node id -> the doc comment above the wrapper (export, template, …) around it
    flattened = 0
    while stack:
        node, prefix, in_class, depth, siblings, before = stack.pop()  # siblings[:before]: named, earlier
        prev = siblings[before - 1] if before else None
        kind = node.type
        child_prefix, child_in_class, child_depth = prefix, in_class, depth
        first_symbol = len(result.symbols)
        if kind in _DOC_WRAPPERS.get(key, ()):
            _hand_doc(key, node, siblings, before, handed)
        if kind in defs or kind in ("function_definition", "method_declaration", "impl_item"):
            named = _definition(key, node, prev, prefix, in_class, defs, result)
            if named is not None:
                child_in_class = kind in _CLASS_LIKE
                child_depth = depth + 1
                if depth > MAX_QUALIFIED_DEPTH and kind != "impl_item":
                    flattened += 1
                if child_depth <= MAX_QUALIFIED_DEPTH:
                    child_prefix = named + sep
        elif kind in ("lexical_declaration", "variable_declaration") and key in ("javascript", "typescript", "tsx"):
            _js_function_vars(node, prev, prefix, result)
        elif kind in _JS_BOUND and key in _JS:
            child_prefix, child_in_class = _js_bound_function(node, prefix, in_class, result)
        elif kind in ("declaration", "field_declaration") and key in ("c", "cpp", "cuda"):
            _c_function(node, prev, prefix, in_class, result, declared=True)
        if len(result.symbols) > first_symbol:
            doc = handed.pop(node.id, None)
            _set_doc(result.symbols, first_symbol, _doc_above(key, node, siblings, before) if doc is None else doc)
        _imports(key, node, result)
        _claims(key, node, found)
        _test_case(key, node, siblings, before, result)
        children = node.children
        named_children = [child for child in children if child.is_named]
        count = len(named_children)
        for child in reversed(children):
            if child.is_named:
                count -= 1
            stack.append((child, child_prefix, child_in_class, child_depth, named_children, count))
    result.findings = [Finding(s, w, line) for s, w, line in sorted(found, key=lambda f: (f[2], f[0], f[1]))]
    if flattened:
        result.fallback = (
            f"{flattened:,} definitions nested more than {MAX_QUALIFIED_DEPTH} levels deep are named "
            "under their nearest shown parent"
        )


def _definition(
    key: str,
    node: Node,
    prev: Node | None,
    prefix: str,
    in_class: bool,
    defs: dict[str, tuple[str, str]],
    result: Analysis,
) -> str | None:
    """Record a definition node as a symbol; return its qualified name for nesting."""
    kind = node.type
    if kind == "impl_item":  # rust: methods inside `impl Type`
        return _one_line(_text(node.child_by_field_name("type")))
    if kind == "function_definition" and key in ("c", "cpp", "cuda"):
        return _c_function(node, prev, prefix, in_class, result)
    if kind == "method_declaration" and key == "go":
        return _go_method(node, prev, result)
    if kind not in defs:
        return None
    group, sym_kind = defs[kind]
    name_node = node.child_by_field_name("name") or node.child_by_field_name("left")
    if name_node is None and kind == "construct_signature":
        name_node = node.child(0)  # the `new` keyword
    if name_node is None:
        return None
    if (
        kind in ("struct_specifier", "class_specifier", "union_specifier", "enum_specifier", "enum_constant")
        and node.child_by_field_name("body") is None
    ):
        return None  # a use or forward declaration, not a definition; an enum constant without a body
    name = prefix + _text(name_node)
    if key == "python" and kind == "function_definition" and in_class:
        sym_kind = "method"
    if kind == "function_item" and in_class:
        sym_kind = "method"
    params = node.child_by_field_name("parameters")
    sig = _one_line(_text(params)) if params is not None else ""
    ret = node.child_by_field_name("return_type") or node.child_by_field_name("result")
    if kind == "construct_signature":
        ret = node.child_by_field_name("type")
    if ret is not None and sig:
        ret_text = _one_line(_text(ret))
        sig += ret_text if ret_text.startswith(":") else (" -> " if key in ("python", "rust") else " ") + ret_text
    bases = _bases(node)
    line = name_node.start_point[0] + 1  # the name's line, not that of an annotation or modifier above it
    result.symbols.append(Symbol(group, sym_kind, name, line, sig, _doc_comment(node, prev), bases))
    return name


def _bases(node: Node) -> tuple[str, ...]:
    for field in ("superclasses", "superclass", "base_class_clause"):
        sub = node.child_by_field_name(field)
        if sub is not None:
            return tuple(_one_line(_text(c)) for c in sub.named_children) or (_one_line(_text(sub)),)
    for child in node.children:
        if child.type in ("base_class_clause", "class_heritage"):
            text = _one_line(_text(child)).lstrip(":").strip()
            text = text.removeprefix("extends ").strip()
            return tuple(part.strip() for part in text.split(",") if part.strip())
    return ()


_C_NAMES = (
    "identifier",
    "field_identifier",
    "qualified_identifier",
    "destructor_name",
    "operator_name",
    "template_function",
)


def _c_function(
    node: Node, prev: Node | None, prefix: str, in_class: bool, result: Analysis, declared: bool = False
) -> str | None:
    """A C/C++ function definition, or (declared) a prototype: in a header, the API."""
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type not in ("function_declarator",):
        decl = decl.child_by_field_name("declarator")
    if decl is None:
        return None
    name_node = decl.child_by_field_name("declarator")
    name = _text(name_node)
    if not name or name_node is None or name_node.type not in _C_NAMES:
        return None  # e.g. a function pointer variable `int (*fp)(int);`
    full = prefix + name
    kind = "declaration" if declared else "method" if in_class or "::" in name else "function"
    ret = node.child_by_field_name("type")
    sig = _one_line(_text(decl.child_by_field_name("parameters")))
    if ret is not None:
        sig = f"{_one_line(_text(ret))} {name.split('::')[-1]}{sig}"
    result.symbols.append(Symbol("Functions", kind, full, node.start_point[0] + 1, sig, _doc_comment(node, prev)))
    return full


def _go_method(node: Node, prev: Node | None, result: Analysis) -> str | None:
    recv = node.child_by_field_name("receiver")
    name = _text(node.child_by_field_name("name"))
    rtype = ""
    if recv is not None:
        for param in recv.named_children:
            rtype = _text(param.child_by_field_name("type")).lstrip("*")
    full = f"{rtype}.{name}" if rtype else name
    sig = _one_line(_text(node.child_by_field_name("parameters")))
    name_node = node.child_by_field_name("name") or node
    line = name_node.start_point[0] + 1
    result.symbols.append(Symbol("Functions", "method", full, line, sig, _doc_comment(node, prev)))
    return full


_JS_FUNCTIONS = ("arrow_function", "function_expression", "function", "generator_function")
# nodes that bind a function to a name other than by declaring it: `a.b = function …`, `{ k: () => … }`,
# a class field `handler = () => …`
_JS_BOUND = ("assignment_expression", "pair", "field_definition", "public_field_definition", "variable_declarator")


def _assigned(value: Node) -> Node:
    """The value at the end of a chain of assignments `a = b.c = function …` (a few links followed)."""
    for _ in range(MAX_QUALIFIED_DEPTH):
        right = value.child_by_field_name("right") if value.type == "assignment_expression" else None
        if right is None:
            break
        value = right
    return value


def _js_signature(value: Node) -> str:
    params = value.child_by_field_name("parameters") or value.child_by_field_name("parameter")
    sig = _one_line(_text(params))
    ret = value.child_by_field_name("return_type")
    return sig + _one_line(_text(ret)) if ret is not None and sig.startswith("(") else sig


def _js_function_vars(node: Node, prev: Node | None, prefix: str, result: Analysis) -> None:
    """`const f = (…) => …`, `let g = async function* () {}`: a function expression bound to a name."""
    for decl in node.named_children:
        if decl.type != "variable_declarator":
            continue
        name = decl.child_by_field_name("name")
        value = decl.child_by_field_name("value")
        value = _assigned(value) if value is not None else None
        if name is not None and name.type == "identifier" and value is not None and value.type in _JS_FUNCTIONS:
            result.symbols.append(
                Symbol(
                    "Functions",
                    "function",
                    prefix + _text(name),
                    name.start_point[0] + 1,
                    _js_signature(value),
                    _doc_comment(node, prev),
                )
            )


def _member_path(node: Node) -> str:
    """`a.b.c` for a member expression made of plain names only ('' for `this.x`, `a[b]`, `f().x`)."""
    parts: list[str] = []
    while node.type == "member_expression":
        prop = node.child_by_field_name("property")
        obj = node.child_by_field_name("object")
        if prop is None or obj is None or prop.type not in ("property_identifier", "private_property_identifier"):
            return ""
        parts.append(_text(prop))
        node = obj
    if node.type != "identifier":
        return ""
    return ".".join([_text(node), *reversed(parts)])


def _object_prefix(name: str, prefix: str) -> str:
    """The prefix of what is defined inside name; past MAX_QUALIFIED_DEPTH levels, prefix (its parent's)."""
    return name + "." if name.count(".") < MAX_QUALIFIED_DEPTH else prefix


def _js_bound_function(node: Node, prefix: str, in_class: bool, result: Analysis) -> tuple[str, bool]:
    """A function bound to a name by other than a declaration: `Foo.prototype.bar = function …` (named
    as written, a method), `module.exports.x = …`, `obj.all = …`, `f = …` (functions), a class field
    `h = () => …` and, in an object literal bound to a name, `k: function …` (methods, named in their
    object: `o.k` for `const o = {k: …}`). Returns the prefix and class flag of what node holds: an
    object literal bound to a name holds members of that name, anything else none."""
    kind = node.type
    if kind == "assignment_expression":
        left, value = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or value is None:
            return prefix, False
        value = _assigned(value)
        name_node: Node | None = left
        if left.type == "identifier":
            name = prefix + _text(left)
        else:
            name, name_node = _member_path(left), left.child_by_field_name("property")
        if not name or name_node is None:
            return prefix, False
        if value.type == "object":
            return _object_prefix(name, prefix), True
        sym_kind = "method" if ".prototype." in name else "function"
    else:
        field = {"pair": "key", "field_definition": "property"}.get(kind, "name")
        name_node, value = node.child_by_field_name(field), node.child_by_field_name("value")
        if name_node is None or value is None or (kind == "pair" and not in_class):
            return prefix, False  # a pair of an object literal that no name holds: a call's options
        if name_node.type not in ("property_identifier", "private_property_identifier", "identifier", "string"):
            return prefix, False  # a computed key `[k]: …`, a destructuring pattern
        name = prefix + _text(name_node).strip("'\"")
        if value.type == "object":
            return _object_prefix(name, prefix), True
        sym_kind = "method"
    if value.type not in _JS_FUNCTIONS:
        return prefix, False
    if kind != "variable_declarator":  # a declarator's function is listed by _js_function_vars
        line = name_node.start_point[0] + 1
        result.symbols.append(Symbol("Functions", sym_kind, name, line, _js_signature(value)))
    return _object_prefix(name, prefix), False


_COMMENTS = ("comment", "line_comment", "block_comment")
# a node whose doc comment sits above the node around it: `export function f`, `declare function g`,
# `a.b = function …;` (its expression statement), `template <…> T f()`, a Go `type T struct` (its
# `type` declaration), a decorated Python definition
_DOC_WRAPPERS: dict[str, tuple[str, ...]] = {
    "javascript": ("export_statement", "expression_statement"),
    "typescript": ("export_statement", "expression_statement", "ambient_declaration"),
    "tsx": ("export_statement", "expression_statement", "ambient_declaration"),
    "cpp": ("template_declaration",),
    "cuda": ("template_declaration",),
    "go": ("type_declaration",),
    "python": ("decorated_definition",),
}
_ATTRIBUTES = ("attribute_item",)  # Rust's `#[…]` between an item's doc comment and the item
MAX_DOC_COMMENTS = 200  # comment nodes read above one definition


def _doc_comment(node: Node, prev: Node | None) -> str:
    """The summary of the one comment right above node (prev: its previous named sibling); _walk
    replaces it with the summary of the whole comment block (_doc_above)."""
    if prev is None or prev.type not in _COMMENTS or prev.end_point[0] < node.start_point[0] - 1:
        return ""
    return doc_comments.first_sentence(doc_comments.comment_lines(_text(prev)))


def _doc_above(key: str, node: Node, siblings: list[Node], before: int) -> str:
    """The first sentence of the block of comments right above node (siblings[:before]: its named
    siblings before it), across Rust attributes; a comment that ends a line of code is not one of them."""
    index, top = before - 1, node.start_point[0]
    while index >= 0 and siblings[index].type in _ATTRIBUTES and siblings[index].end_point[0] >= top - 1:
        top = siblings[index].start_point[0]
        index -= 1
    comments: list[Node] = []
    while (
        index >= 0
        and len(comments) < MAX_DOC_COMMENTS
        and siblings[index].type in _COMMENTS
        and siblings[index].end_point[0] >= top - 1
    ):
        comments.append(siblings[index])
        top = siblings[index].start_point[0]
        index -= 1
    if comments and index >= 0 and siblings[index].end_point[0] == comments[-1].start_point[0]:
        comments.pop()  # `x = 1; // note`: it remarks on the code before it
    return doc_comments.summary(key, [_text(c) for c in reversed(comments)])


def _hand_doc(key: str, node: Node, siblings: list[Node], before: int, handed: dict[int, str]) -> None:
    """Give the doc comment above a wrapper to the definition it wraps (its last named child)."""
    doc = handed.pop(node.id, None)
    if doc is None and not (before and siblings[before - 1].type in _COMMENTS + _ATTRIBUTES):
        return  # nothing above it: what it wraps finds its own comments, if any
    inner = [child for child in node.named_children if child.type not in _COMMENTS]
    if inner and (len(inner) == 1 or node.type != "type_declaration"):
        handed[inner[-1].id] = _doc_above(key, node, siblings, before) if doc is None else doc


def _set_doc(symbols: list[Symbol], first: int, doc: str) -> None:
    """The doc of the symbols from first on, which one definition node made."""
    for index in range(first, len(symbols)):
        if symbols[index].doc != doc:
            symbols[index] = replace(symbols[index], doc=doc)


def _imports(key: str, node: Node, result: Analysis) -> None:
    kind = node.type
    line = node.start_point[0] + 1
    if kind == "preproc_include":
        path = _text(node.child_by_field_name("path"))
        result.imports.append(Import(path.strip('"<>'), line, (), path.startswith("<")))
    elif kind == "import_statement" and key in ("javascript", "typescript", "tsx"):
        source = node.child_by_field_name("source")
        result.imports.append(Import(_text(source).strip("'\"`"), line))
    elif kind == "call_expression" and key in ("javascript", "typescript", "tsx"):
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if (
            _text(fn) == "require"
            and args is not None
            and args.named_children
            and args.named_children[0].type == "string"
        ):
            result.imports.append(Import(_text(args.named_children[0]).strip("'\"`"), line))
    elif kind == "import_spec":
        result.imports.append(Import(_text(node.child_by_field_name("path")).strip('"`'), line))
    elif kind == "use_declaration":
        result.imports.append(Import(_one_line(_text(node.child_by_field_name("argument"))), line))
    elif kind == "import_declaration" and key == "java":
        names = [c for c in node.named_children if c.type in ("scoped_identifier", "identifier")]
        if names:
            result.imports.append(Import(_text(names[0]), line, (), _text(names[0]).startswith("java.")))
    elif kind in ("import_statement", "import_from_statement") and key == "python":
        mod = node.child_by_field_name("module_name")
        targets = [mod] if mod is not None else node.children_by_field_name("name")
        for target in targets:
            name = target.child_by_field_name("name") if target.type == "aliased_import" else target
            result.imports.append(Import(_text(name), line))
    elif kind == "command" and key == "bash":
        command = _text(node.child_by_field_name("name"))
        operands = node.children_by_field_name("argument")
        if command in ("source", ".") and operands:
            result.imports.append(Import(_text(operands[0]).strip("'\""), line))


_JS = ("javascript", "typescript", "tsx")


def _test_case(key: str, node: Node, siblings: list[Node], before: int, result: Analysis) -> None:
    """Rust `#[test]` functions (their attributes are among siblings[:before]); JS/TS `test("name", …)` /
    `it("name", …)` calls."""
    if key == "rust" and node.type == "function_item":
        for index in range(before - 1, -1, -1):
            prev = siblings[index]
            if prev.type != "attribute_item":
                break
            if _text(prev).replace(" ", "") in ("#[test]", "#[tokio::test]") or _text(prev).endswith("::test]"):
                result.tests.append(_text(node.child_by_field_name("name")))
                break
    elif key in _JS and node.type == "call_expression":
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if _text(fn) in ("test", "it") and args is not None and args.named_children:
            first = args.named_children[0]
            if first.type in ("string", "template_string"):
                result.tests.append(_text(first)[1:-1])


def _claims(key: str, node: Node, found: set[tuple[str, str, int]]) -> None:
    kind = node.type
    line = node.start_point[0] + 1
    if kind == "call_expression":
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "identifier" and _text(fn) in _CALL_CLAIMS:
            found.add((*_CALL_CLAIMS[_text(fn)], line))
    elif kind == "command" and key == "bash" and _text(node.child_by_field_name("name")) == "eval":
        found.add(("security", "`eval` executes a string as code", line))
    elif kind == "unsafe_block":
        found.add(("security", "`unsafe` block bypasses the borrow checker", line))
    elif (
        kind == "preproc_call"
        and _text(node.child_by_field_name("directive")) == "#pragma"
        and _text(node.child_by_field_name("argument")).strip().startswith("omp")
    ):
        found.add(("performance", "`#pragma omp` parallelises with OpenMP", line))
    elif kind == "go_statement":
        found.add(("performance", "`go` statement starts a goroutine", line))
