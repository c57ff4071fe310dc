"""Benchmark of the docs engine on real code bases (Django's and Salt's source distributions from PyPI).

Prints, measured in one run:
- on each corpus, full generation time against the floor of reading the same files and
  `ast.parse`-ing the Python ones on one core (target: ratio under 1.0, with every core used),
  measured back to back `--repeat` times: the median ratio and the spread, since other processes
  on the machine move both; and the same against a floor parsed with the cyclic collector paused, as
  repodoc's workers parse (a fifth cheaper), so that the gain of pausing it is not taken for the rest;
- a worker's CPU on each corpus in one process, split into `ast.parse` (with the collector paused, as the
  workers parse), the rest of the analysis, the rendering and the file I/O, and all but the parse against the
  parse (the issue's rule: per file, everything but the parse costs less than the parse);
- a one-file incremental update (`--since`) on the corpus against the same update on a corpus ten
  times smaller, whole and without git's own calls (target: repodoc's work ratio under 1.5: it does
  not grow with the repository; git's stat of every tracked file, which finds what changed on disk,
  does, and is printed apart).

Usage: python bench/engine.py [--package django==5.2.19] [--second salt==3008.5] [--repeat 5]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.local  # noqa: E402
from bot import collector  # noqa: E402
from bot.local import Options, list_files, load_config, run  # noqa: E402
from tests.gitrepo import GitRepo  # noqa: E402


def fetch_sdist(spec: str, into: Path) -> Path:
    """Download and unpack a source distribution; returns its top folder."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(into / "dl"),
            spec,
        ],
        check=True,
    )
    archive = next((into / "dl").iterdir())
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    return next((into / "src").iterdir())


def as_git(source: Path, target: Path, keep_every: int = 1) -> GitRepo:
    """A git repository holding every keep_every-th file of source."""
    files = sorted(p for p in source.rglob("*") if p.is_file())[::keep_every]
    repo = GitRepo(target)
    for path in files:
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    repo.commit("corpus")
    return repo


def parse_floor(root: Path, paused: bool = False) -> tuple[float, int]:
    """Seconds to read every candidate file and ast.parse the Python ones, on one core; paused: with the
    cyclic collector paused, as repodoc's workers parse (bot/collector.py), for the stricter ratio."""
    config, _ = load_config(root)
    paths = list_files(root, config, "docs").candidates
    started = time.perf_counter()
    with collector.paused() if paused else contextlib.nullcontext():
        for rel in paths:
            data = (root / rel).read_bytes()
            if rel.endswith(".py"):
                with contextlib.suppress(SyntaxError, ValueError):
                    ast.parse(data)
    return time.perf_counter() - started, len(paths)


def full_run(root: Path, out: Path) -> float:
    """Seconds of a full run into a folder that does not exist yet."""
    assert not out.exists()
    started = time.perf_counter()
    report = run(Options(root, out=out))
    elapsed = time.perf_counter() - started
    assert not report.failures, report.failures
    return elapsed


def full_ratio(repo: GitRepo, tmp: Path, repeat: int) -> tuple[list[float], list[float], list[float], int]:
    """(full / floor ratios, full / paused-collector floor ratios, full seconds, files): a full run against
    both floors measured right before it, repeat times."""
    ratios, strict, fulls = [], [], []
    count = 0
    for n in range(repeat):
        floor, count = parse_floor(repo.path)
        floor_paused, _ = parse_floor(repo.path, paused=True)
        out = tmp / f"out-ratio-{repo.path.name}-{n}"
        full = full_run(repo.path, out)
        shutil.rmtree(out)
        ratios.append(full / floor)
        strict.append(full / floor_paused)
        fulls.append(full)
    return ratios, strict, fulls, count


def cpu_split(root: Path) -> dict[str, float]:
    """CPU seconds of a worker's work on every file of root, in this one process, split by where it goes:
    `ast.parse`, the rest of the analysis, the rendering of the pages, and reading and writing files (the
    issue's rule: per file, everything but the parse costs less than the parse)."""
    import bot.engine.analyze_python as python_analysis
    import bot.engine.file_pages as file_pages
    from bot.docsdir import Sink

    spent = dict.fromkeys(("parse", "analysis", "rendering", "total"), 0.0)

    def timed(key: str, real):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.process_time()
            try:
                return real(*args, **kwargs)
            finally:
                spent[key] += time.process_time() - started

        return call

    patched = [(python_analysis.ast, "parse"), (file_pages, "analyze"), (bot.local, "render_file")]
    originals = [getattr(owner, name) for owner, name in patched]
    for (owner, name), key in zip(patched, ("parse", "analysis", "rendering"), strict=True):
        setattr(owner, name, timed(key, getattr(owner, name)))
    config, _ = load_config(root)
    paths = list_files(root, config, "docs").candidates
    with tempfile.TemporaryDirectory(dir=root.parent) as out:
        started = time.process_time()
        try:
            for at in range(0, len(paths), 64):
                chunk = paths[at : at + 64]
                bot.local._analyse_chunk(str(root), chunk, config, Sink(Path(out), set(), set(), False, set()))
        finally:
            for (owner, name), real in zip(patched, originals, strict=True):
                setattr(owner, name, real)
        spent["total"] = time.process_time() - started
    return {
        "parse": spent["parse"],
        "rest of the analysis": spent["analysis"] - spent["parse"],
        "rendering": spent["rendering"] - spent["analysis"],
        "reading and writing": spent["total"] - spent["rendering"],
    }


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} of {len(values)}, spread {min(values):.2f}-{max(values):.2f}"


