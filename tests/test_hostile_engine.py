"""Hostile inputs to the pure engine: the config is no window, nothing is quadratic, output stays
proportional to input, deep nesting is an answer, bounds hold, and no raw HTML reaches a page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.engine import Config, ConfigError, analyze_ts, parse_config, render_file
from bot.engine import analyze as analyze_mod
from bot.engine import folder_pages as folder_pages_mod
from bot.engine.analyze_text import analyze_text
from bot.engine.analyze_ts import analyze_tree_sitter
from bot.engine.config import EMBED_MAX_BYTES_LIMIT, MAX_FILE_BYTES_LIMIT
from bot.engine.file_pages import FileResult
from bot.engine.folder_pages import folder_pages, import_edges
from bot.engine.md import PAGE_MAX_BYTES
from bot.engine.model import Analysis, FileSummary, Symbol

# --- item 4: the config is never a window -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: [1\nsecret: hunter2 {\n",
        "include:\n  - 'hunter2\n password: x\n",
        "a: !!python/object:os.system hunter2\n",
        'key: "\\q hunter2"\n',
        "a: *hunter2\n",
        "hunter2: [\n",
        "\thunter2: 1\n",
    ],
)
def test_yaml_error_names_only_the_line(text):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    message = str(info.value)
    assert "hunter2" not in message and "\n" not in message
    assert " at line " in message or message.endswith("not valid YAML")


def test_unknown_key_is_named_escaped_and_clipped():
    _, warnings = parse_config('"x\\ny\\u0007' + "z" * 500 + '": 1\n')
    (warning,) = warnings
    assert "\n" not in warning and "\x07" not in warning and len(warning) < 200


@pytest.mark.parametrize(
    "docs_dir", [".git", ".git/docs", "x/.git", ".GIT/x", "/docs", "a/../b", "..", "", "/", "a\rb"]
)
def test_docs_dir_never_in_git_nor_outside(docs_dir):
    with pytest.raises(ConfigError, match="docs_dir"):
        parse_config(yaml.safe_dump({"docs_dir": docs_dir}))


@pytest.mark.parametrize(
    ("docs_dir", "norm"), [("docs", "docs"), ("docs/", "docs"), ("site/./ref", "site/ref"), ("..docs", "..docs")]
)
def test_docs_dir_ordinary_values(docs_dir, norm):
    assert parse_config(f"docs_dir: '{docs_dir}'\n")[0].docs_dir == norm


# --- item 8: deep nesting is an answer ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 500 + "]" * 500 + "\n",
        "".join("  " * i + f"k{i}:\n" for i in range(500)),
        "a: " + "{b: " * 500 + "1" + "}" * 500 + "\n",
    ],
)
def test_config_nested_500_deep_is_a_config_error(text):
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_config(text)


# --- item 9: upper bounds in the config ----------------------------------------------------------


def test_config_upper_bounds():
    assert parse_config(f"max_file_bytes: {MAX_FILE_BYTES_LIMIT}\n")[0].max_file_bytes == 100_000_000
    assert parse_config(f"embed_max_bytes: {EMBED_MAX_BYTES_LIMIT}\n")[0].embed_max_bytes == 1_000_000
    with pytest.raises(ConfigError, match="max_file_bytes' must be at most 100,000,000"):
        parse_config(f"max_file_bytes: {MAX_FILE_BYTES_LIMIT + 1}\n")
    with pytest.raises(ConfigError, match="embed_max_bytes' must be at most 1,000,000"):
        parse_config(f"embed_max_bytes: {EMBED_MAX_BYTES_LIMIT + 1}\n")


# --- item 6: no quadratic analysis ------------------------------------------------------------------
# Linearity without wall-clock thresholds: the same shape at n and 4n in one run; linear work gives
# a ratio near 4, quadratic near 16; the bound is generous for noisy machines.


def _seconds(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _ratio(make: Callable[[int], Callable[[], object]], n: int) -> float:
    """Time at 4n over time at n, the lowest of three measurements: a quadratic step stays near 16 every
    time, while a pause of a shared machine spoils one measurement, not three."""
    small, large = make(n), make(4 * n)
    small()  # warm up (grammars load, regexes compile)
    return min(_seconds(large) / max(_seconds(small), 1e-4) for _ in range(3))


def _atx(n: int) -> Callable[[], object]:
    text = "# a" + " #" * n + "x\n"
    return lambda: analyze_text("markdown", text)


def _cuda(n: int) -> Callable[[], object]:
    data = b"<<<" * n + b"\n__launch_bounds__(" * n
    return lambda: analyze_ts.blank_cuda(data)  # the grammar's own parse is tree-sitter's, not timed here


def _cuda_one_line(n: int) -> Callable[[], object]:
    data = b"".join(b"__global__ void k%d(){} " % i for i in range(n))
    symbols = [Symbol("Functions", "function", f"k{i}", 1) for i in range(n)]
    return lambda: analyze_ts.cuda_kernels(data, Analysis(symbols=symbols))


def _toml(n: int) -> Callable[[], object]:
    text = "".join(f"key{i} = {i}\n" for i in range(n))
    return lambda: analyze_text("toml", text)


def _json(n: int) -> Callable[[], object]:
    # written raw, each key's escaped spelling (\u00e9…) is found on no line: a per-key scan reads them all
    text = "{\n" + ",\n".join(f'"\u00e9{i}": {i}' for i in range(n)) + "\n}\n"
    return lambda: analyze_text("json", text)


_PUNCT = "!$%&()*+,;<=>?@^~"


def _same_slug_keys(n: int) -> list[str]:
    keys = []
    for i in range(n):
        word = ""
        while True:
            i, digit = divmod(i, len(_PUNCT))
            word += _PUNCT[digit]
            if not i:
                break
        keys.append("a" + word)
    return keys


def _yaml_anchors(n: int) -> Callable[[], object]:
    data = "".join(f"{json.dumps(key)}: 1\n" for key in _same_slug_keys(n)).encode()
    return lambda: render_file("k.yml", data, Config())


@pytest.mark.parametrize(
    ("make", "n"),
    [(_atx, 2000), (_cuda, 5000), (_cuda_one_line, 3000), (_toml, 600), (_json, 600), (_yaml_anchors, 1000)],
    ids=[
        "atx-heading",
        "cuda-launch",
        "cuda-kernels-on-one-line",
        "toml-keys",
        "json-escaped-keys",
        "yaml-same-slug-anchors",
    ],
)
def test_analysis_is_linear(make, n):
    assert _ratio(make, n) < 10


def test_same_slug_anchors_are_unique_and_numbered_in_order():
    data = "".join(f"{json.dumps(key)}: 1\n" for key in _same_slug_keys(50)).encode()
    page = render_file("k.yml", data, Config()).pages["k.yml_docs.md"]
    ids = re.findall(r'<a id="([^"]+)"></a>', page)
    assert ids == ["sym-a"] + [f"sym-a-{i}" for i in range(2, 51)]


def test_toml_and_json_keys_keep_their_lines():
    toml = analyze_text("toml", 'a = 1\n[b.c]\nx = 2\n["q r"]\n[[d]]\ne = 3\n')
    assert [(s.name, s.line) for s in toml.symbols] == [("a", 1), ("b", 2), ("q r", 4), ("d", 5)]
    text = '{\n  "a": {"b": 1},\n  "b" : 2,\n  "c\\"d": [1,\r\n 2],\n  "\u00e9": 3, "e": "x:y"\n}\n'
    lines = [(s.name, s.line) for s in analyze_text("json", text).symbols]
    assert lines == [("a", 2), ("b", 2), ('c"d', 4), ("\u00e9", 0), ("e", 6)]


def test_atx_heading_closing_sequence():
    text = "# Title ##\n## a # b #\n###   #\n#no\n# x\\#\n"
    assert [s.name for s in analyze_text("markdown", text).symbols] == ["Title", "a # b", "x\\"]


def test_cuda_launches_blanked_once_closed():
    data = b"__global__ void k(){}\nvoid h(){ k<<<1,\n2>>>(); }\n<<< __launch_bounds__(1) int\n"
    source = analyze_ts.blank_cuda(data)
    assert len(source) == len(data) and source.count(b"\n") == data.count(b"\n")
    assert b"<<<1" not in source and b"2>>>" not in source and b"__global__" not in source
    assert source.endswith(b"<<< " + b" " * len(b"__launch_bounds__(1)") + b" int\n")


# --- item 7: output proportional to input ---------------------------------------------------------


def _pages_bytes(result: FileResult) -> int:
    return sum(len(page.encode()) for page in result.pages.values())


@pytest.mark.parametrize(
    ("path", "opener", "closer"),
    [
        ("a.js", b"function a(){", b"}"),
        ("a.ts", b"class A{m(){", b"}}"),
        ("a.cpp", b"namespace a{", b"}"),
        ("a.rs", b"mod a{", b"}"),
        ("a.go", b"func a(){", b"}"),
    ],
    ids=["js", "ts", "cpp", "rust", "go"],
)
def test_deep_nesting_gives_pages_proportional_to_the_source(path, opener, closer):
    small = render_file(path, opener * 1000 + closer * 1000, Config())
    large = render_file(path, opener * 4000 + closer * 4000, Config())
    assert _pages_bytes(large) < 6 * _pages_bytes(small)


def test_javascript_nested_8000_deep():
    data = b"function a(){" * 8000 + b"}" * 8000  # 104 KB
    result = render_file("a.js", data, Config())
    assert _pages_bytes(result) < 3_000_000
    page = result.pages["a.js_docs.md"]
    assert "7,991 definitions nested more than 8 levels deep are named under their nearest shown parent" in page
    names = {s for s in re.findall(r"</a>`([a.]+)`", page)}
    assert max(names, key=len) == ".".join(["a"] * 9)


def test_deep_nesting_is_walked_in_linear_time():
    def make(n: int) -> Callable[[], object]:
        data = b"function a(){" * n + b"}" * n
        return lambda: analyze_tree_sitter("javascript", data)

    assert _ratio(make, 1000) < 10


def test_rust_test_attributes_still_found_through_a_chain():
    result = analyze_tree_sitter("rust", b"#[test]\n#[ignore]\n#[cfg(x)]\nfn t() {}\n#[test]\nfn u() {}\nfn v() {}\n")
    assert result.tests == ["t", "u"]


# --- item 8: deep nesting is an answer, not a crash ------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("a.json", b"[" * 1000 + b"]" * 1000),
        ("b.json", b'{"a":' * 1000 + b"1" + b"}" * 1000),
        ("a.yml", b"a: " + b"[" * 1000 + b"]" * 1000),
        ("b.yml", b"".join(b" " * i + b"k:\n" for i in range(1000))),
        ("a.toml", b"a = " + b"[" * 1000 + b"]" * 1000),
        ("b.toml", b"a = " + b"{b = " * 1000 + b"1" + b"}" * 1000),
    ],
    ids=["json-array", "json-object", "yaml-flow", "yaml-block", "toml-array", "toml-inline-table"],
)
def test_source_nested_1000_deep_says_so(path, data):
    page = render_file(path, data, Config()).pages[path + "_docs.md"]
    assert "It could not be fully analysed: nested too deeply to analyse." in page


def test_any_recursion_error_becomes_a_reason(monkeypatch):
    def deep(*args: object) -> None:
        raise RecursionError

    monkeypatch.setattr(analyze_mod, "analyze_tree_sitter", deep)
    page = render_file("a.go", b"package a\n", Config()).pages["a.go_docs.md"]
    assert "It could not be fully analysed: nested too deeply to analyse." in page


# --- item 9: no page over 2 MB; longer lists are cut with a count ---------------------------------

BIG = Config(max_file_bytes=MAX_FILE_BYTES_LIMIT, embed_max_bytes=EMBED_MAX_BYTES_LIMIT)


def _all_pages_capped(pages: dict[str, str]) -> None:
    for name, page in pages.items():
        assert len(page.encode("utf-8")) <= PAGE_MAX_BYTES, name
        assert page.endswith("*Generated by repodoc*\n"), name


def test_many_symbols_are_cut_with_a_count():
    data = "".join(
        f"def function_with_a_rather_long_name_{i}(argument_one, argument_two):\n    pass\n" for i in range(25_000)
    )
    pages = render_file("many.py", data.encode(), BIG).pages
    _all_pages_capped(pages)
    docs, kw = pages["many.py_docs.md"], pages["many.py_kw.md"]
    assert "#### Functions (25000)" in docs and "### Functions (25000)" in kw
    cut = re.search(r"- … and ([\d,]+) more functions, left out: a page holds at most 2,000,000 bytes", docs)
    assert cut is not None
    assert docs.count("— function; line") + int(cut.group(1).replace(",", "")) == 25_000
    assert re.search(r"- … and [\d,]+ more functions, left out", kw)


def test_huge_names_docstrings_and_backtick_runs_stay_within_a_page():
    name = "n" * 3_000_000
    data = (f'"""{"d " * 1_000_000}"""\n__all__ = ["{name}"]\ndef {name}():\n    """{"w" * 300_000}"""\n').encode()
    _all_pages_capped(render_file("huge.py", data, BIG).pages)
    ticks = b"x = 1\n" + b"`" * 900_000 + b"\n"
    pages = render_file("ticks.md", ticks, BIG).pages
    _all_pages_capped(pages)
    assert "Cut at line" in pages["ticks.md_docs.md"]


def test_folder_pages_are_capped_too():
    summaries = [
        FileSummary(
            f"file_{i:06d}_with_a_long_name.py",
            "0" * 40,
            True,
            "",
            "Python Source Code",
            "d " * 60,
            "",
            (),
            tuple(f"file_{j:06d}_with_a_long_name" for j in range(i - 3, i)),
            f"file_{i:06d}_with_a_long_name",
        )
        for i in range(30_000)
    ]
    pages = folder_pages("big", summaries, [], Config())
    _all_pages_capped(pages)
    assert re.search(r"- … and [\d,]+ more files, left out", pages["big/index.md"])
    assert re.search(r"- … and [\d,]+ more nodes and edges of the graph, left out", pages["big/doc.md"])


def test_import_graph_of_a_large_folder_is_linear(monkeypatch):
    """Work counted, not timed: the file names are split once per file, not once per reference and file."""
    calls = []
    real = folder_pages_mod.posixpath.splitext

    def splitext(path: str) -> tuple[str, str]:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(folder_pages_mod.posixpath, "splitext", splitext)
    n = 400
    files = [
        FileSummary(f"m{i}.py", "0", True, refs=(f"m{i - 1}", f"pkg.m{i - 2}.Name", f"./m{i - 3}.py"), module=f"m{i}")
        for i in range(n)
    ]
    edges = import_edges(files)
    assert len(calls) <= 2 * n
    assert ("m5.py", "m4.py") in edges and ("m5.py", "m2.py") in edges


# --- item 11: no raw HTML from the analysed code reaches a page -----------------------------------

MD = MarkdownIt("commonmark").enable("table")
OWN_HTML = re.compile(r'<a id="sym-[0-9a-z_-]+">|</a>')
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<!-- x -->",
    '<a id="sym-x">',
    "`",
    "``",
    "|",
    "\r",
    "\n",
    "\r\n",
    "-->",
    "]",
    "[",
    "](javascript:x)",
    "\\",
    "&lt;",
    "\x1b",
    "\x0b",
    "# ",
    "- ",
    "> ",
    "1. ",
    "```",
    "~~~",
    "<div>",
    "\n<div>\n",
]
texts = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=4)), max_size=6).map("".join)
names = texts.map(lambda s: s.replace("/", "").replace("\0", "")[:40]).filter(lambda s: s not in ("", ".", ".."))


def foreign_html(page: str) -> list[str]:
    """Every piece of HTML markdown-it finds on a page that is not one of repodoc's own anchors."""
    found = []
    for token in MD.parse(page):
        for t in [token, *(token.children or [])]:
            if t.type in ("html_inline", "html_block") and not OWN_HTML.fullmatch(t.content.strip()):
                found.append(t.content)
    return found


