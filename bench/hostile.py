"""Hostile inputs to the docs engine (issue 6, items 6 and 7): the seconds each takes at n and 4n,
measured in one run, and their ratio (linear work gives about 4, quadratic about 16).

Usage: python bench/hostile.py [--scale 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine import Config, render_file  # noqa: E402
from bot.engine.folder_pages import import_edges  # noqa: E402
from bot.engine.model import FileSummary  # noqa: E402

CONFIG = Config(max_file_bytes=100_000_000, embed_max_bytes=1_000_000)
PUNCT = "!$%&()*+,;<=>?@^~"


def same_slug(i: int) -> str:
    """A YAML key whose anchor slugs to `a`, like every other one."""
    word = ""
    while True:
        i, digit = divmod(i, len(PUNCT))
        word += PUNCT[digit]
        if not i:
            return "a" + word


def page(path: str, make: Callable[[int], bytes]) -> Callable[[int], Callable[[], object]]:
    """A case rendering one file built by make(n)."""

    def case(n: int) -> Callable[[], object]:
        data = make(n)
        return lambda: render_file(path, data, CONFIG)

    return case


def folder(n: int) -> Callable[[], object]:
    files = [
        FileSummary(f"m{i}.py", "0", True, refs=(f"m{i - 1}", f"pkg.m{i - 2}.Name"), module=f"m{i}") for i in range(n)
    ]
    return lambda: import_edges(files)


CASES: list[tuple[str, int, Callable[[int], Callable[[], object]]]] = [
    ("markdown `# a` + ` #` * n + `x`", 8_000, page("a.md", lambda n: b"# a" + b" #" * n + b"x\n")),
    ("CUDA `<<<` * n", 5_000, page("a.cu", lambda n: b"<<<" * n)),
    (
        "CUDA, n kernels on one line",
        5_000,
        page("k.cu", lambda n: b"".join(b"__global__ void k%d(){} " % i for i in range(n))),
    ),
    ("TOML, n keys", 5_000, page("a.toml", lambda n: "".join(f"key{i} = {i}\n" for i in range(n)).encode())),
    (
        "JSON, n escaped keys",
        5_000,
        page("a.json", lambda n: ("{\n" + ",\n".join(f'"\\u00e9{i}": {i}' for i in range(n)) + "\n}\n").encode()),
    ),
    (
        "YAML, n keys with one slug",
        5_000,
        page("a.yml", lambda n: "".join(f"{json.dumps(same_slug(i))}: 1\n" for i in range(n)).encode()),
    ),
    ("JavaScript `function a(){` nested n deep", 2_000, page("a.js", lambda n: b"function a(){" * n + b"}" * n)),
    ("folder import graph, n files", 2_000, folder),
]


def seconds(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every n")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    print(f"{'input':45} {'n':>8} {'s at n':>9} {'s at 4n':>9} {'ratio':>6} {'pages at 4n':>12}")
    for label, base, case in CASES:
        n = max(1, int(base * args.scale))
        small, large = case(n), case(4 * n)
        small()  # warm up: grammars load once
        t_small, t_large = seconds(small, args.repeat), seconds(large, args.repeat)
        result = large()
        size = sum(len(p.encode()) for p in result.pages.values()) if hasattr(result, "pages") else 0
        print(f"{label:45} {n:>8,} {t_small:>9.4f} {t_large:>9.4f} {t_large / max(t_small, 1e-6):>6.1f} {size:>12,}")


if __name__ == "__main__":
    main()
