"""Analysis through tree-sitter grammars (offline wheels): C family, CUDA, JS/TS, Go, Rust, Java,
shell, and Python whose syntax is newer than the running interpreter.

Rules of this module: walk syntax trees iteratively (deeply nested code must not exhaust the
stack); take names from name fields of definition nodes only, never from comments or strings.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from tree_sitter import Language, Node, Parser

from . import doc_comments
from .language_spec import Grammar, LanguageSpec, Syntax
from .model import Analysis, Finding, Import, Symbol


@functools.cache
def parser_for(grammar: Grammar) -> Parser:
    """A tree-sitter parser for a grammar (grammars load once per process)."""
    return Parser(Language(grammar.load()))


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


def blank_cuda(data: bytes) -> bytes:
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


# C/C++ macros the grammar cannot know: a file whose tree has errors is parsed again with two shapes of
# macro blanked (offsets and newlines kept, so lines stay right). A call of an ALL_CAPS macro followed by
# an identifier, a directive, `}` or the end (`MYLIB_OBJECT(Foo)` with no `;`), and an ALL_CAPS word too
# many in a declaration's head (`MYLIB_API int f(void);`, `static INLINE T *g(void)`, `class API Foo`).
_C_TOKENS = re.compile(
    rb"(?P<skip>//[^\n]*|/\*.*?(?:\*/|\Z)|R\"(?P<delim>[^(\s\"]{0,16})\(.*?\)(?P=delim)\"|\"(?:\\.|[^\"\\\n])*\""
    rb"|'(?:\\.|[^'\\\n])*'|\d[\w.']*)"
    rb"|(?P<pre>^[ \t]*\#(?:\\\r?\n|[^\n])*)"
    rb"|(?P<word>[A-Za-z_]\w*)"
    rb"|(?P<punct>::|->|&&|[^\s\w])",
    re.S | re.M,
)
_C_MACRO = re.compile(rb"[A-Z][A-Z0-9_]*[A-Z0-9]\Z")  # ALL_CAPS, two characters or more
_C_PRIMITIVE = frozenset(
    b"void bool char int float double long short signed unsigned auto _Bool wchar_t char8_t char16_t "
    b"char32_t __int64 __int128".split()
)
_C_SPECIFIER = frozenset(
    b"static extern inline const volatile constexpr consteval constinit virtual explicit friend typedef "
    b"register thread_local mutable restrict __restrict __inline __inline__ __forceinline _Noreturn "
    b"_Thread_local __extension__ typename".split()
)
_C_TAG = frozenset(b"struct union enum class".split())
_C_AFTER_CALL = frozenset(
    b"const volatile override final noexcept throw try requires mutable __attribute__ __asm__ asm".split()
)
_C_LEADS = frozenset(b"template namespace using struct union enum class typedef".split())
_C_KEYWORDS = (
    _C_PRIMITIVE
    | _C_SPECIFIER
    | _C_TAG
    | _C_AFTER_CALL
    | frozenset(
        b"if else while for do switch case default goto break continue return sizeof alignof new delete "
        b"using namespace template operator public private protected static_assert co_return co_yield "
        b"co_await catch decltype this nullptr true false NULL".split()
    )
)


def _c_tokens(data: bytes) -> list[tuple[str, int, int, bytes]]:
    """(kind, start, end, text) of the code tokens: comments, literals and numbers are `skip`."""
    return [
        (m.lastgroup if m.lastgroup and m.lastgroup != "delim" else "skip", m.start(), m.end(), m.group())
        for m in _C_TOKENS.finditer(data)
    ]


def _c_closings(tokens: list[tuple[str, int, int, bytes]]) -> dict[int, int]:
    """Index of each `(` -> index of its `)`, in one pass (a call spans no statement: `;`, braces and
    directives end every open parenthesis)."""
    closing: dict[int, int] = {}
    opened: list[int] = []
    for index, (kind, _, _, text) in enumerate(tokens):
        if text == b"(":
            opened.append(index)
        elif text == b")" and opened:
            closing[opened.pop()] = index
        elif kind == "pre" or text in (b";", b"{", b"}"):
            opened.clear()
    return closing


def _c_unmacro(data: bytes) -> bytes:
    """data with the two macro shapes blanked (see above); every other byte kept."""
    tokens = [t for t in _c_tokens(data) if t[0] != "skip"]
    closings = _c_closings(tokens)
    blank: list[tuple[int, int]] = []
    head: list[int] = []  # indexes of the current statement's head tokens, from its boundary
    index = 0
    while index < len(tokens):
        kind, start, end, text = tokens[index]
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        if kind == "word" and _C_MACRO.match(text) and text not in _C_KEYWORDS and after and after[3] == b"(":
            close = closings.get(index + 1, -1)
            follow = tokens[close + 1] if 0 <= close < len(tokens) - 1 else None
            before = tokens[index - 1] if index else None
            leads = before is None or before[0] == "pre" or before[3] in _C_SPECIFIER or before[3] in b";{}"
            if close > 0 and (
                follow is None
                or follow[0] == "pre"
                or follow[3] == b"}"
                or (follow[0] == "word" and (follow[3] not in _C_AFTER_CALL or leads))
            ):
                blank.append((start, tokens[close][2]))
                index = close + 1
                continue
            if close > 0 and _c_odd_arguments(data, tokens, closings, index + 1, close):
                blank.append((after[2], tokens[close][1]))  # `MACRO(int, a, )`: a call of no arguments
                head += [index, index + 1]
                index = close + 1
                continue
        if (
            kind == "word"
            and index
            and tokens[index - 1][3] in (b"*", b"&", b"&&")
            and after
            and after[0] == "word"
            and _C_MACRO.match(text)
            and text not in _C_KEYWORDS
        ):  # `int *RESTRICT p`
            blank.append((start, end))
            index += 1
            continue
        if kind == "pre" and index + 2 < len(tokens) and text.lstrip().startswith(b"#if"):
            # `#ifdef __cplusplus` / `extern "C" {` / `#endif`, and its `}` in another: braces the grammar
            # cannot pair across conditionals
            shape = [t[3] if t[0] != "pre" else b"#" for t in tokens[index + 1 : index + 4]]
            if shape[:3] == [b"extern", b"{", b"#"] or shape[:2] == [b"}", b"#"]:
                closing = index + (3 if shape[0] == b"extern" else 2)
                blank.append((tokens[index + 1][1], tokens[closing - 1][2]))
                index = closing
                continue
        if kind == "pre" or text in (b";", b"{", b"}"):
            _c_head(tokens, head, blank)
            head = []
        elif text == b":" and head and tokens[head[-1]][3] in (b"public", b"private", b"protected"):
            if len(head) == 2 and _C_MACRO.match(tokens[head[0]][3]):  # `Q_OBJECT public:`
                blank.append(tokens[head[0]][1:3])
            head = []
        else:
            head.append(index)
        index += 1
    _c_head(tokens, head, blank)
    if not blank:
        return data
    out = bytearray(data)
    for start, end in blank:
        out[start:end] = re.sub(rb"[^\n]", b" ", data[start:end])
    return bytes(out)


def _c_odd_arguments(
    data: bytes, tokens: list[tuple[str, int, int, bytes]], closings: dict[int, int], opening: int, closing: int
) -> bool:
    """Whether a macro's arguments hold one no expression can be: empty, or starting with a type keyword
    (nested parentheses are stepped over, so each token is looked at once per enclosing call)."""
    first, index = True, opening + 1
    while index <= closing:
        text = tokens[index][3]
        if first:
            if text in (b",", b")") and not data[tokens[index - 1][2] : tokens[index][1]].strip():
                return index < closing or tokens[index - 1][3] == b","  # `()` is no argument, not an empty one
            if text in _C_PRIMITIVE or text in _C_SPECIFIER or text in _C_TAG:
                return True
        first = text == b","
        if text == b"(" and index in closings:
            index = closings[index]
        index += 1
    return False


def _c_head(tokens: list[tuple[str, int, int, bytes]], head: list[int], blank: list[tuple[int, int]]) -> None:
    """Blank the ALL_CAPS words too many before a declaration's name (a declaration has one type word,
    none beside a primitive type); a class head's ALL_CAPS word before its name."""
    if len(head) > 1 and _C_MACRO.match(tokens[head[0]][3]) and tokens[head[0]][3] not in _C_KEYWORDS:
        second = tokens[head[1]][3]
        if second in _C_LEADS or (second in _C_SPECIFIER and second not in (b"const", b"volatile")):
            blank.append(tokens[head[0]][1:3])  # `MACRO template <…>`, `MYLIB_API struct s *f(void)`
            head = head[1:]
    words: list[int] = []  # the type words: plain or qualified identifiers, in order
    primitive = False
    index = 0
    while index < len(head):
        kind, _, _, text = tokens[head[index]]
        if text in _C_TAG:
            following = [tokens[i] for i in head[index + 1 : index + 3]]
            if (
                len(following) == 2
                and following[0][0] == following[1][0] == "word"
                and _C_MACRO.match(following[0][3])
                and following[1][3] not in _C_KEYWORDS
            ):
                blank.append((following[0][1], following[0][2]))  # `class MYLIB_API Foo`
            return
        if kind != "word" and text not in (b"*", b"&", b"&&", b"::", b"<"):
            break
        if text in (b"template", b"__attribute__", b"__declspec", b"alignas") and index + 1 < len(head):
            opener = tokens[head[index + 1]][3]
            closer = {b"<": b">", b"(": b")"}.get(opener)
            if closer is None:
                return
            depth, index = 0, index + 1
            while index < len(head):
                t = tokens[head[index]][3]
                depth += (t == opener) - (t == closer)
                if depth == 0:
                    break
                index += 1
        elif text == b"<":  # template arguments of the word before
            depth = 0
            while index < len(head):
                t = tokens[head[index]][3]
                depth += (t == b"<") - (t == b">")
                if depth == 0:
                    break
                index += 1
        elif text == b"::":
            if words and index + 1 < len(head):
                index += 1  # `a::b` is one word
        elif kind == "word":
            if text in _C_PRIMITIVE:
                primitive = True
            elif text not in _C_SPECIFIER:
                if text in _C_KEYWORDS:
                    return  # a statement, `operator`, `template`, …
                words.append(head[index])
        index += 1
    if not words or (index < len(head) and tokens[head[index]][3] not in (b"(", b"[", b"=", b",", b":")):
        return
    words.pop()  # the declarator's name
    extra = len(words) - (0 if primitive else 1)
    for word in words:
        if extra <= 0:
            break
        if _C_MACRO.match(tokens[word][3]):
            blank.append((tokens[word][1], tokens[word][2]))
            extra -= 1