def one_file_update(repo: GitRepo, out: Path, repeat: int, command: bool = False) -> tuple[float, float]:
    """Median seconds of `--since HEAD~1` after a one-line change to one Python file, and (in-process) the
    median seconds of it spent in git's calls (`bot.local.git`: the process and the reading of its output),
    or (command=True) the seconds of `repodoc generate --since` in a new process, as a user runs it."""
    target = sorted(p for p in repo.path.rglob("*.py") if "docs" not in p.parts)[0]
    times, in_git = [], []
    real_git = bot.local.git
    spent = [0.0]

    def timed_git(root: Path, *args: str) -> bytes:
        started = time.perf_counter()
        try:
            return real_git(root, *args)
        finally:
            spent[0] += time.perf_counter() - started

    for n in range(repeat):
        with target.open("a") as handle:
            handle.write(f"\nBENCH_{n}_{int(command)} = {n}\n")
        before = repo.git("rev-parse", "HEAD").strip()
        repo.commit(f"bench {n}")
        started = time.perf_counter()
        if command:
            argv = [sys.executable, "-m", "bot.cli", "generate", str(repo.path), "--since", before, "--out", str(out)]
            proc = subprocess.run(argv, capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - started)
            assert "incremental run" in proc.stdout, proc.stdout + proc.stderr
            continue
        spent[0] = 0.0
        bot.local.git = timed_git
        try:
            report = run(Options(repo.path, since=before, out=out))
        finally:
            bot.local.git = real_git
        times.append(time.perf_counter() - started)
        in_git.append(spent[0])
        assert report.mode == "incremental", report.warnings
    return statistics.median(times), statistics.median(in_git) if in_git else 0.0


def _load() -> str:
    """The 1-minute load average: above the core count, other processes shared the cores."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="django==5.2.19")
    parser.add_argument(
        "--second", default="salt==3008.5", help="a second corpus, a few thousand Python files ('' for none)"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--dir",
        default="/dev/shm" if os.path.isdir("/dev/shm") else None,
        help="where corpus and output live (default: RAM-backed /dev/shm, so that the figures "
        "measure repodoc rather than the disk; pass a disk folder to include the disk)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp_name:
        tmp = Path(tmp_name)
        source = fetch_sdist(args.package, tmp / "first")
        big = as_git(source, tmp / "big")
        small = as_git(source, tmp / "small", keep_every=10)
        corpora = [(args.package, big)]
        if args.second:
            corpora.append((args.second, as_git(fetch_sdist(args.second, tmp / "second"), tmp / "second-git")))
        print(f"cores: {os.cpu_count()}; folder: {tmp.parent}; load average before: {_load()}")
        counts = []
        for spec, repo in corpora:
            ratios, strict, fulls, count = full_ratio(repo, tmp, args.repeat)
            counts.append(count)
            print(
                f"corpus {spec}, {count} files: full generation {statistics.median(fulls):.2f} s; full / floor "
                f"ratio (read + ast.parse, one core) {_spread(ratios)} (target < 1.0)"
            )
            print(f"  against a floor parsed with the cyclic collector paused, as repodoc parses: {_spread(strict)}")
        print(f"load average after: {_load()}")
        for spec, repo in corpora:
            split = cpu_split(repo.path)
            parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in split.items())
            rest = sum(split.values()) - split["parse"]
            print(
                f"a worker's CPU on {spec}, one process: {parts}; all but the parse / the parse: {rest / split['parse']:.2f}"
            )
        full_run(big.path, tmp / "out-big-1")
        full_run(small.path, tmp / "out-small")
        inc_big, git_big = one_file_update(big, tmp / "out-big-1", args.repeat)
        inc_small, git_small = one_file_update(small, tmp / "out-small", args.repeat)
        print(
            f"one-file update: {inc_big * 1000:.1f} ms on {counts[0]} files, "
            f"{inc_small * 1000:.1f} ms on the corpus ten times smaller; ratio {inc_big / inc_small:.2f}"
        )
        print(
            f"  of which in git's calls (`git diff REV` stats every tracked file, `git ls-files -s` prints the "
            f"index): {git_big * 1000:.1f} ms vs {git_small * 1000:.1f} ms; repodoc's own work: "
            f"{(inc_big - git_big) * 1000:.1f} ms vs {(inc_small - git_small) * 1000:.1f} ms, "
            f"ratio {(inc_big - git_big) / (inc_small - git_small):.2f} (target < 1.5)"
        )
        cmd_big, _ = one_file_update(big, tmp / "out-big-1", args.repeat, command=True)
        cmd_small, _ = one_file_update(small, tmp / "out-small", args.repeat, command=True)
        print(
            f"as a command (`repodoc generate --since`, new process): {cmd_big * 1000:.0f} ms vs "
            f"{cmd_small * 1000:.0f} ms, ratio {cmd_big / cmd_small:.2f}"
        )


if __name__ == "__main__":
    main()
