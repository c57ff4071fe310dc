"""repodoc's listed symbols against Universal Ctags' definitions on a real code base.

Usage: python bench/symbols.py FOLDER LANGUAGE [--verbose] [--ctags /usr/bin/ctags]

LANGUAGE is c, cpp or sh: the files of that language under FOLDER (by extension; `.h` counts for both C
and C++) are analysed by repodoc as a run would (their language from their name) and by ctags forced
to the language. Only the kinds repodoc lists are compared: functions, prototypes, classes, structs,
unions, enums and namespaces (C/C++), functions (shell). A symbol is its (file, name, line); the name is
compared without spaces, template arguments (ctags drops a specialisation's) and a macro's arguments
(`FN(Name)`, which ctags names FN), twice: bare (the last
`::` component) and qualified (ctags' scope, anonymous scopes left out).
Prints recall and precision of each, the files a page says were only partly analysed, and with
--verbose every mismatch.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine.analyze import analyze  # noqa: E402
from bot.engine.config import Config  # noqa: E402
from bot.engine.languages import language_of  # noqa: E402

EXTENSIONS = {
    "c": (".c", ".h"),
    "cpp": (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".h"),
    "sh": (".sh", ".bash"),
}
CTAGS_LANGUAGE = {"c": "C", "cpp": "C++", "sh": "Sh"}
KINDS = {
    "c": {"function", "prototype", "struct", "union", "enum"},
    "cpp": {"function", "prototype", "class", "struct", "union", "enum", "namespace"},
    "sh": {"function"},
}
GROUPS = {"Functions", "Classes/Structs", "Namespaces"}
_ANON = re.compile(r"^__anon[0-9a-f]+$")

Key = tuple[str, str, int]  # file, name, line


def files_of(folder: Path, language: str) -> list[Path]:
    """The files of the language under folder, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS[language])


def ctags_symbols(ctags: str, folder: Path, files: list[Path], language: str) -> set[Key]:
    """ctags' definitions of the compared kinds, qualified by their named scopes."""
    lang = CTAGS_LANGUAGE[language]
    command = [
        ctags,
        "--output-format=json",
        "--fields=+nKZ",
        f"--language-force={lang}",
        f"--kinds-{lang}=+p" if language != "sh" else "--kinds-Sh=+f",
        "-f",
        "-",
        *[str(p.relative_to(folder)) for p in files],
    ]
    out = subprocess.run(command, cwd=folder, capture_output=True, check=True).stdout
    found: set[Key] = set()
    for raw in out.splitlines():
        tag = json.loads(raw)
        if tag.get("_type") != "tag" or tag.get("kind") not in KINDS[language]:
            continue
        if _ANON.match(tag["name"]):
            continue
        scope = [part for part in tag.get("scope", "").split("::") if part and not _ANON.match(part)]
        found.add((tag["path"], "::".join([*scope, tag["name"]]), tag["line"]))
    return found


def repodoc_symbols(folder: Path, files: list[Path]) -> tuple[set[Key], dict[str, str]]:
    """What repodoc lists of the compared groups, and each file's analysis error."""
    config = Config()
    found: set[Key] = set()
    errors: dict[str, str] = {}
    for path in files:
        data = path.read_bytes()
        rel = str(path.relative_to(folder))
        lang = language_of(rel, data.split(b"\n", 1)[0])
        analysis = analyze(rel, data.decode("utf-8", "replace"), data, lang, config)
        if analysis.error:
            errors[rel] = analysis.error
        partial = getattr(analysis, "partial", 0)
        if partial:
            errors[rel] = f"partly analysed (line {partial})"
        for sym in analysis.symbols:
            if sym.group in GROUPS:
                found.add((rel, sym.name, sym.line))
    return found, errors


def plain(name: str) -> str:
    """A name without spaces and template arguments (ctags drops a specialisation's), operators kept."""
    name = "".join(name.split())
    out, depth, i = [], 0, 0
    while i < len(name):
        if name.startswith("operator", i) and depth == 0:
            out.append(name[i:])  # the operator's own symbols are its name
            break
        char = name[i]
        if char == "<" and out and (out[-1].isalnum() or out[-1] == "_" or depth):
            depth += 1
        elif char == ">" and depth:
            depth -= 1
        elif char == "(" and not depth:  # a name made by a macro, `FN(Name)`: ctags names it FN
            depth = 1000
        elif char == ")" and depth == 1000:
            depth = 0
        elif not depth:
            out.append(char)
        i += 1
    return "".join(out)


def normal(keys: set[Key]) -> set[Key]:
    """The keys with plain names."""
    return {(path, plain(name), line) for path, name, line in keys}


def bare(keys: set[Key]) -> set[Key]:
    """The keys with names cut to their last component."""
    return {(path, name.rsplit("::", 1)[-1], line) for path, name, line in keys}


def score(truth: set[Key], mine: set[Key]) -> tuple[float, float]:
    """Recall and precision of mine against truth."""
    hit = len(truth & mine)
    return hit / max(len(truth), 1), hit / max(len(mine), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("language", choices=sorted(EXTENSIONS))
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--ctags", default="/usr/bin/ctags")
    args = parser.parse_args()
    folder = args.folder.resolve()
    files = files_of(folder, args.language)
    truth = normal(ctags_symbols(args.ctags, folder, files, args.language))
    mine, errors = repodoc_symbols(folder, files)
    mine = normal(mine)
    print(f"{len(files)} files, ctags {len(truth)} symbols, repodoc {len(mine)}")
    for label, t, m in (("bare", bare(truth), bare(mine)), ("qualified", truth, mine)):
        recall, precision = score(t, m)
        print(f"{label:>9}: recall {recall:.3f}  precision {precision:.3f}")
    print(f"files with a claim of partial analysis or error: {len(errors)}")
    if args.verbose:
        for rel, error in sorted(errors.items()):
            print(f"  claim {rel}: {error}")
        missed = sorted(truth - mine, key=lambda k: (k[0], k[2], k[1]))
        extra = sorted(mine - truth, key=lambda k: (k[0], k[2], k[1]))
        print(f"missed (ctags only, {len(missed)}):")
        for path, name, line in missed:
            print(f"  - {path}:{line} {name}")
        print(f"extra (repodoc only, {len(extra)}):")
        for path, name, line in extra:
            print(f"  + {path}:{line} {name}")
        kinds = Counter(path.rsplit(".", 1)[-1] for path, _, _ in missed + extra)
        print("mismatches by extension:", dict(sorted(kinds.items())))


if __name__ == "__main__":
    main()
