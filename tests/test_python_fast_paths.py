"""The fast paths of the Python analyser give exactly what the plain ones give.

bot/engine/analyze_python.py prints common signatures, bases, decorators and annotations itself
instead of through ast.unparse, and walks the expressions only of statements whose lines hold a word
that can name a finding's target. Each is compared here with a straightforward reference: ast.unparse,
and a walk over every node with ast.walk.
"""

from __future__ import annotations

import ast
import textwrap
from types import SimpleNamespace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.engine import analyze_python as P
from bot.engine.model import Analysis

# ---------------------------------------------------------------------------------------------------
# the printer


def unparsed(node: ast.AST) -> str:
    return " ".join(ast.unparse(node).split())


def printed(node: ast.AST) -> str | None:
    """The fast printer's own output, None where it leaves the node to ast.unparse."""
    try:
        if isinstance(node, ast.arguments):
            return P._arguments(node)
        return P._expression(node, 0)  # type: ignore[arg-type]
    except P._Unusual:
        return None


def printer_cases(tree: ast.AST) -> list[ast.AST]:
    """Every signature, return annotation, base and decorator of the tree's definitions."""
    cases: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            cases.append(node.args)
            cases += [node.returns] if node.returns is not None else []
        if isinstance(node, ast.ClassDef):
            cases += node.bases
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            cases += node.decorator_list
    return cases


def check_printer(source: str) -> int:
    """Assert the printer agrees with ast.unparse on every case of source; return how many cases the
    fast path printed itself."""
    fast = 0
    for node in printer_cases(ast.parse(source)):
        expected = unparsed(node)
        mine = printed(node)
        if mine is not None:
            fast += 1
            assert mine == expected, (ast.dump(node), mine, expected)
        whole = P._signature(node) if isinstance(node, ast.arguments) else P._source(node)  # type: ignore[arg-type]
        assert whole == expected
    return fast


REALISTIC = [
    """
    import typing
    from typing import Any, Callable, Optional

    @dataclasses.dataclass(frozen=True, slots=True)
    class Point(Base, typing.Generic[T], metaclass=abc.ABCMeta):
        @property
        def x(self) -> int: ...
        @functools.lru_cache(maxsize=None)
        def norm(self, /, p: float = 2.0, *, eps: float = 1e-09) -> float: ...
        @classmethod
        def make(cls, *args: Any, **kwargs: Any) -> 'Point': ...
        @staticmethod
        def parse(text: str, sep: str = ',', strip: bool = True, default: Optional[int] = None) -> Point | None: ...
        async def fetch(self, url: str, *, timeout: float | None = 30, retries: int = -1) -> dict[str, list[int]]: ...
        def call(self, fn: Callable[[int, str], None], key=lambda x: x, fmt=f"{1}") -> None: ...
        def weird(self, a, b=(), c=[], d={}, e={'k': 1, 'j': (1,)}, f=(1, 2), g=-1.5, h=..., i=b'x'): ...
        def strings(self, a='it''s', b="say \\"hi\\"", c='tab\\there', d='é', e='two  spaces', f=u'x', g="it's"): ...
        def ops(self, a=1 + 2, b=not True, c=~1, d=+1, e=2 ** 8, f=x if y else z, g=a[1:2], h=-(-1)): ...
        def big(self, a=10 ** 100, b=1e400, c=1j, d=-1j, e=0x1F, f=1_000, g=True, h=False): ...
        def starred(self, *args: *Ts, **kw: 'Unpack[K]'): ...
        def calls(self, a=dict(a=1, **kw), b=f(*args), c=f(x for x in y), d=obj.method()(1)): ...
        def types(self, a: Literal['a', 'b'], b: Tuple[()], c: tuple[int, ...], d: 'List[str]') -> Dict[str, Any]: ...
        def unions(self, a: int | str | None, b: int | (str | None), c: (int, str) | None, d: -1 | 2): ...
        def subscripts(self, a: x[1:2], b: x[*Ts], c: x[()], d: x[(1, 2), 3], e: x[a,], f: x[-1]): ...

    @pytest.mark.parametrize('a, b', [(1, 2), (3, 4)])
    @pytest.mark.skipif(sys.version_info < (3, 12), reason='needs 3.12')
    def test_it(a, b, /, c, d=1, *e, f, g=2, h, **i): ...

    @(lambda f: f)
    @decorators[0]
    @a.b.c.d
    @register.filter(is_safe=True, name="x")
    class C(namedtuple('C', 'a b'), *bases, **kw): pass

    def f(a, b=1, /, c=2, *, d, e=3): pass
    def g(*, a): pass
    def h(a, /): pass
    def i(a=1, /, *args, b, **kwargs): pass
    def j(self, x=None, y=None, z=None) -> 'typing.Iterator[int]': pass
    def k(x=-0, y=-0.0, z=1.5e+300, w=123456789012345678901234567890): pass
    def l(x=' lead', y='trail ', z=' ', w=''): pass
    def m(x: list[dict[str, 'X']] = [], y: Callable[..., Awaitable[None]] = None): pass
    """,
    """
    class Empty: pass
    class Old(object): pass
    class Meta(type(Base)): pass
    class Generic(Base[int], Mixin.Inner[str, 'x']): pass
    @decorator
    @other.decorator()
    @a.b(1, 'two', three=3.0, four=[4], five={'5': 5})
    async def coro(loop=asyncio.get_event_loop(), *, sem: asyncio.Semaphore = None) -> AsyncIterator[bytes]:
        async def inner(x: int = 0x10): pass
        def nested(y=lambda: (yield)): pass
    """,
]