def analyze_tree_sitter(language: LanguageSpec | str, data: bytes) -> Analysis:
    """Analyse source bytes with a language's grammar (a spec, or its key in the language table); a tree
    with errors names its first line."""
    spec = language if isinstance(language, LanguageSpec) else _spec(language)
    syntax = spec.syntax
    if syntax is None:
        raise ValueError(f"{spec.key} has no tree-sitter grammar")
    source = syntax.prepare(data) if syntax.prepare is not None else data
    parser = parser_for(syntax.grammar)
    root = parser.parse(source).root_node
    result = Analysis(parser=f"tree-sitter-{syntax.grammar.name}", import_group=spec.import_group)
    if root.has_error and syntax.reparse is not None:
        root = syntax.reparse(parser, source, root)
    if root.has_error:  # the grammar's, not the language's, verdict: what it found is still listed
        result.partial = _first_error_line(root)
    _walk(spec, root, result)
    if syntax.finish is not None:
        syntax.finish(data, root, result)
    return result


def _spec(key: str) -> LanguageSpec:
    from .languages import spec  # the table names this module's readers: imported when first asked

    return spec(key)


_RUST_NOT_CODE = frozenset(
    {"attribute_item", "inner_attribute_item", "line_comment", "block_comment", "use_declaration"}
    | {"extern_crate_declaration", "empty_statement"}
)


