"""Python analysis through the standard `ast` module: the analysed code is never imported or run.

Rules of this module: claims come from syntax nodes only, never from words in strings or
comments; names are resolved through the file's own imports (`from pickle import loads`
makes `loads(...)` a `pickle.loads` call; `model.eval()` is not the builtin `eval`).
"""

from __future__ import annotations

import ast
import posixpath
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable

from .model import Analysis, Finding, Import, Symbol
from .stdlib import STDLIB_MODULES

# dotted call name -> (section, description)
_CALLS: dict[str, tuple[str, str]] = {
    "pickle.loads": ("security", "`pickle.loads` deserialises untrusted data unsafely"),
    "pickle.load": ("security", "`pickle.load` deserialises untrusted data unsafely"),
    "marshal.loads": ("security", "`marshal.loads` deserialises untrusted data unsafely"),
    "shelve.open": ("security", "`shelve.open` stores objects with pickle"),
    "eval": ("security", "builtin `eval` executes a string as code"),
    "exec": ("security", "builtin `exec` executes a string as code"),
    "os.system": ("security", "`os.system` runs a command through the shell"),
    "os.popen": ("security", "`os.popen` runs a command through the shell"),
    "tempfile.mktemp": ("security", "`tempfile.mktemp` is open to a race on the file name"),
    "hashlib.md5": ("security", "`hashlib.md5` is not collision-resistant"),
    "torch.load": ("security", "`torch.load` unpickles its input"),
    "multiprocessing.Pool": ("performance", "`multiprocessing.Pool` spreads work over processes"),
    "concurrent.futures.ProcessPoolExecutor": ("performance", "`ProcessPoolExecutor` spreads work over processes"),
    "concurrent.futures.ThreadPoolExecutor": ("performance", "`ThreadPoolExecutor` runs work on threads"),
    "threading.Thread": ("performance", "`threading.Thread` starts a thread"),
    "asyncio.gather": ("performance", "`asyncio.gather` runs awaitables concurrently"),
    "torch.compile": ("performance", "`torch.compile` compiles a model"),
    "torch.jit.script": ("performance", "`torch.jit.script` compiles TorchScript"),
    "time.sleep": ("performance", "`time.sleep` blocks the thread"),
}
_DECORATORS: dict[str, tuple[str, str]] = {
    "functools.lru_cache": ("performance", "`functools.lru_cache` memoises results"),
    "functools.cache": ("performance", "`functools.cache` memoises results"),
    "functools.cached_property": ("performance", "`functools.cached_property` caches an attribute"),
    "numba.jit": ("performance", "`numba.jit` compiles to machine code"),
    "numba.njit": ("performance", "`numba.njit` compiles to machine code"),
    "torch.jit.script": ("performance", "`torch.jit.script` compiles TorchScript"),
    "torch.no_grad": ("performance", "`torch.no_grad` turns off gradient tracking"),
    "dataclasses.dataclass": ("patterns", "`@dataclass` generates the class's boilerplate"),
    "contextlib.contextmanager": ("patterns", "`@contextmanager` makes a generator a context manager"),
    "contextlib.asynccontextmanager": ("patterns", "`@asynccontextmanager` makes an async context manager"),
    "abc.abstractmethod": ("patterns", "`@abstractmethod` declares an abstract method"),
    "property": ("patterns", "`@property` exposes a computed attribute"),
    "staticmethod": ("patterns", "`@staticmethod` defines a method without self"),
    "classmethod": ("patterns", "`@classmethod` defines an alternative constructor or class-level method"),
    "pytest.fixture": ("patterns", "`@pytest.fixture` defines a test fixture"),
}
_SHELL_CALLS = (
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
)


def module_of(path: str) -> tuple[str, bool]:
    """The dotted module a path stands for, and whether it is a package's __init__."""
    stem = posixpath.splitext(path)[0]
    parts = [p for p in stem.split("/") if p]
    is_init = bool(parts) and parts[-1] == "__init__"
    if is_init:
        parts = parts[:-1]
    return ".".join(parts), is_init