def test_printer_equals_unparse_on_realistic_sources():
    fast = sum(check_printer(textwrap.dedent(source)) for source in REALISTIC)
    assert fast >= 40  # many cases take the fast path (a printer that gives up on everything fails here)


NAMES = st.sampled_from(["a", "b", "self", "cls", "x_1", "value", "Ω"])
DOTTED = st.sampled_from(["int", "str", "typing.Any", "os.PathLike", "a.b.c", "None", "Foo"])


def string_literal() -> st.SearchStrategy[str]:
    return st.text(max_size=8).map(repr) | st.sampled_from(["'it'", '"a\'b"', "'a\\\\b'", "'tab\\t'", "u'x'", "'a  b'"])


@st.composite
def expressions(draw, depth: int = 0) -> str:
    simple = st.one_of(
        DOTTED,
        string_literal(),
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
        st.floats(allow_nan=False).map(repr).map(lambda r: r.replace("inf", "1e400")),
        st.sampled_from(["True", "False", "...", "b'x'", "1j", "f'{a}'", "f'{a!r:>10}'", "lambda q: q", "not a"]),
    )
    if depth >= 2:
        return draw(simple)
    inner = expressions(depth + 1)
    return draw(
        st.one_of(
            simple,
            st.tuples(DOTTED, st.lists(inner, min_size=1, max_size=3)).map(lambda t: f"{t[0]}[{', '.join(t[1])}]"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]} | {t[1]}"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]}) | ({t[1]})"),
            st.tuples(DOTTED, st.lists(inner, max_size=2), st.lists(st.tuples(NAMES, inner), max_size=2)).map(
                lambda t: f"{t[0]}({', '.join(t[1] + [f'{k}={v}' for k, v in t[2]])})"
            ),
            st.lists(inner, max_size=3).map(lambda items: f"({', '.join(items)}{',' if len(items) == 1 else ''})"),
            st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
            st.lists(st.tuples(inner, inner), max_size=2).map(
                lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
            ),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} if {t[1]} else {t[2]}"),
            inner.map(lambda e: f"-({e})"),
        )
    )


@st.composite
def signatures(draw) -> str:
    names = iter(f"p{i}" for i in range(100))

    def param(default: bool) -> str:
        text = next(names)
        if draw(st.booleans()):
            text += ": " + draw(expressions())
        if default:
            text += " = " + draw(expressions())
        return text

    positional = draw(st.integers(0, 4))
    with_defaults = draw(st.integers(0, positional))
    params = [param(i >= positional - with_defaults) for i in range(positional)]
    if params and draw(st.booleans()):
        params.insert(draw(st.integers(1, len(params))), "/")
    star = draw(st.sampled_from(["", "*", "*args", "*args: int", "*args: 'str'"]))
    keyword_only = [param(draw(st.booleans())) for _ in range(draw(st.integers(0, 3)))]
    if keyword_only and not star:
        star = "*"
    if star:
        params += [star, *keyword_only]
    if draw(st.booleans()):
        params.append("**kw" + (": " + draw(expressions()) if draw(st.booleans()) else ""))
    returns = " -> " + draw(expressions()) if draw(st.booleans()) else ""
    decorators = "".join(f"@{draw(expressions())}\n" for _ in range(draw(st.integers(0, 2))))
    bases = ", ".join(draw(st.lists(expressions(), max_size=2)))
    return f"{decorators}def f({', '.join(params)}){returns}: pass\n{decorators}class C({bases}): pass\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(signatures())
