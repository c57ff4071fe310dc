"""Tree-sitter and text-format analysis: names from syntax, never from comments or prose."""

from __future__ import annotations

import pytest

from bot.engine.analyze_text import analyze_text
from bot.engine.analyze_ts import analyze_tree_sitter
from bot.engine.config import Config
from bot.engine.file_pages import render_file

CPP = b"""#include <vector>
#include "local.h"
// namespace fake_in_comment
namespace torch { namespace lazy {
class Node : public Base {
 public:
  int size() const { if (x) { return 1; } while (y) {} return 0; }
};
struct Pod { int a; };
}}
int Node::other(int a) { return a; }
"""


def names(analysis, group):
    return sorted(s.name for s in analysis.symbols if s.group == group)


def test_cpp_names_namespaces_and_includes():
    a = analyze_tree_sitter("cpp", CPP)
    assert names(a, "Namespaces") == ["torch", "torch::lazy"]
    assert names(a, "Classes/Structs") == ["torch::lazy::Node", "torch::lazy::Pod"]
    assert names(a, "Functions") == ["Node::other", "torch::lazy::Node::size"]
    assert [(i.module, i.stdlib) for i in a.imports] == [("vector", True), ("local.h", False)]


def test_cuda_kernels_parse_and_are_claimed():
    src = b"__global__ void k(float* x) { x[0] = 1; }\nvoid run() { k<<<1, 2>>>(0); }\n"
    a = analyze_tree_sitter("cuda", src)
    assert names(a, "Functions") == ["k", "run"] and not a.error
    assert [(f.section, f.line) for f in a.findings] == [("performance", 1)]


@pytest.mark.parametrize(
    ("key", "src", "group", "expected"),
    [
        (
            "javascript",
            b"import x from './a.js';\nconst f = (a) => a;\nclass K { m() {} }\n",
            "Functions",
            ["K.m", "f"],
        ),
        ("typescript", b"interface I { a: number }\nexport class C implements I { a = 1 }\n", "Types", ["I"]),
        ("go", b'package p\nimport "fmt"\ntype S struct{}\nfunc (s *S) M() {}\n', "Functions", ["S.M"]),
        ("rust", b"use std::io;\nstruct A;\nimpl A { fn new() -> A { A } }\n", "Functions", ["A::new"]),
        ("java", b"import java.util.List;\nclass A { void m() {} }\n", "Methods", ["A.m"]),
        ("bash", b"#!/bin/sh\nsource ./lib.sh\nfoo() { echo; }\n", "Functions", ["foo"]),
    ],
)
def test_languages(key, src, group, expected):
    a = analyze_tree_sitter(key, src)
    assert names(a, group) == expected and not a.error


def test_markdown_headings_skip_code_fences():
    a = analyze_text("markdown", "# Title\n\nFirst para.\n\n```\n# not a heading\n```\n## Usage\n")
    assert [(s.name, s.level) for s in a.symbols] == [("Title", 1), ("Usage", 2)]
    assert a.docstring == "First para."


def test_yaml_toml_json_keys():
    assert names(analyze_text("yaml", "a: 1\nb:\n  c: 2\n"), "Keys") == ["a", "b"]
    assert names(analyze_text("toml", "x = 1\n[tool.y]\nz = 2\n"), "Keys") == ["tool", "x"]
    assert names(analyze_text("json", '{"k": {"n": 1}, "j": 2}'), "Keys") == ["j", "k"]


def test_broken_yaml_is_reported_with_line():
    assert analyze_text("yaml", "a: [1\nb: 2\n").error.startswith("YAML error at line")


def test_unparseable_language_file_still_gets_a_metadata_page():
    result = render_file("data.xyz", b"\x01\x02 odd", Config())
    page = result.pages["data.xyz_docs.md"]
    assert "## File Metadata" in page and "XYZ File" in page


def test_language_switch_off_is_said():
    from bot.engine.config import parse_config

    config, _ = parse_config("languages:\n  go: false\n")
    page = render_file("m.go", b"package m\nfunc F() {}\n", config).pages["m.go_docs.md"]
    assert "analysis of go is turned off" in page and "`F`" not in page


def test_go_test_file_lists_its_tests_and_the_command():
    src = b'package calc\nimport "testing"\nfunc TestAdd(t *testing.T) {}\nfunc helper() {}\nfunc BenchmarkAdd(b *testing.B) {}\n'
    page = render_file("calc/add_test.go", src, Config()).pages["calc/add_test.go_docs.md"]
    assert "Tests (2)" in page and "`TestAdd`" in page and "`BenchmarkAdd`" in page
    assert "go test ./calc" in page and "`helper`" not in page.split("## Testing & Usage")[1]