def rust_finish(data: bytes, root: Node, result: Analysis) -> None:
    """Whether the file's tests sit in a module beside its code."""
    result.tests_inline = _rust_inline_tests(root)


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


def cuda_finish(data: bytes, root: Node, result: Analysis) -> None:
    """Its kernels."""
    cuda_kernels(data, result)


def cuda_kernels(data: bytes, result: Analysis) -> None:
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


def c_reparse(parser: Parser, source: bytes, root: Node) -> Node:
    """The tree of source with macros blanked, when its first error comes no earlier (or it has none)."""
    return _reparsed(parser, source, _c_unmacro(source), root)


# shapes `bash -n` accepts and the grammar does not: a test whose operator is not written out
# (`[ "$op" "$x" ]`), an operator after a here-doc's start (`cat <<EOF ||`); shell pages list functions and
# sourced files, which blanking a test's brackets or that operator does not change
_SH_BRACKETS = re.compile(rb"(?<![^\s;&|(!])\[\[?(?=\s)|(?<=\s)\]\]?(?=[\s;&|)]|\Z)")
_SH_HEREDOC_OPERATOR = re.compile(rb"(?<=<<)(-?[ \t]*\\?['\"]?\w+['\"]?[ \t]*)(\|\||&&)")


def sh_reparse(parser: Parser, source: bytes, root: Node) -> Node:
    """The tree of source with those shapes blanked, when its first error comes no earlier (or it has none)."""
    blanked = _SH_BRACKETS.sub(lambda m: b" " * len(m.group()), source)
    blanked = _SH_HEREDOC_OPERATOR.sub(lambda m: m.group(1) + b"  ", blanked)
    return _reparsed(parser, source, blanked, root)


