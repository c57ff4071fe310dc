"""Python analysis: right, not guessed."""

from __future__ import annotations

import textwrap

import pytest

from bot.engine.analyze_python import analyze_python
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