def test_printer_equals_unparse_on_generated_signatures(source):
    try:
        ast.parse(source)
    except SyntaxError:
        assume(False)
    check_printer(source)


def test_printer_leaves_deep_nesting_to_unparse():
    """ast.unparse gives up ("…") on nesting its recursion cannot take; the printer must not print
    what ast.unparse would not."""
    deep = "def f(x: " + " | ".join(["a"] * 400) + "): pass\n"
    node = ast.parse(deep).body[0].args  # type: ignore[attr-defined]
    assert printed(node) is None
    assert P._signature(node) == P._unparse(node)


# ---------------------------------------------------------------------------------------------------
# the walk


def reference_nodes(tree: ast.Module) -> SimpleNamespace:
    """What the analysis looks at, by ast.walk over every node."""
    nodes = list(ast.walk(tree))
    imports = [n for n in nodes if isinstance(n, ast.Import | ast.ImportFrom)]
    return SimpleNamespace(
        imports=sorted(imports, key=lambda n: (n.lineno, n.col_offset)),
        calls=[n for n in nodes if isinstance(n, ast.Call)],
        cuda=[n for n in nodes if isinstance(n, ast.Attribute) and n.attr == "cuda"],
        yields=[n for n in nodes if isinstance(n, ast.Yield | ast.YieldFrom)],
        defs=[n for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)],
    )


def check_walk(text: str, path: str = "pkg/mod.py") -> P._Nodes:
    """Assert the fast walk gathers what the reference does (the same imports in the same order, the
    same definitions, and the same findings), and analyze_python agrees; return the fast nodes."""
    tree = ast.parse(text)
    fast_result = Analysis(parser="ast", package="x", is_package_init=False)
    fast = P._Nodes(tree, fast_result.symbols)
    fast.walk(tree.body, "", False, True)  # as analyze_python walks
    fast.imports.sort(key=P._position)
    aliases = P._imports(fast, path, fast_result)
    fast.gather_expressions(text, aliases)
    P._findings(fast, aliases, fast_result)

    reference_result = Analysis(parser="ast", package="x", is_package_init=False)
    reference = reference_nodes(tree)
    assert P._imports(reference, path, reference_result) == aliases  # type: ignore[arg-type]
    P._findings(reference, aliases, reference_result)  # type: ignore[arg-type]

    assert fast.imports == reference.imports
    assert sorted(map(id, fast.defs)) == sorted(map(id, reference.defs))
    assert fast_result.imports == reference_result.imports
    assert fast_result.findings == reference_result.findings
    assert analyze_python_findings(path, text) == reference_result.findings
    return fast


def reference_symbols(body: list[ast.stmt], prefix: str = "", in_class: bool = False) -> list[tuple[str, str, int]]:
    """(kind, qualified name, line) of the definitions the analysis names: in module, class and
    function bodies and in the bodies of their `if`, `try` and `with` statements, in source order."""
    found: list[tuple[str, str, int]] = []
    for node in body:
        if isinstance(node, ast.ClassDef):
            found.append(("class", prefix + node.name, node.lineno))
            found += reference_symbols(node.body, prefix + node.name + ".", True)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(("method" if in_class else "function", prefix + node.name, node.lineno))
            found += reference_symbols(node.body, prefix + node.name + ".")
        elif isinstance(node, ast.If | ast.Try | ast.With | ast.AsyncWith):
            subs = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
            for sub in subs + [h.body for h in getattr(node, "handlers", [])]:
                found += reference_symbols(sub, prefix, in_class)
    return found


def analyze_python_findings(path: str, text: str):
    symbols = [(s.kind, s.name, s.line) for s in P.analyze_python(path, text).symbols]
    assert symbols == reference_symbols(ast.parse(text).body)

    return P.analyze_python(path, text).findings


