"""Python analysis: right, not guessed."""

from __future__ import annotations

import textwrap

import pytest

from bot.engine.analyze_python import analyze_python, project_packages
from bot.engine.config import Config
from bot.engine.file_pages import render_file


def analyse(source: str, path: str = "pkg/mod.py"):
    return analyze_python(path, textwrap.dedent(source))


def test_docstring_keeps_line_breaks():
    a = analyse('"""First line.\n\nSecond paragraph\nstill second."""\n')
    assert a.docstring == "First line.\n\nSecond paragraph\nstill second."


def test_classes_methods_and_nested_functions_are_qualified():
    a = analyse("""
        import abc
        @decorate
        class A(Base, metaclass=abc.ABCMeta):
            '''An A.'''
            def __init__(self, x: int = 1) -> None:
                def inner(): pass
            class B:
                async def go(self): '''Go.'''
        def f(*args, **kw): pass
    """)
    names = {s.name: s for s in a.symbols}
    assert set(names) == {"A", "A.__init__", "A.__init__.inner", "A.B", "A.B.go", "f"}
    assert names["A"].bases == ("Base",) and names["A"].decorators == ("decorate",)
    assert names["A"].doc == "An A."
    assert names["A.__init__"].kind == "method" and names["A.__init__"].signature == "(self, x: int=1) -> None"
    assert names["A.B.go"].signature.startswith("async") and names["A.B.go"].doc == "Go."
    assert names["f"].kind == "function" and names["f"].line == 10


def test_relative_imports_resolve_to_module_paths():
    a = analyse(
        "from . import x\nfrom ..up import y as z\nimport os.path\nfrom typing import Any\n", path="pkg/sub/mod.py"
    )
    modules = {(i.module, i.names, i.stdlib) for i in a.imports}
    assert modules == {
        ("pkg.sub", ("x",), False),
        ("pkg.up", ("y",), False),
        ("os.path", (), True),
        ("typing", ("Any",), True),
    }


def test_package_init_relative_import():
    a = analyse("from .core import run\n", path="pkg/__init__.py")
    assert a.imports[0].module == "pkg.core" and a.is_package_init and a.package == "pkg"


def test_all_and_main_guard():
    a = analyse("__all__ = ['a', 'b']\nif __name__ == '__main__':\n    pass\n")
    assert a.exports == ["a", "b"] and a.main_guard == 2


@pytest.mark.parametrize(
    ("source", "claim", "line"),
    [
        ("import pickle\npickle.loads(b'')\n", "`pickle.loads`", 2),
        ("from pickle import loads\n\nloads(b'')\n", "`pickle.loads`", 3),
        ("import subprocess\nsubprocess.run('ls', shell=True)\n", "shell=True", 2),
        ("eval('1')\n", "builtin `eval`", 1),
        ("import functools\n@functools.lru_cache\ndef f(): pass\n", "lru_cache", 2),
        ("import torch\nx = 1\ny = torch.cuda.is_available()\n", "`torch.cuda`", 3),
    ],
)
def test_claims_are_backed_by_code_with_lines(source, claim, line):
    found = [f for f in analyse(source).findings if claim in f.what]
    assert [f.line for f in found] == [line]


@pytest.mark.parametrize(
    "source",
    [
        "model.eval()\n",  # a method named eval is not the builtin
        "x = 'pickle.loads and subprocess shell=True'\n",  # words in strings prove nothing
        "# import pickle; pickle.loads(data)\n",  # nor comments
        "from threading import Lock\nlock = Lock()\n",  # a lock is not GPU/parallel computing
        "class ValuePicklingError(Exception): pass\n",  # naming pickling is not using pickle
    ],
)
def test_no_claim_without_code(source):
    assert analyse(source).findings == []


def test_claim_line_numbers_are_exact():
    a = analyse("import pickle\n\n\nx = pickle.loads(b'')\n")
    assert [(f.what.split()[0], f.line) for f in a.findings] == [("`pickle.loads`", 4)]


def test_pytest_file_and_its_tests():
    a = analyse(
        "import pytest\ndef test_a(): pass\nclass TestB:\n    def test_c(self): pass\ndef helper(): pass\n",
        path="tests/test_x.py",
    )
    assert a.test_framework == "pytest" and a.tests == ["test_a", "TestB.test_c"]


def test_unittest_file():
    a = analyse("import unittest\nclass T(unittest.TestCase):\n    def test_x(self): pass\n", path="t/check.py")
    assert a.test_framework == "unittest" and a.tests == ["T.test_x"]