def _reparsed(parser: Parser, source: bytes, blanked: bytes, root: Node) -> Node:
    """The tree of blanked (source with some shapes blanked, offsets kept) when it differs from source and its
    first error comes no earlier than root's (or it has none), else root."""
    if blanked == source:
        return root
    again = parser.parse(blanked).root_node
    if not again.has_error or _first_error_line(again) >= _first_error_line(root):
        return again
    return root


def _first_error_line(root: Node) -> int:
    stack = list(reversed(root.children)) if root.type == "ERROR" else [root]  # a root ERROR spans all
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return node.start_point[0] + 1
        if node.has_error:
            stack.extend(reversed(node.children))
    return root.start_point[0] + 1


def python_finish(data: bytes, root: Node, result: Analysis) -> None:
    """The module's docstring."""
    result.docstring = _python_docstring(root)


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


def _walk(spec: LanguageSpec, root: Node, result: Analysis) -> None:
    """One iterative pass over the tree; definitions nested deeper than MAX_QUALIFIED_DEPTH are named
    under their nearest shown parent (names, and so pages, stay proportional to the source)."""
    syntax = spec.syntax
    assert syntax is not None
    defs, definers, readers = syntax.definitions, syntax.definers, syntax.readers
    imports, tests, claims = syntax.imports, syntax.tests, syntax.claims
    sep = syntax.separator
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
        if kind in syntax.doc_wrappers:
            _hand_doc(spec, node, siblings, before, handed)
        definer = definers.get(kind)
        if definer is not None or kind in defs:
            if definer is not None:
                named = definer(node, prev, prefix, in_class, result)
            else:
                named = _definition(syntax, node, prev, prefix, in_class, result)
            if named is not None:
                child_in_class = kind in syntax.classes
                child_depth = depth + 1
                if depth > MAX_QUALIFIED_DEPTH and len(result.symbols) > first_symbol:  # not a Rust `impl`
                    flattened += 1
                if child_depth <= MAX_QUALIFIED_DEPTH:
                    child_prefix = named + sep
        elif kind in readers:
            scope = readers[kind](node, prev, prefix, in_class, result)
            if scope is not None:
                child_prefix, child_in_class = scope
        if len(result.symbols) > first_symbol:
            doc = handed.pop(node.id, None)
            _set_doc(result.symbols, first_symbol, _doc_above(spec, node, siblings, before) if doc is None else doc)
        if kind in imports:
            imports[kind](node, result)
        if kind in claims:
            claims[kind](node, found)
        if kind in tests:
            tests[kind](node, siblings, before, result)
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


def rust_impl(node: Node, prev: Node | None, prefix: str, in_class: bool, result: Analysis) -> str | None:
    """Rust's `impl Type`: no symbol, the name its methods are qualified with."""
    return _one_line(_text(node.child_by_field_name("type")))