WALK_SAMPLES = [
    # calls in decorators, defaults, lambdas, comprehensions, f-strings
    """
    import pickle, os, subprocess, yaml, time, torch, asyncio
    @decorate(pickle.loads(blob))
    def f(a=os.system('ls'), b=lambda: eval('1'), c=[exec(s) for s in x], d=f"{time.sleep(1)}"):
        return {k: yaml.load(v) for k, v in items}
    class K(Base, meta=torch.load(p)):
        attr = subprocess.run(cmd, shell=True)
        def m(self):
            return torch.cuda.is_available()
    """,
    # nested functions, class bodies, yields in nested functions and generator expressions
    """
    def outer():
        def inner():
            yield 1
        return (x for x in range(3))
    class A:
        def gen(self):
            x = yield from other()
        async def agen(self):
            yield
    def not_a_generator():
        return lambda: (yield)
    """,
    # match, try/except*/finally, with, while/for else
    """
    import pickle
    match command:
        case Point(x=0) if pickle.loads(x):
            eval(y)
        case torch.cuda:
            pass
        case _:
            exec(z)
    try:
        pass
    except* ValueError as e:
        pickle.load(f)
    finally:
        eval('x')
    try:
        pass
    except (OSError, eval('E')):
        pass
    else:
        exec('y')
    with open(p) as f, pickle.loads(q) as g:
        for x in eval(y):
            pass
        else:
            while exec(z):
                pass
            else:
                time.sleep(1)
    """,
    # aliased imports inside functions, `eval` shadowed by an import
    """
    def f():
        from pickle import loads as pl
        return pl(x)
    def g():
        from builtins import eval
        return eval(x)
    from numpy import exec
    exec(y)
    import concurrent.futures as cf
    pool = cf.ThreadPoolExecutor()
    from torch.jit import script as compile_it
    compile_it(model)
    from shelve import open
    open(path)
    """,
    # names on a later line than the statement (and call) starts
    """
    import pickle
    import subprocess as sp
    value = (
        pickle
        .
        loads
    )(
        data
    )
    result = sp.Popen(
        cmd,
        shell=True,
    )
    other = (pickle.  # a comment between the dot and the name
        load)(f)
    text = '''
    pickle.loads in a string is no call
    '''
    """,
    # a relative import binding a target's name (the path makes the module)
    """
    from . import loads as l2
    from .. import system
    l2(x)
    system('x')
    """,
    # decorators, async defs and names that only look like targets
    """
    import functools, time
    @functools.lru_cache
    async def f():
        model.eval()
        x.load(y)
        sleep(1)
        timesleep = time.sleeper()
    """,
]


def test_walk_equals_reference_on_samples():
    for sample in WALK_SAMPLES:
        text = textwrap.dedent(sample)
        check_walk(text, "pickle/pkg/mod.py")
        assert P._hot_lines(text, {}) is not None  # these are searched by words, not walked whole


def test_walk_skips_statements_without_a_target_word():
    text = "import pickle\nx = f(g(h(1)))\ny = pickle.loads(b)\n"
    nodes = check_walk(text)
    assert [c.lineno for c in nodes.calls] == [3]


def test_a_relative_import_can_make_a_target_the_text_never_spells():
    """In concurrent/mod.py, `from . import futures` binds `concurrent.futures`: the word `concurrent`
    is nowhere in the text, and `f.ThreadPoolExecutor()` is still a finding."""
    text = "from . import futures as f\n\npool = f.ThreadPoolExecutor()\n"
    check_walk(text, "concurrent/mod.py")
    assert [f.line for f in analyze_python_findings("concurrent/mod.py", text)] == [3]


def test_fullwidth_identifiers_are_read_as_python_reads_them():
    text = "import pickle, torch\nｅｖａｌ(x)\nresult = pickle.ｌｏａｄｓ(b)\n\ndef g():\n    return ｔｏｒｃｈ.ｃｕｄａ\ncafé = 1\n"
    check_walk(text)
    found = analyze_python_findings("m.py", text)
    assert [f.line for f in found] == [2, 3, 6]


def test_line_ends_crlf_and_lone_cr():
    base = "import pickle\nx = 1\n\ny = (\n  pickle.loads(b))\ndef g():\n    yield eval(x)\n"
    for text in (base.replace("\n", "\r\n"), base.replace("\n", "\r"), base.replace("\n", "\r", 3)):
        check_walk(text)
        assert [f.line for f in analyze_python_findings("m.py", text)] == [5, 6, 7]


FRAGMENTS = [
    "x = 1",
    "pickle.loads(data)",
    "pl(data)",
    "eval(s)",
    "exec(\n    s)",
    "y = (\n    os\n    .system\n)('ls')",
    "subprocess.run(cmd, shell=True)",
    "yaml.load(s)",
    "torch.cuda.synchronize()",
    "z = [time.sleep(i) for i in range(3)]",
    "w = lambda: asyncio.gather(a, b)",
    "yield item",
    "v = yield",
    "s = 'eval(x) in a string'",
    "# pickle.loads in a comment",
    "from pickle import loads as pl",
    "import os",
    "from builtins import eval",
]
COMPOUND = [
    "def f(a=eval('1')):",
    "async def g():",
    "class C(threading.Thread):",
    "if pickle.loads(x):",
    "for i in eval(y):",
    "while True:",
    "with open(p) as f:",
    "try:",
    "@functools.cache\ndef h():",
    "@pickle.loads(\n    b)\nclass D:",
    "match x:\n    case 1:",
    "async with a as b:",
]