def _pages_of(name: str, doc: str, subfolder: str) -> dict[str, str]:
    sources = {
        f"d/{name}.py": f"{doc!r}\n\ndef f():\n    {doc!r}\n\nclass C:\n    {doc!r}\n".encode(),
        f"d/{name}.md": f"{doc}\n\n# {doc}\n".encode(),
        f"d/README{name}.md": f"{doc}\n".encode(),
        f"d/{name}.js": f"/** {doc} */\nfunction g() {{}}\ntest({json.dumps(doc)}, () => {{}});\n".encode(),
        f"d/{name}.json": json.dumps({doc: 1}).encode(),
    }
    pages: dict[str, str] = {}
    results = {path: render_file(path, data, Config()) for path, data in sources.items()}
    for result in results.values():
        pages.update(result.pages)
    pages.update(folder_pages("d", [r.summary for r in results.values()], [subfolder], Config()))
    return pages


@settings(max_examples=60, deadline=None)
@given(names, texts, names)
def test_no_raw_html_reaches_any_page(name, doc, subfolder):
    for path, page in _pages_of(name, doc, subfolder).items():
        assert foreign_html(page) == [], path


def test_script_in_a_docstring_and_a_control_character_in_a_name_stay_text():
    pages = _pages_of("x\r<script>alert(1)</script>", "<img src=x onerror=alert(1)> and <script>", "s\n<div>")
    for path, page in pages.items():
        assert foreign_html(page) == [], path
    purpose = pages["d/x\r<script>alert(1)</script>.py_docs.md"].split("## File Purpose")[1]
    assert "&lt;img src=x onerror=alert(1)&gt;" in purpose.split("##")[0]


