"""C, C++ and shell pages list what the code declares, behind macros too, and claim no syntax error that
the language's own tools would not."""

from __future__ import annotations

from bot.engine.analyze_ts import analyze_tree_sitter
from bot.engine.config import Config
from bot.engine.file_pages import render_file

API_HEADER = b"""/* mylib: the public API. */
#ifndef MYLIB_API_H
#define MYLIB_API_H

#include <stddef.h>
#include <mylib/types.h>
#include "mylib_config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct thing thing_t;

/* Opens the library. */
MYLIB_API int mylib_open(const char *path);
MYLIB_API thing_t *mylib_create(void);
MYLIB_API const char *MYLIB_CALL mylib_name(const thing_t *MYLIB_RESTRICT t);

static MYLIB_INLINE uint32_t
mylib_mask(uint32_t n) {
  return ~(~(uint32_t)0 << n);
}

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif
"""


def functions(analysis):
    return [(s.name, s.kind, s.line, s.signature) for s in analysis.symbols if s.group == "Functions"]


def test_declarations_behind_export_macros_keep_their_names_and_pointers():
    a = analyze_tree_sitter("cpp", API_HEADER)
    assert functions(a) == [
        ("mylib_open", "declaration", 16, "int mylib_open(const char *path)"),
        ("mylib_create", "declaration", 17, "thing_t *mylib_create(void)"),
        ("mylib_name", "declaration", 18, "const char *mylib_name(const thing_t * t)"),
        ("mylib_mask", "function", 21, "uint32_t mylib_mask(uint32_t n)"),
    ]
    assert not a.partial and not a.error


def test_a_header_page_makes_no_claim_and_describes_includes_by_syntax():
    result = render_file("include/mylib/api.h", API_HEADER, Config())
    page = result.pages["include/mylib/api.h_docs.md"]
    assert "syntax error" not in page and "partly analysed" not in page and "System headers" not in page
    angle, quoted = page.split("#### Angle-bracket includes (2)")[1].split("#### Quoted includes (1)")
    assert "`mylib/types.h`" in angle and "`stddef.h`" in angle and "`mylib_config.h`" in quoted
    assert "`mylib_open`" in page and "`mylib_create`" in page and not result.summary.reason


WIDGET = b"""#include <sstream>
#include <string>

namespace ui {

DECLARE_LOGGER(widgets)

class MYLIB_API Widget : public Base {
  MYLIB_OBJECT(Widget)
 public:
  Widget &resize(int w, int h);
  Widget &operator=(const Widget &) = delete;
  explicit operator bool() const;
  uint8_t *Get();
  const std::string &name() const { return name_; }
  int parse(const std::string &text) {
    std::istringstream stream(text);
    int value = 0;
    if (stream >> value) {
      return value;
    }
    return -1;
  }

 private:
  std::string name_;
};

class Panel {
 public:
  void add(Widget *w);
};

}  // namespace ui
"""


def test_macro_calls_without_semicolons_cost_one_line():
    a = analyze_tree_sitter("cpp", WIDGET)
    classes = [(s.name, s.line) for s in a.symbols if s.group == "Classes/Structs"]
    assert classes == [("ui::Widget", 8), ("ui::Panel", 29)]
    assert functions(a) == [
        ("ui::Widget::resize", "declaration", 11, "Widget &resize(int w, int h)"),
        ("ui::Widget::operator=", "method", 12, "Widget &operator=(const Widget &)"),
        ("ui::Widget::operator bool", "declaration", 13, "operator bool() const"),
        ("ui::Widget::Get", "declaration", 14, "uint8_t *Get()"),
        ("ui::Widget::name", "method", 15, "const std::string &name() const"),
        ("ui::Widget::parse", "method", 16, "int parse(const std::string &text)"),
        ("ui::Panel::add", "declaration", 31, "void add(Widget *w)"),
    ]
    assert not a.partial


def test_locals_and_statements_in_bodies_are_not_declarations():
    src = b"""#include <sstream>
int count_words(const std::string &text) {
  std::istringstream stream(text);
  std::string word;
  int n = 0;
  while (stream >> word) { ++n; }
  if (n) { helper(n); }
  return n;
}
"""
    names = [s.name for s in analyze_tree_sitter("cpp", src).symbols]
    assert names == ["count_words"]


def test_a_file_the_grammar_cannot_follow_is_partly_analysed_not_a_syntax_error():
    src = b"""#include "hash.h"

#if defined(WITH_PRELOAD)
static const Table kTable = {
#include "table_inc.h"
#else
static Table kTable = {
#endif
  0
};

int lookup(int key) { return key; }
"""
    result = render_file("src/hash.c", src, Config())
    page = result.pages["src/hash.c_docs.md"]
    assert "syntax error" not in page and "syntax error" not in result.summary.reason
    assert "It was partly analysed: the tree-sitter-c grammar gave up at line 5" in page
    assert "`lookup`" in page
    assert result.summary.description.startswith("C Source Code: ")


def test_python_syntax_errors_are_still_claimed():
    page = render_file("bad.py", b"def f(:\n    pass\n", Config()).pages["bad.py_docs.md"]
    assert "syntax error at line 1" in page and "partly analysed" not in page


SCRIPT = b"""# Starts the service (a comment on line 1).
set -eu

usage() {
  cat >&2 <<EOF
usage: $0 start|stop
EOF
}

find_directory()
{
  local dir op=$1
  shift
  for dir in "$@"; do
    [ "$op" "$dir" ] || continue
    printf %s "$dir"
    break
  done
}

cat >settings.json.new <<\\EOF ||
{ "enabled": true }
EOF
  exit 1

. ./lib/common.sh
start() { find_directory -d /opt /srv; }
"""


def test_shell_that_bash_accepts_gets_no_claim_and_lists_its_functions():
    a = analyze_tree_sitter("bash", SCRIPT)
    assert [(s.name, s.line) for s in a.symbols] == [("usage", 4), ("find_directory", 10), ("start", 27)]
    assert [i.module for i in a.imports] == ["./lib/common.sh"]
    assert not a.partial and not a.error
    page = render_file("bin/service.sh", SCRIPT, Config()).pages["bin/service.sh_docs.md"]
    assert "syntax error" not in page and "partly analysed" not in page