def project_packages(path: str) -> tuple[str, ...]:
    """The top-level packages of the file's own project, known from its path alone (a page depends on its
    file's path and bytes, never on which other files exist): the first folder of the path, where absolute
    imports start when the project runs from its checkout, and in the src layout (`src/<package>/…`,
    where `src` is no package) the folder below `src` as well; a module at the root has none. A package
    elsewhere in the repository (`tests/` importing `mylib`) cannot be told apart from a third-party one
    by the path alone, and is counted as third party."""
    folders = [p for p in posixpath.dirname(path).split("/") if p]
    if folders[:1] == ["src"] and len(folders) > 1:
        return ("src", folders[1])
    return tuple(folders[:1])


def origin(own: tuple[str, ...], module: str, relative: bool) -> tuple[bool, bool]:
    """(standard library, own project) of an imported module, given the file's own top-level packages
    (project_packages): relative imports and those packages are the project's (even when named like a
    standard module, which they shadow), then the frozen list of the standard library's names
    (bot/engine/stdlib.py), else third party."""
    top = module.split(".")[0]
    if relative or top in own:
        return False, True
    return top in STDLIB_MODULES, False


def analyze_python(path: str, text: str) -> Analysis:
    """Analyse Python source; raises SyntaxError, RecursionError or ValueError when ast cannot."""
    tree = ast.parse(text, filename=path)
    module, is_init = module_of(path)
    result = Analysis(parser="ast", package=module, is_package_init=is_init)
    result.docstring = ast.get_docstring(tree, clean=True) or ""
    nodes = _Nodes(tree, result.symbols)
    nodes.walk(tree.body, "", False, True)  # from here: see _Nodes.walk on the frames above ast.unparse
    nodes.imports.sort(key=_position)
    aliases = _imports(nodes, path, result)
    nodes.gather_expressions(text, aliases)
    _module_facts(tree, result)
    _findings(nodes, aliases, result)
    _tests(path, result)
    return result


def resolve_relative(path: str, level: int, module: str | None) -> str:
    folder = [p for p in posixpath.dirname(path).split("/") if p]
    base = folder[: len(folder) - (level - 1)] if level > 1 else folder
    parts = base + ([module] if module else [])
    return ".".join(parts) or "."