@st.composite
def programs(draw, depth: int = 0) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 3 and draw(st.integers(0, 2)) == 0:
            header = draw(st.sampled_from(COMPOUND))
            body = textwrap.indent(draw(programs(depth + 1)), "        " if header.endswith("case 1:") else "    ")
            lines.append(f"{header}\n{body}")
            if header == "try:":
                lines.append(f"except* ValueError:\n{body}" if draw(st.booleans()) else f"finally:\n{body}")
        else:
            lines.append(draw(st.sampled_from(FRAGMENTS)))
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_walk_equals_reference_on_generated_programs(program, line_end, fullwidth):
    text = program.replace("\n", line_end)
    if fullwidth:
        text = text.replace("eval", "ｅｖａｌ").replace("loads", "ｌｏａｄｓ")
    try:
        ast.parse(text)
    except SyntaxError:  # yield outside a function, except* without a body that can hold it, ...
        assume(False)
    check_walk(text)


# ---------------------------------------------------------------------------------------------------
# the depth at which ast.unparse runs


class _Definitions:
    """The symbol walk as bcc1c66 wrote it (visit_body -> _class / _function -> visit_body), kept as the
    reference for the stack depth at which ast.unparse runs: an annotation nested deeply enough for
    ast.unparse to reach the recursion limit is printed "…", and where that limit lies depends on how
    many frames the walk has above it."""

    def __init__(self, result: Analysis) -> None:
        self.result = result

    def visit_body(self, body: list[ast.stmt], prefix: str, in_class: bool = False) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                self._class(node, prefix)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._function(node, prefix, in_class)
            elif isinstance(node, ast.If | ast.Try | ast.With | ast.AsyncWith):
                subs = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
                for sub in subs + [h.body for h in getattr(node, "handlers", [])]:
                    self.visit_body(sub, prefix, in_class)

    def _class(self, node: ast.ClassDef, prefix: str) -> None:
        name = prefix + node.name
        bases = tuple(P._unparse(b) for b in node.bases)
        decorators = tuple(P._unparse(d) for d in node.decorator_list)
        self.result.symbols.append(P.Symbol("Classes", "class", name, node.lineno, bases=bases, decorators=decorators))
        self.visit_body(node.body, name + ".", in_class=True)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, prefix: str, in_class: bool) -> None:
        name = prefix + node.name
        sig = f"({P._unparse(node.args)})"
        if node.returns is not None:
            sig += f" -> {P._unparse(node.returns)}"
        decorators = tuple(P._unparse(d) for d in node.decorator_list)
        kind = "method" if in_class else "function"
        self.result.symbols.append(P.Symbol("Functions", kind, name, node.lineno, sig, decorators=decorators))
        self.visit_body(node.body, name + ".")


def bcc1c66_symbols(text: str) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """The symbols' names, signatures, bases and decorators as bcc1c66 made them, called at the depth
    analyze_python is (one frame below the caller)."""
    result = Analysis(parser="ast", package="m", is_package_init=False)
    _Definitions(result).visit_body(ast.parse(text).body, "")
    return [(s.name, s.signature, s.bases, s.decorators) for s in result.symbols]


def test_annotations_too_deep_for_unparse_give_what_they_gave():
    """A union of a few hundred names is a few hundred nested nodes: ast.unparse gives up on it ("…")
    or not according to the frames above it, at any depth of definitions; the walk must run it as deep
    as it ran before."""
    for nest in (0, 1, 30):
        outer = "".join("    " * level + f"class K{level}:\n" for level in range(nest))
        pad = "    " * nest
        for terms in range(200, 420, 3):
            union = "|".join(["a"] * terms)
            text = outer + (
                f"{pad}def f(x: {union}) -> {union}: pass\n"
                f"{pad}class B({union}): pass\n"
                f"{pad}@{union}\n{pad}def g(): pass\n"
            )
            found = [(s.name, s.signature, s.bases, s.decorators) for s in P.analyze_python("m.py", text).symbols]
            assert found == bcc1c66_symbols(text), (nest, terms)