def _reference_target(files: list[FileSummary], ref: str, source: FileSummary) -> FileSummary | None:
    """import_edges' rule as its docstring reads, by a scan of every file: the first file (in order) that
    the reference names by file name, else the first Python file whose module is the reference's longest
    dotted prefix."""

    def first(named) -> FileSummary | None:
        return next((f for f in files if f is not source and named(f)), None)

    def by_name(f: FileSummary) -> bool:
        stem = f.name.rsplit(".", 1)[0] if "." in f.name[1:] else f.name
        return ref in (f.name, "./" + f.name, "./" + stem) or ref.endswith("/" + f.name)

    hit = first(by_name)
    if hit is not None:
        return hit
    prefixes = [ref] + [ref[:k] for k in range(len(ref) - 1, 0, -1) if ref[k] == "."]
    for prefix in prefixes:
        hit = first(lambda f, p=prefix: bool(f.module) and f.module == p and f.name.endswith((".py", ".pyi")))
        if hit is not None:
            return hit
    return None


_names = st.sampled_from(["a.py", "b.py", "a.pyi", "c.h", "util.js", "x", ".a", "a.b.py"])
_modules = st.sampled_from(["", "a", "pkg", "pkg.a", "pkg.a.b", "b", "a.b"])
_refs = st.sampled_from(["a", "pkg.a.X", "pkg", "./a.py", "./a", "x/a.py", "y/c.h", ".a", "os", "pkg.a.b.c", "b.X"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_names, _modules, st.lists(_refs, max_size=4)), min_size=1, max_size=6))
def test_import_edges_are_what_a_scan_of_every_file_gives(specs):
    files = [FileSummary(name, "0", True, refs=tuple(refs), module=module) for name, module, refs in specs]
    expected = set()
    for source in files:
        for ref in source.refs:
            target = _reference_target(files, ref, source)
            if target is not None:
                expected.add((source.name, target.name))
    assert import_edges(files) == sorted(expected)