class _Nodes:
    """The nodes the analysis looks at. Imports and definitions are statements, gathered by a walk over
    statements only (the bodies of compound statements), which is cheap; calls, `.cuda` attributes and
    yields are expressions, and only a few names among them lead to a finding, so `gather_expressions`
    walks the expressions only of the statements whose lines hold a word that can spell such a name."""

    def __init__(self, tree: ast.Module, symbols: list[Symbol]) -> None:
        """Nothing is gathered yet: the caller calls `walk(tree.body, "", False, True)` itself (see `walk`
        on the frames above it), which gathers imports and definitions and appends the qualified symbols
        of the definitions to symbols, in the order of the source, then sorts the imports by position."""
        self.tree = tree
        self.imports: list[ast.Import | ast.ImportFrom] = []
        self.defs: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = []
        self.calls: list[ast.Call] = []
        self.yields: list[ast.Yield | ast.YieldFrom] = []
        self.cuda: list[ast.Attribute] = []
        self.symbols = symbols

    def walk(self, body: list[ast.stmt], prefix: str, in_class: bool, named: bool) -> None:
        """Every statement below body. Symbols (when named) are made for the definitions in a module,
        class or function body and in the bodies of its `if`, `try` and `with` statements, not of
        loops, `match` or `try` with `except*`; the definitions there are still gathered. One walk for
        both: this looks at every statement, and most do nothing (`type(node)` and one dict look-up).

        ast.unparse gives up ("…") on an expression nested deeply enough to reach the recursion limit,
        so what a symbol shows depends on the frames above it: the walk keeps those of bcc1c66's
        (analyze_python, then per body a walk frame and per definition a frame, _class_symbol or
        _function_symbol, that walks the definition's body; tests/test_python_fast_paths.py)."""
        kinds, walk = _STATEMENTS, self.walk
        for node in body:
            kind = type(node)
            what = kinds.get(kind)
            if what is None:  # a simple statement, most of them
                continue
            if what is _DEF:
                self.defs.append(node)  # type: ignore[arg-type]
                if not named:
                    walk(node.body, "", False, False)  # type: ignore[attr-defined]
                elif kind is ast.ClassDef:
                    _class_symbol(self, node, prefix)  # type: ignore[arg-type]
                else:
                    _function_symbol(self, node, prefix, in_class)  # type: ignore[arg-type]
            elif what is _IMPORT:
                self.imports.append(node)  # type: ignore[arg-type]
            else:
                # if, with and try keep naming; loops, match and try with except* do not
                keep = named and (kind is ast.If or kind is ast.With or kind is ast.AsyncWith or kind is ast.Try)
                for field in what:
                    if field == "handlers":
                        for handler in node.handlers:  # type: ignore[attr-defined]
                            walk(handler.body, prefix, in_class, keep)
                    else:
                        walk(getattr(node, field), prefix, in_class, keep)
                if kind is ast.Match:
                    for case in node.cases:  # type: ignore[attr-defined]
                        walk(case.body, prefix, in_class, False)

    def gather_expressions(self, text: str | None, aliases: dict[str, str]) -> None:
        """Fill calls, cuda and yields: from every statement when text is None or cannot be searched
        (see _hot_lines), else from the statements whose line span holds a hot line. A statement's own
        expressions (its header: decorators, arguments, bases, test, iter, items, value, …) lie within
        its span, and so do the statements in its bodies: a statement without a hot line is skipped
        with all it holds. A definition's span starts at its first decorator."""
        hot = _hot_lines(text, aliases) if text is not None else None
        if hot is not None and not hot:
            return
        roots: list[object] = []
        extend, push_root = roots.extend, roots.append
        headers, kinds = _HEADERS, _STATEMENTS
        count = len(hot) if hot is not None else 0
        bodies: list[list[ast.stmt]] = [self.tree.body]
        push = bodies.append
        while bodies:
            for node in bodies.pop():
                kind = type(node)
                what = kinds.get(kind)
                if hot is not None:
                    start = node.lineno
                    if what is _DEF and node.decorator_list:  # type: ignore[attr-defined]
                        start = node.decorator_list[0].lineno  # type: ignore[attr-defined]
                    at = bisect_left(hot, start)
                    if at == count or hot[at] > (node.end_lineno or start):
                        continue
                fields = headers.get(kind)
                if fields is None:
                    fields = _headers(kind)
                for name in fields:
                    value = getattr(node, name)
                    if type(value) is list:
                        extend(value)
                    elif value is not None:
                        push_root(value)
                if what is None or what is _IMPORT:
                    continue
                if what is _DEF:
                    push(node.body)  # type: ignore[attr-defined]
                    continue
                _push_bodies(node, what, push)  # type: ignore[arg-type]
                if kind is ast.Match:
                    for case in node.cases:  # type: ignore[attr-defined]
                        push_root(case.pattern)
                        if case.guard is not None:
                            push_root(case.guard)
        _walk_expressions(roots, self.calls, self.cuda, self.yields)


def _push_bodies(node: ast.stmt, fields: tuple[str, ...], push: Callable[[list[ast.stmt]], None]) -> None:
    """Push the bodies of a compound statement; the handlers of a `try` count as a body, whose
    statements (except handlers) have bodies of their own, and a `match` has one body per case."""
    for name in fields:
        push(getattr(node, name))
    if type(node) is ast.Match:
        for case in node.cases:
            push(case.body)


# what a walk over statements does with a statement type: nothing (simple statements, absent here),
# take a definition (and descend into its body) or an import, or descend into the named fields
# holding statements (markers are strings, and compared by identity: equal tuples may be one object)
_DEF = "definition"
_IMPORT = "import"
_STATEMENTS: dict[type, tuple[str, ...] | str] = {
    ast.FunctionDef: _DEF,
    ast.AsyncFunctionDef: _DEF,
    ast.ClassDef: _DEF,
    ast.Import: _IMPORT,
    ast.ImportFrom: _IMPORT,
    ast.If: ("body", "orelse"),
    ast.For: ("body", "orelse"),
    ast.AsyncFor: ("body", "orelse"),
    ast.While: ("body", "orelse"),
    ast.With: ("body",),
    ast.AsyncWith: ("body",),
    ast.Try: ("body", "orelse", "finalbody", "handlers"),
    ast.TryStar: ("body", "orelse", "finalbody", "handlers"),
    ast.ExceptHandler: ("body",),
    ast.Match: (),
}
_NOT_HEADERS = frozenset(("body", "orelse", "finalbody", "handlers", "cases", "name", "names"))
_HEADERS: dict[type, tuple[str, ...]] = {}