def test_test_word_in_folder_is_no_evidence():
    a = analyse("def test_like_name(): pass\n", path="tests/helpers.py")
    assert a.test_framework == "" and a.tests == []


def test_pep695_syntax_falls_back_to_tree_sitter():
    source = b'"""Doc."""\ntype Vector = list[float]\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n'
    page = render_file("m.py", source, Config()).pages["m.py_docs.md"]
    assert "`Vector`" in page and "`first`" in page and "could not be fully analysed" not in page
    assert "analysed with tree-sitter-python" in page


def test_syntax_error_is_reported_with_its_line():
    result = render_file("bad.py", b"x = 1\ndef broken(:\n", Config())
    page = result.pages["bad.py_docs.md"]
    assert "syntax error at line 2" in page
    assert "syntax error at line 2" in result.summary.reason


def test_deep_nesting_falls_back_and_says_so():
    source = ("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n").encode()
    page = render_file("deep.py", source, Config()).pages["deep.py_docs.md"]
    assert "Python's own parser refused it" in page and "tree-sitter-python" in page


def test_deep_nesting_beyond_every_parser_is_reported_not_raised():
    source = ("x = " + "[" * 200_000 + "]" * 200_000 + "\n").encode()
    result = render_file("deeper.py", source, Config())
    assert result.summary.documented
    assert "deeper.py_docs.md" in result.pages


SYNC = b'''"""Fetch, plan, act: one sync of a branch."""

from __future__ import annotations

import asyncio
import json
import os.path
from collections.abc import Iterable

import aiohttp
import yaml
from gidgethub import sansio

import bot.engine.tree
from bot.engine import names

from . import writes
from .plan import Plan
from ..jobs import Job
'''


def _section(page: str, title: str) -> str:
    return page[page.index(f"#### {title}") :].split("\n\n", 2)[1]


def test_imports_are_grouped_by_origin_on_the_page():
    """Standard library, the file's own project (relative imports and its top-level package) and third party,
    each a group of its own; nothing is left in a catch-all "Other"."""
    a = analyze_python("bot/github/sync.py", SYNC.decode())
    origins = {i.module: ("stdlib" if i.stdlib else "project" if i.local else "third party") for i in a.imports}
    assert origins == {
        "__future__": "stdlib",
        "asyncio": "stdlib",
        "json": "stdlib",
        "os.path": "stdlib",
        "collections.abc": "stdlib",
        "aiohttp": "third party",
        "yaml": "third party",
        "gidgethub": "third party",
        "bot.engine.tree": "project",
        "bot.engine": "project",
        "bot.github": "project",
        "bot.github.plan": "project",
        "bot.jobs": "project",
    }
    page = render_file("bot/github/sync.py", SYNC, Config()).pages["bot/github/sync.py_docs.md"]
    assert "#### Standard library (5)" in page and "#### This project (5)" in page and "#### Third party (3)" in page
    assert "#### Other" not in page
    assert "`aiohttp`" in _section(page, "Third party") and "`bot.jobs` (line 19): `Job`" in _section(
        page, "This project"
    )
    assert "relative imports and imports of `bot`, the top-level package this file lies in" in page
    assert page.index("#### Standard library") < page.index("#### This project") < page.index("#### Third party")


@pytest.mark.parametrize(
    ("path", "own"),
    [
        ("bot/github/sync.py", ("bot",)),
        ("src/mylib/core/io.py", ("src", "mylib")),  # the src layout: src is no package
        ("mylib/__init__.py", ("mylib",)),
        ("src/tool.py", ("src",)),
        ("setup.py", ()),  # a module at the root has no package of its own
    ],
)
def test_the_projects_own_packages_come_from_the_path_alone(path, own):
    assert project_packages(path) == own


def test_src_layout_and_a_package_named_like_a_standard_module():
    source = "import mylib.util\nimport logging\nimport numpy as np\n"
    a = analyse(source, path="src/mylib/core.py")
    assert [(i.module, i.stdlib, i.local) for i in a.imports] == [
        ("mylib.util", False, True),
        ("logging", True, False),
        ("numpy", False, False),
    ]
    # a project whose own top-level package is called `logging` shadows the standard module
    shadow = analyse("import logging.handlers\n", path="logging/config.py")
    assert [(i.stdlib, i.local) for i in shadow.imports] == [(False, True)]