def _definition(
    syntax: Syntax, node: Node, prev: Node | None, prefix: str, in_class: bool, result: Analysis
) -> str | None:
    """Record a definition node as a symbol; return its qualified name for nesting."""
    kind = node.type
    group, sym_kind = syntax.definitions[kind]
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
    if kind in syntax.methods and in_class:
        sym_kind = "method"
    params = node.child_by_field_name("parameters")
    sig = _one_line(_text(params)) if params is not None else ""
    ret = node.child_by_field_name("return_type") or node.child_by_field_name("result")
    if kind == "construct_signature":
        ret = node.child_by_field_name("type")
    if ret is not None and sig:
        ret_text = _one_line(_text(ret))
        sig += ret_text if ret_text.startswith(":") else syntax.returns + ret_text
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
    "operator_cast",
)
_C_POINTERS = ("pointer_declarator", "reference_declarator")
# where a declaration is part of the API: not a local variable or statement in a function's body
_C_SCOPES = frozenset({"translation_unit", "declaration_list", "field_declaration_list"})
_C_WRAPPERS = frozenset(
    {
        "template_declaration",
        "linkage_specification",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "ERROR",
    }
)
_C_NOT_NAMES = frozenset(word.decode() for word in _C_KEYWORDS) - {"operator"}


def _c_declarator(node: Node) -> tuple[Node | None, str]:
    """The function declarator (or conversion operator) under node's declarator, and the `*`/`&` of the
    pointers and references on the way to it."""
    decl = node.child_by_field_name("declarator")
    marks = ""
    while decl is not None and decl.type not in ("function_declarator", "operator_cast"):
        if decl.type in _C_POINTERS:
            marks += "".join(_text(c) for c in decl.children if c.type in ("*", "&", "&&"))
        inner = decl.child_by_field_name("declarator")
        if inner is None and decl.type in _C_POINTERS:  # `Foo &bar()`: the reference's declarator is unnamed
            inner = next(
                (c for c in decl.named_children if c.type.endswith("declarator") or c.type == "operator_cast"), None
            )
        decl = inner
    return decl, marks


def c_declaration(node: Node, prev: Node | None, prefix: str, in_class: bool, result: Analysis) -> None:
    """A C/C++ declaration at file, namespace or class scope: a prototype is a function of the API."""
    c_function(node, prev, prefix, in_class, result, declared=True)


def c_function(
    node: Node, prev: Node | None, prefix: str, in_class: bool, result: Analysis, declared: bool = False
) -> str | None:
    """A C/C++ function definition, or (declared) a prototype: in a header, the API."""
    if declared:
        scope = node.parent
        while scope is not None and scope.type in _C_WRAPPERS:
            scope = scope.parent
        if scope is not None and scope.type not in _C_SCOPES:  # None: under an ERROR that is the root
            return None  # a local variable or statement in a function's body
    decl, marks = _c_declarator(node)
    if decl is None:
        return None
    source = node.text or b""
    tail = decl  # the parameters and what follows them end where this node ends
    if decl.type == "operator_cast":  # `operator bool() const`, `operator T *()`
        name_node: Node | None = decl
        tail = decl.child_by_field_name("declarator") or decl
        while tail.type != "abstract_function_declarator" and tail.named_children:
            tail = tail.child_by_field_name("declarator") or tail.named_children[-1]
        params = tail.child_by_field_name("parameters")
        start = (decl.child_by_field_name("type") or decl).start_byte
        end = params.start_byte if params is not None else decl.end_byte
        name = "operator " + _one_line(
            source[start - node.start_byte : end - node.start_byte].decode("utf-8", "replace")
        )
    else:
        name_node = decl.child_by_field_name("declarator")
        params = decl.child_by_field_name("parameters")
        name = _one_line(_text(name_node))
        inner = name_node.child_by_field_name("declarator") if name_node is not None else None
        if (
            name_node is not None
            and name_node.type == "function_declarator"
            and inner is not None
            and inner.type == "identifier"
            and _C_MACRO.match(inner.text or b"")
        ):
            name_node = inner  # `FN(Name)(args)`: a name a macro makes
    if not name or name_node is None or name_node.type not in _C_NAMES or name in _C_NOT_NAMES:
        return None  # e.g. a function pointer variable `int (*fp)(int);`, an `if` the grammar misread
    if name_node.type == "qualified_identifier" and name_node.has_error:  # `MACRO type name(` misread as `type::name`
        name = _one_line(_text(name_node.child_by_field_name("name")))
    if (
        declared
        and node.child_by_field_name("type") is None
        and _C_MACRO.match(name_node.text or b"")
        and name != prefix.removesuffix("::").rsplit("::", 1)[-1]
    ):
        return None  # `MACRO(args);` in a class or at file scope: a macro's use, not a constructor
    full = prefix + name
    kind = "declaration" if declared else "method" if in_class or "::" in name else "function"
    ret = node.child_by_field_name("type")
    sig = ""
    if params is not None:  # the parameters and what follows them: `(int x) const noexcept`
        text = source[params.start_byte - node.start_byte : tail.end_byte - node.start_byte]
        sig = _one_line(text.decode("utf-8", "replace"))
    short = name.split("::")[-1] if not name.startswith("operator") else name
    if ret is not None:  # with the qualifiers written before it: `const std::string &name() const`
        quals = [_text(c) + " " for c in node.children if c.type == "type_qualifier" and c.end_byte <= ret.start_byte]
        sig = f"{''.join(quals)}{_one_line(_text(ret))} {marks}{short}{sig}"
    elif decl.type == "operator_cast" or marks:
        sig = f"{marks}{short}{sig}"
    line = name_node.start_point[0] + 1
    result.symbols.append(Symbol("Functions", kind, full, line, sig, _doc_comment(node, prev)))
    return full