def test_go_file_that_is_not_a_test_holds_no_tests():
    page = render_file("calc/add.go", b"package calc\nfunc TestLike() {}\n", Config()).pages["calc/add.go_docs.md"]
    assert "This file holds no tests." in page


def test_rst_headings_follow_underline_levels():
    a = analyze_text("rst", "Title\n=====\n\nText.\n\nPart\n----\n\nMore\n====\n")
    assert [(s.name, s.level) for s in a.symbols] == [("Title", 1), ("Part", 2), ("More", 1)]


def test_cmake_targets_and_functions():
    a = analyze_text("cmake", "project(demo)\n# add_library(commented)\nadd_library(core a.c)\nfunction(helper)\n")
    assert [(s.group, s.name) for s in a.symbols] == [("Targets", "demo"), ("Targets", "core"), ("Functions", "helper")]


def test_broken_toml_and_json_are_reported():
    assert analyze_text("toml", "x = [\n").error.startswith("TOML error")
    assert analyze_text("json", '{"a": 1,\n}').error == "JSON error at line 2"


@pytest.mark.parametrize(
    ("name", "first", "type_name"),
    [
        ("tool", b"#!/usr/bin/env python3\n", "Python Source Code"),
        ("run", b"#!/bin/bash\n", "Shell Script"),
        ("Makefile", b"all:\n", "Makefile"),
        ("notes", b"plain\n", "Text File"),
    ],
)
def test_language_from_name_or_shebang(name, first, type_name):
    from bot.engine.languages import language_of

    assert language_of(name, first).type_name == type_name


def test_new_syntax_python_resolves_relative_imports():
    src = b"from . import sibling\nfrom ..up import thing\nimport os\ntype Alias = int\n"
    page = render_file("pkg/sub/mod.py", src, Config()).pages["pkg/sub/mod.py_docs.md"]
    assert "`pkg.sub`" in page and "`pkg.up`" in page and "tree-sitter-python" in page


def test_rust_tests_and_cargo():
    src = b"fn add(a: i32) -> i32 { a }\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() { assert_eq!(super::add(1), 1); }\n    fn helper() {}\n}\n"
    page = render_file("src/lib.rs", src, Config()).pages["src/lib.rs_docs.md"]
    testing = page.split("## Testing & Usage")[1]
    assert "Tests (1)" in testing and "`adds`" in testing and "cargo test" in testing and "helper" not in testing


@pytest.mark.parametrize(
    ("path", "src", "command"),
    [
        (
            "web/sum.test.js",
            b"const sum = require('./sum');\ntest('adds 1 + 2', () => { expect(sum(1, 2)).toBe(3); });\n",
            "npm test -- web/sum.test.js",
        ),
        (
            "web/sum.spec.ts",
            b"import { it, expect } from 'vitest';\nit('adds', () => { expect(1).toBe(1); });\n",
            "npx vitest run web/sum.spec.ts",
        ),
    ],
)
def test_js_tests_and_their_runner(path, src, command):
    page = render_file(path, src, Config()).pages[path + "_docs.md"]
    assert "Tests (1)" in page and command in page


def test_js_calls_named_test_in_ordinary_files_are_not_tests():
    page = render_file("web/app.js", b"function test(x) { return x; }\ntest('not a test');\n", Config()).pages[
        "web/app.js_docs.md"
    ]
    assert "This file holds no tests." in page


def test_header_prototypes_are_its_functions():
    src = b"#include <stddef.h>\nstruct buf { size_t n; };\nint buf_len(const struct buf *b);\nvoid *buf_data(struct buf *b);\nint (*hook)(int);\nint counter;\n"
    a = analyze_tree_sitter("cpp", src)
    assert [(s.name, s.kind, s.line) for s in a.symbols if s.group == "Functions"] == [
        ("buf_len", "declaration", 3),
        ("buf_data", "declaration", 4),
    ]


def test_class_method_declarations_are_qualified():
    a = analyze_tree_sitter("cpp", b"class W {\n public:\n  void run(int n);\n  int size() const { return 0; }\n};\n")
    assert sorted((s.name, s.kind) for s in a.symbols if s.group == "Functions") == [
        ("W::run", "declaration"),
        ("W::size", "method"),
    ]