@pytest.mark.parametrize(
    "module",
    [
        "annotationlib",  # new in 3.14
        "compression.zstd",  # new in 3.14
        "_pyrepl",  # new in 3.13
        "tomllib",  # since 3.11
        "imghdr",  # removed in 3.13: still the standard library's for code written for 3.11 or 3.12
        "asynchat",  # removed in 3.12
    ],
)
def test_the_standard_library_is_the_union_over_supported_versions(module):
    """Whatever Python makes the page: a module of any supported version is the standard library's."""
    a = analyse(f"import {module}\n")
    assert a.imports[0].stdlib and not a.imports[0].local


def test_the_shipped_list_holds_the_running_interpreters_and_names_its_versions():
    import sys

    from bot.engine import stdlib

    assert set(sys.stdlib_module_names) <= stdlib.STDLIB_MODULES
    assert stdlib.VERSIONS == ("3.11", "3.12", "3.13", "3.14")
    assert {"annotationlib", "asyncore", "distutils", "cgi", "compression"} <= stdlib.STDLIB_MODULES
    assert not {"numpy", "yaml", "requests", "pytest", "__main__"} & stdlib.STDLIB_MODULES


def test_the_engine_never_reads_the_running_interpreters_list():
    from pathlib import Path

    engine = Path(__file__).resolve().parent.parent / "bot" / "engine"
    readers = [
        p.name for p in engine.glob("*.py") if "sys.stdlib_module_names" in p.read_text() and p.name != "stdlib.py"
    ]
    assert readers == []


def test_imports_grouped_after_a_fallback_to_tree_sitter():
    """Syntax newer than the interpreter (PEP 695 on 3.11) goes through tree-sitter-python: same groups."""
    source = b"import json\nimport attrs\nfrom .base import Model\ntype Vector = list[float]\n"
    page = render_file("app/models.py", source, Config()).pages["app/models.py_docs.md"]
    assert "`json`" in _section(page, "Standard library") and "`attrs`" in _section(page, "Third party")
    assert "`app.base` (line 3)" in _section(page, "This project")


CLIENT = '''"""A small GitHub client."""

import asyncio
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass
class Page:
    items: list


class Client:
    @property
    def base(self):
        return "https://api.github.com"

    @property
    def token(self):
        return self._token

    async def get(self, url):
        await asyncio.sleep(0)

    async def post(self, url, body):
        await asyncio.sleep(0)

    async def paged(self, url):
        page = await self.get(url)
        while page:
            yield page
            yield None

    @asynccontextmanager
    async def session(self):
        yield self

    def lines(self, text):
        def strip(line):
            return line.strip()

        for line in text.splitlines():
            yield strip(line)
        yield ""

    def wait(self):
        time.sleep(1)
'''


def _patterns(page: str, title: str = "Code Patterns & Idioms") -> list[str]:
    section = page[page.index(f"## {title}") :].split("\n\n", 2)[1]
    return section.splitlines()


def test_repeated_patterns_are_one_line_with_their_count_and_lines():
    """`async def`, `@property` and generators, each once on the page with how often and where; a pattern
    seen once keeps its own line; a generator is the function that yields, not each `yield`."""
    page = render_file("gh/client.py", CLIENT.encode(), Config()).pages["gh/client.py_docs.md"]
    assert _patterns(page) == [
        "- `@dataclass` generates the class's boilerplate at line 9",
        "- `@property` exposes a computed attribute: 2 times, at lines 15, 19",
        "- `async def` defines a coroutine: 4 times, at lines 23, 26, 29, 36",
        "- `yield` makes a function a generator: 3 times, at lines 29, 36, 39",
        "- `@asynccontextmanager` makes an async context manager at line 35",
    ]
    assert _patterns(page, "Performance Considerations") == ["- `time.sleep` blocks the thread at line 48"]
    assert "is a coroutine" not in page and "`async def get`" not in page


def test_a_pattern_seen_many_times_names_its_first_lines_and_counts_the_rest():
    source = "".join(f"async def handler_{n}(request):\n    return {n}\n\n\n" for n in range(30))
    page = render_file("web/routes.py", source.encode(), Config()).pages["web/routes.py_docs.md"]
    shown = ", ".join(str(1 + 4 * n) for n in range(12))
    assert _patterns(page) == [f"- `async def` defines a coroutine: 30 times, at lines {shown} and 18 more"]


def test_a_generator_is_its_innermost_function():
    source = (
        "def outer():\n"
        "    def inner():\n"
        "        yield 1\n"
        "    return list(inner())\n"
        "\n"
        "def chained(xs):\n"
        "    yield from xs\n"
        "    x = (yield)\n"
    )
    found = [f for f in analyse(source).findings if "generator" in f.what]
    assert [f.line for f in found] == [2, 6]