def _headers(kind: type) -> tuple[str, ...]:
    """The fields of a statement type (or except handler) that hold its own expressions: not its
    bodies (walked as statements), not the names of a def, an import or a `global`."""
    _HEADERS[kind] = found = tuple(name for name in _children(kind) if name not in _NOT_HEADERS)
    return found


def _walk_expressions(
    stack: list[object], calls: list[ast.Call], cuda: list[ast.Attribute], yields: list[ast.Yield | ast.YieldFrom]
) -> None:
    """Every node below the given expressions (no statement is below an expression), iteratively: a
    generic walk costs twice as much. Consumes stack."""
    children = _CHILDREN
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        kind = type(node)
        fields = children.get(kind)
        if fields is None:
            fields = _children(kind)
        if kind is ast.Call:
            calls.append(node)  # type: ignore[arg-type]
        elif kind is ast.Attribute:
            if node.attr == "cuda":  # type: ignore[attr-defined]
                cuda.append(node)  # type: ignore[arg-type]
        elif kind is ast.Yield or kind is ast.YieldFrom:
            yields.append(node)  # type: ignore[arg-type]
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                extend(value)
            elif value is not None:
                push(value)


# fields that never hold a node below which something is gathered: names, numbers, flags, and the
# operator and context singletons (`Load()`, `Add()`), a third of a tree's nodes
_SCALARS = frozenset(
    ("ctx", "op", "ops", "id", "attr", "arg", "module", "level", "type_comment", "conversion", "is_async")
    + ("simple", "kind", "tag", "kwd_attrs", "rest")
)
_SCALAR_VALUES = (ast.Constant, ast.MatchSingleton)  # their `value` is a Python constant
_CHILDREN: dict[type, tuple[str, ...]] = {}


def _children(kind: type) -> tuple[str, ...]:
    """The fields of a node type that may hold nodes (none for a value that is no node: a name in a
    list of names, None in a dict's keys)."""
    fields: tuple[str, ...] = getattr(kind, "_fields", ()) if issubclass(kind, ast.AST) else ()
    skip = _SCALARS | ({"value"} if kind in _SCALAR_VALUES else set()) | ({"names"} if kind in _NAME_LISTS else set())
    _CHILDREN[kind] = found = tuple(name for name in fields if name not in skip)
    return found


_NAME_LISTS = (ast.Global, ast.Nonlocal)

# the dotted names whose calls or attributes lead to a finding (decorators are read from the defs)
_TARGETS = frozenset((*_CALLS, *_SHELL_CALLS, "yaml.load", "torch.cuda"))
# per target: its last component (the word a call or attribute spells out), its first component
# (the word an unresolved name starts with), as bytes, and its dotted prefixes (what an import may
# bind a name to)
_TARGET_PARTS = tuple(
    (
        t.rsplit(".", 1)[-1].encode(),
        t.split(".")[0].encode(),
        frozenset(".".join(t.split(".")[:i]) for i in range(1, t.count(".") + 2)),
    )
    for t in sorted(_TARGETS)
)
_WORDS = frozenset(w for last, first, _ in _TARGET_PARTS for w in (last, first)) | {b"yield"}
# ASCII letters, digits and `_` stay, newlines stay (to count lines by), everything else (operators,
# quotes, whitespace, the bytes of other characters) separates words
_KEEP = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_\n"
_SEPARATE = bytes(c if c in _KEEP else 32 for c in range(256))
_BLANKS = b" \n"