def go_method(node: Node, prev: Node | None, prefix: str, in_class: bool, result: Analysis) -> str | None:
    """A Go method, named with its receiver's type: `T.Name`."""
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


def js_function_vars(node: Node, prev: Node | None, prefix: str, in_class: bool, result: Analysis) -> None:
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


def js_bound_function(node: Node, prev: Node | None, prefix: str, in_class: bool, result: Analysis) -> tuple[str, bool]:
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
    if kind != "variable_declarator":  # a declarator's function is listed by js_function_vars
        line = name_node.start_point[0] + 1
        result.symbols.append(Symbol("Functions", sym_kind, name, line, _js_signature(value)))
    return _object_prefix(name, prefix), False


_COMMENTS = ("comment", "line_comment", "block_comment")
_ATTRIBUTES = ("attribute_item",)  # Rust's `#[…]` between an item's doc comment and the item
MAX_DOC_COMMENTS = 200  # comment nodes read above one definition


def _doc_comment(node: Node, prev: Node | None) -> str:
    """The summary of the one comment right above node (prev: its previous named sibling); _walk
    replaces it with the summary of the whole comment block (_doc_above)."""
    if prev is None or prev.type not in _COMMENTS or prev.end_point[0] < node.start_point[0] - 1:
        return ""
    return doc_comments.first_sentence(doc_comments.comment_lines(_text(prev)))


def _doc_above(spec: LanguageSpec, node: Node, siblings: list[Node], before: int) -> str:
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
    return doc_comments.summary(spec.doc_comment, [_text(c) for c in reversed(comments)])


def _hand_doc(spec: LanguageSpec, node: Node, siblings: list[Node], before: int, handed: dict[int, str]) -> None:
    """Give the doc comment above a wrapper (`export function f`, `declare function g`, `a.b = function …;`,
    `template <…> T f()`, Go's `type T struct`, a decorated Python definition) to the definition it wraps
    (its last named child)."""
    doc = handed.pop(node.id, None)
    if doc is None and not (before and siblings[before - 1].type in _COMMENTS + _ATTRIBUTES):
        return  # nothing above it: what it wraps finds its own comments, if any
    inner = [child for child in node.named_children if child.type not in _COMMENTS]
    if inner and (len(inner) == 1 or node.type != "type_declaration"):
        handed[inner[-1].id] = _doc_above(spec, node, siblings, before) if doc is None else doc


def _set_doc(symbols: list[Symbol], first: int, doc: str) -> None:
    """The doc of the symbols from first on, which one definition node made."""
    for index in range(first, len(symbols)):
        if symbols[index].doc != doc:
            symbols[index] = replace(symbols[index], doc=doc)


def c_include(node: Node, result: Analysis) -> None:
    """`#include <a.h>` (flagged `stdlib`: its syntax, not a guess of its origin) or `#include "b.h"`."""
    path = _text(node.child_by_field_name("path"))
    result.imports.append(Import(path.strip('"<>'), node.start_point[0] + 1, (), path.startswith("<")))


