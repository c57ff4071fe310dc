"""Symbol recall and precision of repodoc's tree-sitter languages against Universal Ctags.

For one folder and one language, every source file is analysed as a page would be (`bot.engine.analyze`)
and by `ctags` (JSON output). A symbol is its (file, name, line), the name being the last part of a
qualified name (`Foo.prototype.bar` -> `bar`, `A::new` -> `new`) and each declaration of an overloaded
name counting once. Recall: the share of ctags' definitions, of the kinds repodoc lists, that repodoc
lists at the same line. Precision: the share of repodoc's symbols that ctags names at the same line,
in any kind (ctags calls `const f = () => 1` a constant, repodoc a function: both name a definition);
ctags' anonymous functions (`isPM: function …` in a call's argument) match a repodoc symbol on their line,
and a further declaration of an overloaded name is right when its first one is (ctags lists only the
first overload of a TypeScript method). ctags calls every JavaScript object literal a class: only classes
whose line holds `class` are counted.

Usage: python bench/symbols_ts.py FOLDER LANGUAGE [--verbose]
  LANGUAGE: javascript, typescript, java, rust or go. Needs `ctags` (Universal Ctags) on the PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine.analyze import analyze  # noqa: E402
from bot.engine.config import Config  # noqa: E402
from bot.engine.languages import language_of  # noqa: E402

# language -> (file name endings, ctags language, the ctags kinds repodoc lists)
LANGUAGES: dict[str, tuple[tuple[str, ...], str, frozenset[str]]] = {
    "javascript": (
        (".js", ".mjs", ".cjs"),
        "JavaScript",
        frozenset({"class", "function", "generator", "method", "getter", "setter"}),
    ),
    "typescript": (
        (".ts", ".tsx", ".mts", ".cts"),
        "TypeScript",
        frozenset({"class", "function", "generator", "method", "interface", "enum", "alias", "namespace"}),
    ),
    "java": ((".java",), "Java", frozenset({"class", "interface", "enum", "method", "annotation"})),
    "rust": (
        (".rs",),
        "Rust",
        frozenset({"function", "method", "struct", "enum", "interface", "module", "typedef", "union"}),
    ),
    "go": ((".go",), "Go", frozenset({"func", "struct", "interface", "type", "talias"})),
}

Key = tuple[str, str, int]  # file (relative), short name, line


def short(name: str) -> str:
    """The last part of a qualified name."""
    return name.replace("::", ".").rsplit(".", 1)[-1]


def source_files(folder: Path, endings: tuple[str, ...]) -> list[str]:
    found = []
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in (".git", "node_modules"))
        found += [os.path.relpath(os.path.join(top, f), folder) for f in files if f.endswith(endings)]
    return sorted(found)


def repodoc_symbols(folder: Path, files: list[str]) -> dict[Key, Key]:
    """Each symbol's declarations -> its first declaration."""
    found: dict[Key, Key] = {}
    config = Config()
    for rel in files:
        data = (folder / rel).read_bytes()
        lang = language_of(rel, data[:200].split(b"\n", 1)[0])
        result = analyze(rel, data.decode("utf-8", "replace"), data, lang, config)
        for sym in result.symbols:
            first = (rel, short(sym.name), sym.line)
            for line in [sym.line, *(number for number, _ in getattr(sym, "overloads", ()))]:
                found.setdefault((rel, short(sym.name), line), first)
    return found


def ctags_symbols(folder: Path, files: list[str], language: str) -> tuple[set[Key], set[Key], set[tuple[str, int]]]:
    """(every definition ctags finds, those of the kinds repodoc lists, the lines of anonymous functions)."""
    _, ctags_language, kinds = LANGUAGES[language]
    command = ["ctags", "--output-format=json", "--fields=+nK", f"--languages={ctags_language}"]
    command += ["-f", "-", "-L", "-"]
    out = subprocess.run(command, cwd=folder, input="\n".join(files), capture_output=True, text=True, check=True)
    every: set[Key] = set()
    listed: set[Key] = set()
    anonymous: set[tuple[str, int]] = set()
    for row in out.stdout.splitlines():
        tag = json.loads(row)
        if tag.get("_type") != "tag" or "line" not in tag:
            continue
        key = (tag["path"], short(tag["name"]), tag["line"])
        every.add(key)
        if tag["name"].startswith("AnonymousFunction"):
            anonymous.add((tag["path"], tag["line"]))
        elif tag.get("kind") in kinds and not (
            language == "javascript" and tag["kind"] == "class" and "class" not in tag.get("pattern", "")
        ):
            listed.add(key)
    return every, listed, anonymous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("language", choices=sorted(LANGUAGES))
    parser.add_argument("--verbose", action="store_true", help="print every mismatch")
    args = parser.parse_args()
    files = source_files(args.folder, LANGUAGES[args.language][0])
    ours = repodoc_symbols(args.folder, files)
    every, listed, anonymous = ctags_symbols(args.folder, files, args.language)
    found = listed & ours.keys()
    right = {key for key, first in ours.items() if key in every or first in every or key[::2] in anonymous}
    recall = len(found) / len(listed) if listed else 1.0
    precision = len(right) / len(ours) if ours else 1.0
    print(f"{args.language}: {len(files)} files, ctags {len(listed)} definitions, repodoc {len(ours)} symbols")
    print(f"recall {recall:.3f} ({len(found)}/{len(listed)})  precision {precision:.3f} ({len(right)}/{len(ours)})")
    if args.verbose:
        for path, name, line in sorted(listed - ours.keys()):
            print(f"missed {path}:{line} {name}")
        for path, name, line in sorted(ours.keys() - right):
            print(f"extra  {path}:{line} {name}")


if __name__ == "__main__":
    main()