def _hot_lines(text: str, aliases: dict[str, str]) -> list[int] | None:
    """The sorted line numbers on which a call, an attribute or a yield leading to a finding can be,
    or None when the text is not searched by words (every statement is then looked at).

    A call or attribute `a.b.c` resolving to a target ends in the target's last component, which is a
    word on one of its lines; a bare name `n` resolving to a target is the target itself (`eval`) or
    a name an import binds to the whole target (`from pickle import loads as pl`). A target is only
    reachable when its first component appears as a word or an import binds a name to one of its
    dotted prefixes; the words of the others (`open` without `shelve`) are not looked for.

    Words are split at every byte that cannot be in an ASCII identifier (an identifier token always
    ends at such a character), by one `bytes.translate` and `split`, which is several times faster
    than a regular expression over the text. Python reads identifiers NFKC-normalised (`ｅｖａｌ` is
    `eval`), so text that is not ASCII is normalised first (NFKC neither makes nor removes a `\\n`,
    so lines keep their numbers; a character that is not ASCII then separates words, which only
    finds more); when an import binds a name that is not ASCII to a target, the text is not searched.
    Python also ends lines at a lone `\\r`; text holding a `\\r` is not searched."""
    if "\r" in text:
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    names = {name for name, target in aliases.items() if target in _TARGETS}
    needles = _WORDS
    if names:
        if not all(name.isascii() for name in names):
            return None
        needles = _WORDS | {name.encode() for name in names}
    buffer = text.encode().translate(_SEPARATE)
    present = needles.intersection(buffer.split())
    if not present:
        return []
    bound = set(aliases.values())
    wanted = {b"yield"} & present
    for word, first, prefixes in _TARGET_PARTS:
        if word in present and (first in present or not prefixes.isdisjoint(bound)):
            wanted.add(word)
    wanted |= present & {name.encode() for name in names}
    hot: list[int] = []
    count = buffer.count
    for word in wanted:
        line, last = 1, 0
        # the pattern starts with the word so that re scans for it fast; the byte before is checked here
        for match in re.finditer(word + rb"(?![^ \n])", buffer):
            at = match.start()
            if at and buffer[at - 1] not in _BLANKS:
                continue
            line += count(b"\n", last, at)
            last = at
            hot.append(line)
    hot.sort()
    return hot


def _imports(nodes: _Nodes, path: str, result: Analysis) -> dict[str, str]:
    """Collect imports into result; return local name -> dotted origin."""
    aliases: dict[str, str] = {}
    own = project_packages(path)
    for node in nodes.imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                result.imports.append(Import(alias.name, node.lineno, (), *origin(own, alias.name, False)))
                aliases[alias.asname or top] = alias.name if alias.asname else top
        else:
            if node.level:
                module = resolve_relative(path, node.level, node.module)
            else:
                module = node.module or ""
            names = tuple(a.name for a in node.names)
            result.imports.append(Import(module, node.lineno, names, *origin(own, module, bool(node.level))))
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
    return aliases


def dotted(node: ast.AST, aliases: dict[str, str]) -> str:
    """The dotted name of an expression like `a.b.c`, resolved through imports; '' if not a name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _class_symbol(nodes: _Nodes, node: ast.ClassDef, prefix: str) -> None:
    """Append the class's symbol, then walk its body (from here: see _Nodes.walk)."""
    name = prefix + node.name
    nodes.symbols.append(
        Symbol(
            "Classes",
            "class",
            name,
            node.lineno,
            doc=_doc_line(node),
            bases=tuple(map(_source, node.bases)),  # ast.unparse as deep as a generator's _unparse was
            decorators=tuple(map(_source, node.decorator_list)),
        )
    )
    nodes.walk(node.body, name + ".", True, True)