def js_import(node: Node, result: Analysis) -> None:
    """`import … from "m"`."""
    source = node.child_by_field_name("source")
    result.imports.append(Import(_text(source).strip("'\"`"), node.start_point[0] + 1))


def js_require(node: Node, result: Analysis) -> None:
    """`require("m")`."""
    fn = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if _text(fn) == "require" and args is not None and args.named_children and args.named_children[0].type == "string":
        result.imports.append(Import(_text(args.named_children[0]).strip("'\"`"), node.start_point[0] + 1))


def go_import(node: Node, result: Analysis) -> None:
    result.imports.append(Import(_text(node.child_by_field_name("path")).strip('"`'), node.start_point[0] + 1))


def rust_use(node: Node, result: Analysis) -> None:
    result.imports.append(Import(_one_line(_text(node.child_by_field_name("argument"))), node.start_point[0] + 1))


def java_import(node: Node, result: Analysis) -> None:
    names = [c for c in node.named_children if c.type in ("scoped_identifier", "identifier")]
    if names:
        name = _text(names[0])
        result.imports.append(Import(name, node.start_point[0] + 1, (), name.startswith("java.")))


def python_import(node: Node, result: Analysis) -> None:
    """`import a, b as c` and `from m import x` (the module imported from), when `ast` could not read them."""
    mod = node.child_by_field_name("module_name")
    targets = [mod] if mod is not None else node.children_by_field_name("name")
    for target in targets:
        name = target.child_by_field_name("name") if target.type == "aliased_import" else target
        result.imports.append(Import(_text(name), node.start_point[0] + 1))


def sh_source(node: Node, result: Analysis) -> None:
    """`source file` and `. file`."""
    command = _text(node.child_by_field_name("name"))
    operands = node.children_by_field_name("argument")
    if command in ("source", ".") and operands:
        result.imports.append(Import(_text(operands[0]).strip("'\""), node.start_point[0] + 1))


def rust_test(node: Node, siblings: list[Node], before: int, result: Analysis) -> None:
    """A `#[test]` function (its attributes are among siblings[:before])."""
    for index in range(before - 1, -1, -1):
        prev = siblings[index]
        if prev.type != "attribute_item":
            break
        if _text(prev).replace(" ", "") in ("#[test]", "#[tokio::test]") or _text(prev).endswith("::test]"):
            result.tests.append(_text(node.child_by_field_name("name")))
            break


def js_test(node: Node, siblings: list[Node], before: int, result: Analysis) -> None:
    """A `test("name", …)` or `it("name", …)` call."""
    fn = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if _text(fn) in ("test", "it") and args is not None and args.named_children:
        first = args.named_children[0]
        if first.type in ("string", "template_string"):
            result.tests.append(_text(first)[1:-1])


def call_claim(node: Node, found: set[tuple[str, str, int]]) -> None:
    """A call of a function whose name backs a claim (`system()`, `cudaMalloc`, …)."""
    fn = node.child_by_field_name("function")
    if fn is not None and fn.type == "identifier" and _text(fn) in _CALL_CLAIMS:
        found.add((*_CALL_CLAIMS[_text(fn)], node.start_point[0] + 1))


def sh_eval_claim(node: Node, found: set[tuple[str, str, int]]) -> None:
    if _text(node.child_by_field_name("name")) == "eval":
        found.add(("security", "`eval` executes a string as code", node.start_point[0] + 1))


def unsafe_claim(node: Node, found: set[tuple[str, str, int]]) -> None:
    found.add(("security", "`unsafe` block bypasses the borrow checker", node.start_point[0] + 1))


def omp_claim(node: Node, found: set[tuple[str, str, int]]) -> None:
    if _text(node.child_by_field_name("directive")) == "#pragma" and _text(
        node.child_by_field_name("argument")
    ).strip().startswith("omp"):
        found.add(("performance", "`#pragma omp` parallelises with OpenMP", node.start_point[0] + 1))


def go_claim(node: Node, found: set[tuple[str, str, int]]) -> None:
    found.add(("performance", "`go` statement starts a goroutine", node.start_point[0] + 1))
