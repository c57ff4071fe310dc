"""A full run's folder outputs made as files come in (tree.FolderBuilder) and the state's own indenting
are exactly what `build` and `json.dumps` make."""

from __future__ import annotations

import json

from bot.engine import Config, FileResult, FolderBuilder, build, render_file
from bot.engine.tree import _indented

PATHS = sorted(
    [
        "README.md",
        "a/__init__.py",
        "a/b.py",
        "a/b/c.py",
        "a/b/d/e.py",
        "a/z.py",
        "only/sub/x.py",
        "x-y/q.txt",
    ]
)


def test_the_builder_makes_what_build_makes_whatever_the_batches() -> None:
    config = Config()
    results = {path: render_file(path, f'"""Doc of {path}."""\nX = 1\n'.encode(), config) for path in PATHS}
    whole = build({path: FileResult({}, r.summary) for path, r in results.items()}, config, {"a/doc.md"})
    for size in (1, 3, len(PATHS)):
        builder = FolderBuilder(PATHS, config, {"a/doc.md"})
        made = builder.take()
        for start in range(0, len(PATHS), size):
            for path in PATHS[start : start + size]:
                builder.add(path, results[path].summary)
            made.update(builder.take())
        assert made == whole
        assert not builder.collides()


def test_a_folder_named_like_a_page_is_left_to_build() -> None:
    assert FolderBuilder(["a/index.md/x.py"], Config()).collides()
    assert FolderBuilder(["a/b.py_docs.md/x.py"], Config()).collides()
    assert not FolderBuilder(["a/b.py"], Config()).collides()


def test_the_state_is_indented_as_json_indents_it() -> None:
    values = [
        {},
        [],
        {"b": [], "a": {}, "c": [1, -2, True, False, None, 'q"\\\n\t\x01é\u2028\ud800', [["x", "y"]], {"z": [{}]}]},
        {"files": {"é": {"key_names": [["N", "p#n"]], "refs": []}}},
    ]
    for value in values:
        assert _indented(value, "\n") == json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1)