def _function_symbol(nodes: _Nodes, node: ast.FunctionDef | ast.AsyncFunctionDef, prefix: str, in_class: bool) -> None:
    """Append the function's (or method's) symbol, then walk its body (from here: see _Nodes.walk).
    The fast printer's fallbacks are called here, where _unparse was."""
    name = prefix + node.name
    try:
        arguments = _arguments(node.args)
    except _Unusual:
        arguments = _unparse(node.args)
    sig = f"({arguments})"
    if node.returns is not None:
        try:
            returns = _expression(node.returns, 0)
        except _Unusual:
            returns = _unparse(node.returns)
        sig += f" -> {returns}"
    if type(node) is ast.AsyncFunctionDef:
        sig = "async " + sig
    nodes.symbols.append(
        Symbol(
            "Functions",
            "method" if in_class else "function",
            name,
            node.lineno,
            sig,
            _doc_line(node),
            decorators=tuple(map(_source, node.decorator_list)),
        )
    )
    nodes.walk(node.body, name + ".", False, True)


def _position(node: ast.stmt) -> tuple[int, int]:
    return (node.lineno, node.col_offset)


def _unparse(node: ast.AST) -> str:
    try:
        return " ".join(ast.unparse(node).split())
    except (RecursionError, ValueError):
        return "…"


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""


def _doc_line(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    """`_first_line(ast.get_docstring(node))`, without get_docstring's `inspect.cleandoc`: cleaning
    only removes whitespace before a line's first other character (and blank lines), so the first
    stripped line of a docstring is the same cleaned or not, once tabs are expanded as cleandoc does."""
    body = node.body
    if not body or type(body[0]) is not ast.Expr:
        return ""
    value = body[0].value  # type: ignore[attr-defined]
    if type(value) is not ast.Constant or type(value.value) is not str:
        return ""
    return _first_line(value.value.expandtabs())


class _Unusual(Exception):
    """A node the fast printer leaves to ast.unparse."""


def _source(node: ast.expr) -> str:
    """`_unparse(node)`, printed directly for the common shapes of bases, decorators and annotations
    (dotted names, `List[int]`, `int | None`, `pytest.fixture(scope="module")`), where ast.unparse
    costs most of what the definitions cost; any other shape goes to ast.unparse. The direct print
    must equal `" ".join(ast.unparse(node).split())` (tests/test_python_fast_paths.py checks it)."""
    try:
        return _expression(node, 0)
    except _Unusual:
        return _unparse(node)


def _signature(args: ast.arguments) -> str:
    """`_unparse(args)`, printed directly (_arguments) when every annotation and default is a common shape."""
    try:
        return _arguments(args)
    except _Unusual:
        return _unparse(args)


def _arguments(args: ast.arguments) -> str:
    """The arguments as ast.unparse writes them, or _Unusual: positional-only arguments are followed
    by `/`, defaults belong to the last positional arguments, a bare `*` comes before keyword-only
    arguments when there is no `*args`, and `=` has no spaces around it even after an annotation."""
    if not (args.posonlyargs or args.defaults or args.vararg or args.kwonlyargs or args.kwarg):
        # the most common signatures: positional arguments only (`self`, `request, pk`)
        return ", ".join([_argument(arg) for arg in args.args])
    parts = []
    positional = args.posonlyargs + args.args
    defaults = args.defaults
    first_default = len(positional) - len(defaults)
    slash = len(args.posonlyargs)
    for index, arg in enumerate(positional):
        text = _argument(arg)
        if index >= first_default:
            text += "=" + _expression(defaults[index - first_default], 0)
        parts.append(text)
        if index + 1 == slash:
            parts.append("/")
    if args.vararg is not None:
        parts.append("*" + _argument(args.vararg))
    elif args.kwonlyargs:
        parts.append("*")
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=False):
        text = _argument(arg)
        if default is not None:
            text += "=" + _expression(default, 0)
        parts.append(text)
    if args.kwarg is not None:
        parts.append("**" + _argument(args.kwarg))
    return ", ".join(parts)


def _argument(arg: ast.arg) -> str:
    if arg.annotation is None:
        return arg.arg
    return f"{arg.arg}: {_expression(arg.annotation, 0)}"


# deeper nodes go to ast.unparse, which recurses several frames per node and may give up ("…")
# where a direct print would not
_MAX_DEPTH = 12


def _expression(node: ast.expr, depth: int) -> str:
    """The source of a common expression exactly as ast.unparse writes it, or _Unusual. Only shapes
    whose printing needs no parentheses are taken: names and attributes of names, constants whose
    repr is what ast.unparse writes, subscripts, `|` chained to the left, negative numbers, calls of
    dotted names, and tuples, lists and dicts of these (a tuple always in parentheses, as
    ast.unparse writes it everywhere but as a subscript's whole index)."""
    if depth > _MAX_DEPTH:
        raise _Unusual
    if type(node) is ast.Name:
        return node.id
    depth += 1
    if type(node) is ast.Attribute:
        return f"{_dotted(node.value, depth)}.{node.attr}"
    if type(node) is ast.Constant:
        return _constant(node)
    if type(node) is ast.Subscript:
        index = node.slice
        if type(index) is ast.Tuple and index.elts:
            inner = _items(index.elts, depth)
        else:
            inner = _expression(index, depth)
        return f"{_dotted(node.value, depth)}[{inner}]"
    if type(node) is ast.BinOp:
        # `a | b | c` is `(a | b) | c`: a `|` on the left needs no parentheses, any operation on the right would
        if type(node.op) is not ast.BitOr or type(node.right) is ast.BinOp:
            raise _Unusual
        return f"{_expression(node.left, depth)} | {_expression(node.right, depth)}"
    if type(node) is ast.UnaryOp:
        operand = node.operand
        if type(node.op) is ast.USub and type(operand) is ast.Constant and type(operand.value) in (int, float):
            return "-" + _constant(operand)
        raise _Unusual
    if type(node) is ast.Call:
        parts = []
        for arg in node.args:
            if type(arg) is ast.Starred:
                parts.append("*" + _dotted(arg.value, depth))
            else:
                parts.append(_expression(arg, depth))
        for keyword in node.keywords:
            value = _expression(keyword.value, depth)
            parts.append(f"**{value}" if keyword.arg is None else f"{keyword.arg}={value}")
        return f"{_dotted(node.func, depth)}({', '.join(parts)})"
    if type(node) is ast.Tuple:
        return f"({_items(node.elts, depth)})"
    if type(node) is ast.List:
        return "[" + ", ".join([_expression(e, depth) for e in node.elts]) + "]"
    if type(node) is ast.Dict:
        pairs = []
        for key, item in zip(node.keys, node.values, strict=True):
            if key is None:  # `**mapping`
                raise _Unusual
            pairs.append(f"{_expression(key, depth)}: {_expression(item, depth)}")
        return "{" + ", ".join(pairs) + "}"
    raise _Unusual


def _dotted(node: ast.expr, depth: int) -> str:
    """A name or an attribute of one, where ast.unparse would parenthesise anything else."""
    if type(node) is not ast.Name and type(node) is not ast.Attribute:
        raise _Unusual
    return _expression(node, depth)


def _items(elements: list[ast.expr], depth: int) -> str:
    """Elements as ast.unparse separates them: a single one with a trailing comma."""
    if len(elements) == 1:
        return _expression(elements[0], depth) + ","
    return ", ".join([_expression(e, depth) for e in elements])


def _constant(node: ast.Constant) -> str:
    """A constant as ast.unparse writes it (`repr`), for the values where that is plain: strings of
    printable ASCII without quotes, backslashes or double spaces (which the caller's whitespace
    folding would change), not `u''`; ints of moderate size; finite floats; True, False, None, `...`."""
    value = node.value
    if node.kind is not None:
        raise _Unusual
    if type(value) is str:
        if (
            value.isascii()
            and value.isprintable()
            and not ("'" in value or '"' in value or "\\" in value or "  " in value)
        ):
            return f"'{value}'"
        raise _Unusual
    if type(value) is int:
        if value < 10**15:
            return repr(value)
        raise _Unusual
    if type(value) is float:
        text = repr(value)
        if "inf" in text or "nan" in text:
            raise _Unusual
        return text
    if type(value) is bool or value is None:
        return repr(value)
    if value is ...:
        return "..."
    raise _Unusual


def _module_facts(tree: ast.Module, result: Analysis) -> None:
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            value = getattr(node, "value", None)
            if isinstance(value, (ast.List, ast.Tuple)):
                result.exports += [
                    e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
                ]
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            result.main_guard = node.lineno


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def _findings(nodes: _Nodes, aliases: dict[str, str], result: Analysis) -> None:
    found: set[tuple[str, str, int]] = set()
    for call in nodes.calls:
        _call_finding(call, aliases, found)
    for node in nodes.defs:
        for dec in node.decorator_list:
            target = dec.func if type(dec) is ast.Call else dec
            name = dotted(target, aliases)
            if name in _DECORATORS:
                section, what = _DECORATORS[name]
                found.add((section, what, dec.lineno))
        if type(node) is ast.AsyncFunctionDef:
            found.add(("patterns", "`async def` defines a coroutine", node.lineno))
    for line in _generators(nodes):
        found.add(("patterns", "`yield` makes a function a generator", line))
    for attr in nodes.cuda:
        if dotted(attr, aliases) == "torch.cuda":
            found.add(("performance", "`torch.cuda` uses the GPU", attr.lineno))
    result.findings = [Finding(s, w, line) for s, w, line in sorted(found, key=lambda f: (f[2], f[0], f[1]))]


def _generators(nodes: _Nodes) -> set[int]:
    """The `def` lines of the functions holding a `yield` (the innermost function around each), in one
    sweep over both sorted by position (function spans nest or are disjoint, as their nodes do)."""
    if not nodes.yields:  # most files: no sorting of the functions then
        return set()
    functions = sorted(
        (n for n in nodes.defs if not isinstance(n, ast.ClassDef)), key=lambda n: (n.lineno, n.col_offset)
    )
    open_: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = []
    lines: set[int] = set()
    at = 0
    for item in sorted(nodes.yields, key=lambda n: (n.lineno, n.col_offset)):
        where = (item.lineno, item.col_offset)
        while at < len(functions) and (functions[at].lineno, functions[at].col_offset) <= where:
            start = (functions[at].lineno, functions[at].col_offset)
            while open_ and _end(open_[-1]) < start:
                open_.pop()
            open_.append(functions[at])
            at += 1
        while open_ and _end(open_[-1]) < where:
            open_.pop()
        if open_:
            lines.add(open_[-1].lineno)
    return lines


def _end(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "end_lineno", None) or 0, getattr(node, "end_col_offset", None) or 0)


def _call_finding(node: ast.Call, aliases: dict[str, str], found: set[tuple[str, str, int]]) -> None:
    name = dotted(node.func, aliases)
    if isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec") and node.func.id not in aliases:
        name = node.func.id
    elif name in ("eval", "exec"):
        return
    if name in _CALLS:
        section, what = _CALLS[name]
        found.add((section, what, node.lineno))
    if name in _SHELL_CALLS and any(
        k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords
    ):
        found.add(("security", f"`{name}(..., shell=True)` runs a command through the shell", node.lineno))
    if name == "yaml.load" and not any(k.arg == "Loader" for k in node.keywords) and len(node.args) < 2:
        found.add(("security", "`yaml.load` without a Loader can build arbitrary objects", node.lineno))


def _tests(path: str, result: Analysis) -> None:
    """Decide from evidence whether this is a test file, and which tests it holds."""
    origins = {imp.module.split(".")[0] for imp in result.imports}
    classes = {s.name: s for s in result.symbols if s.kind == "class"}
    testcase = {
        n
        for n, s in classes.items()
        if any(b.split(".")[-1] in ("TestCase", "IsolatedAsyncioTestCase") for b in s.bases)
    }
    name = posixpath.basename(path)
    named_test = name.startswith("test_") or name.endswith("_test.py")
    tests = []
    for sym in result.symbols:
        if sym.kind not in ("function", "method") or not sym.name.split(".")[-1].startswith("test"):
            continue
        owner = sym.name.rsplit(".", 1)[0] if "." in sym.name else ""
        if owner in testcase or (named_test and (owner == "" or owner.split(".")[-1].startswith("Test"))):
            tests.append(sym.name)
    if testcase:
        result.test_framework = "unittest" if "pytest" not in origins else "pytest"
    elif tests and ("pytest" in origins or named_test):
        result.test_framework = "pytest"
    result.tests = tests if result.test_framework else []
