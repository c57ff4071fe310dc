"""The local edge of `repodoc generate`: git listing, file reads, worker processes, writes.

Everything here is I/O around the pure engine in `bot.engine`; nothing here shapes a page.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from . import collector
from .docsdir import DamagedState, DocsDir, Sink, Tree, Unsafe, write_page
from .engine import (
    CONFIG_PATH,
    FAILED,
    Config,
    FileResult,
    FolderBuilder,
    build,
    not_documented,
    page_names,
    parse_config,
    render_file,
    too_large,
)
from .engine.names import STATE_NAME, docs_folder_problem, hand_written, hand_written_problem, unlisted, within
from .engine.reconcile import (
    REGULAR,
    SUBMODULE,
    SYMLINK,
    Entry,
    Survey,
    plan_docs,
    refused,
    renders,
    stale_folders,
)
from .engine.tree import parent
from .gitindex import WorkingListing, index_entry
from .report import Report, summary_lines

__all__ = ["Options", "Report", "UsageError", "run", "summary_lines"]


class UsageError(Exception):
    """Bad usage or bad config: the CLI exits 2 with this message."""


@dataclass
class Listing:
    """The candidate files of a checkout and the tracked files passed over, with reasons."""

    candidates: list[str] = field(default_factory=list)
    passed_over: dict[str, str] = field(default_factory=dict)


def git(root: Path, *args: str) -> bytes:
    """Run git in root; raises UsageError with git's message on failure."""
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"git {' '.join(args)}: {message[0] if message else f'exit {proc.returncode}'}")
    return proc.stdout


def is_git(root: Path) -> bool:
    """Whether root is the top of a git work tree."""
    proc = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True)
    return proc.returncode == 0 and Path(proc.stdout.decode().strip()).resolve() == root.resolve()


def load_config(root: Path) -> tuple[Config, list[str]]:
    """The config of the checkout (defaults when absent); never read through a symlink."""
    try:
        with Tree(root) as tree:
            text = tree.read(CONFIG_PATH)
    except Unsafe as exc:
        raise UsageError(f"{CONFIG_PATH}: {exc}: the config must be a regular file, not read through a link") from None
    return parse_config(text)


def list_files(root: Path, config: Config, out_rel: str | None) -> Listing:
    """Tracked files (or every file outside git) that the config includes."""
    listing = Listing()
    entries: Iterable[tuple[str, str]]
    if is_git(root):
        entries = [(path, entry.mode) for path, entry in index(root).items()]
    else:
        entries = _walk(root)
    with Tree(root) as tree:  # one walk of the working tree, never through a link
        for path, mode in sorted(entries):
            _sort(listing, tree, path, mode, config, out_rel)
    return listing


def index(root: Path) -> dict[str, Entry]:
    """The git index of a checkout (`git ls-files -s`): path -> mode and blob id (the last stage of a
    conflicted path, as a full run lists it)."""
    found: dict[str, Entry] = {}
    for row in git(root, "ls-files", "-s", "-z").split(b"\0"):
        if row:
            path, entry = index_entry(row)
            found[path] = entry
    return found


def _sort(listing: Listing, tree: Tree, path: str, mode: str, config: Config, out_rel: str | None) -> None:
    """Put one tracked path among the candidates or the passed over."""
    if not config.is_candidate(path) or within(path, out_rel):
        return
    if unlisted(path):
        listing.passed_over[path] = unlisted(path)
    elif mode == SYMLINK:
        listing.passed_over[path] = "symlink"
    elif mode == SUBMODULE:
        listing.passed_over[path] = "submodule"
    elif mode not in REGULAR or not _regular(tree, path):
        listing.passed_over[path] = "missing from the working tree"
    else:
        listing.candidates.append(path)


def _regular(tree: Tree, path: str) -> bool:
    """Whether path is a regular file reached without following a link (a folder on its way that is
    a link, say to a folder outside the repository, makes it missing, never read)."""
    try:
        found = tree.lstat(path)
    except Unsafe:
        return False
    return found is not None and stat.S_ISREG(found.st_mode)


def _walk(root: Path) -> list[tuple[str, str]]:
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in files:
            full = Path(folder) / name
            rel = full.relative_to(root).as_posix()
            entries.append((rel, SYMLINK if full.is_symlink() else REGULAR[0]))
    return entries


def analyse_one(tree: Tree, path: str, config: Config) -> tuple[FileResult | None, str]:
    """Read and render one file below tree's root, never through a link (on the path's folders either);
    a failure is returned with its reason, never raised."""
    try:
        found = tree.lstat(path)  # looked at before it is opened: a FIFO or a device is never opened
        if found is None or not stat.S_ISREG(found.st_mode):
            raise Unsafe("not a regular file reached without a link")
        reason = too_large(found.st_size, config)
        if reason:
            return not_documented(path, tree.blob(path) or "", reason), ""
        data = tree.read(path)
        if data is None:
            raise Unsafe("vanished")
        return render_file(path, data, config), ""
    except Exception as exc:  # noqa: BLE001 - one file's failure must not stop the run
        return None, f"{path}: {type(exc).__name__}: {exc}"


Batch = tuple[list[tuple[str, FileResult | None, str]], Report | None]


def _analyse_chunk(root: str, paths: list[str], config: Config, sink: Sink | None) -> Batch:
    batch = []
    try:
        # one Tree per chunk: sorted paths reuse the folders it holds open
        with collector.paused(), Tree(Path(root)) as tree:
            for path in paths:
                batch.append(_one(tree, path, config, sink))
    finally:
        if sink is not None:
            sink.close()
    return batch, (sink.report if sink else None)


def _one(tree: Tree, path: str, config: Config, sink: Sink | None) -> tuple[str, FileResult | None, str]:
    """One file of a chunk: its result (only the summary when its pages went to the sink) and error."""
    result, error = analyse_one(tree, path, config)
    if result is not None and sink is not None:
        sink.take(result.pages)
        result = FileResult({}, result.summary)
    return path, result, error


def analyse_all(
    root: Path,
    paths: list[str],
    config: Config,
    report: Report,
    progress: Callable[[int, int], None],
    sink: Callable[[list[str]], Sink] | None = None,
    on_batch: Callable[[list[tuple[str, FileResult]]], None] | None = None,
) -> dict[str, FileResult]:
    """Render every path, on every core for large runs; with a sink, the file pages go to it
    and the results keep only the summaries; on_batch sees each chunk's results as they come in, in the
    order of paths, while the workers go on."""
    results: dict[str, FileResult] = {}
    chunks = [paths[i : i + 64] for i in range(0, len(paths), 64)]
    sinks = [sink(chunk) if sink else None for chunk in chunks]
    done = 0

    def collect(batch: Batch) -> None:
        nonlocal done
        for path, result, error in batch[0]:
            if result is None:
                report.failures.append(error)
                results[path] = not_documented(path, "0" * 40, FAILED)
            else:
                results[path] = result
        if batch[1] is not None:
            report.merge(batch[1])
        if on_batch is not None:
            on_batch([(path, results[path]) for path, _, _ in batch[0]])
        done += len(batch[0])
        progress(done, len(paths))

    workers = os.cpu_count() or 1
    if len(paths) < 200 or workers == 1:
        for chunk, chunk_sink in zip(chunks, sinks, strict=True):
            collect(_analyse_chunk(str(root), chunk, config, chunk_sink))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            n = len(chunks)
            for batch in pool.map(_analyse_chunk, [str(root)] * n, chunks, [config] * n, sinks):
                collect(batch)
    for path, result in results.items():
        if result.summary.documented:
            report.documented += 1
        else:
            report.not_documented[path] = result.summary.reason
    return results


@dataclass
class Options:
    """The command line of `repodoc generate`."""

    root: Path
    since: str | None = None
    check: bool = False
    out: Path | None = None
    progress: bool = False


def run(opts: Options) -> Report:
    """A whole `repodoc generate` run; raises UsageError for bad usage or config."""
    started = time.monotonic()
    root = opts.root.resolve()
    if not root.is_dir():
        raise UsageError(f"{opts.root}: not a folder")
    if opts.since is not None and opts.since[:1] in ("", "-"):
        raise UsageError(f"--since {opts.since!r}: expected a revision (a revision never starts with '-')")
    try:
        config, warnings = load_config(root)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    report = Report(warnings=list(warnings))
    bar = _Bar() if opts.progress else None  # shows nothing before the first file is done
    try:
        return _run(opts, root, config, report, bar or (lambda done, total: None), started)
    finally:
        if bar is not None:
            bar.close()


def _run(
    opts: Options, root: Path, config: Config, report: Report, progress: Callable[[int, int], None], started: float
) -> Report:
    """The incremental or the full run, once the config is read."""
    out = _docs_folder(root, config, opts.out)
    out_rel = _inside(out, root)
    docs = DocsDir(out)
    if opts.out is None:  # --out DIR is the user's explicit choice, as `docs_dir` in the config is
        problem = _own_docs_problem(docs, config)
        if problem:
            raise UsageError(problem)
    if opts.since is not None and not opts.check:
        changes = _changed_paths(root, opts.since)
        try:
            if changes is not None and _in_step(docs, config):
                report.mode = "incremental"
                _incremental(root, docs, changes, config, out_rel, report, progress)
                report.seconds = time.monotonic() - started
                return report
            report.warnings.append("no docs from an earlier run with this config: doing a full run")
        except DamagedState as exc:
            report.warnings.append(f"damaged state {exc}: doing a full run")
    listing = list_files(root, config, out_rel)
    report.not_documented.update(listing.passed_over)
    owned, present = docs.scan()
    occupied = present - owned
    refused_pages = refused([p for path in listing.candidates for p in page_names(path)], present, owned)

    def sink(paths: list[str]) -> Sink:
        pages = {p for path in paths for p in page_names(path)}
        return Sink(out, pages & refused_pages, pages & owned, opts.check, pages & present)

    folders = FolderBuilder(listing.candidates, config, occupied)
    early = None if opts.check or folders.collides() else _EarlyWriter(docs, present, owned)

    def on_batch(batch: list[tuple[str, FileResult]]) -> None:
        assert early is not None
        for path, result in batch:
            folders.add(path, result.summary)
            early.write(result.pages)
        early.write(folders.take())

    try:
        results = analyse_all(root, listing.candidates, config, report, progress, sink, on_batch if early else None)
        if early is not None:
            early.write(folders.take())  # those with no files, when no file came in
    finally:
        if early is not None:
            early.close()
    if early is not None:
        expected = early.pages | {p for path, r in results.items() if r.summary.documented for p in page_names(path)}
        early.finish(report)
        docs.apply({}, owned - expected, report)
        report.seconds = time.monotonic() - started
        return report
    tree = build(results, config, occupied)
    expected = set(tree) | {p for path, r in results.items() if r.summary.documented for p in page_names(path)}
    if opts.check:
        report.mode = "check"
        report.stale += [rel for rel, text in tree.items() if docs.differs(rel, text)]
        report.stale += [f"{rel} (should be deleted)" for rel in owned - expected if docs.exists(rel)]
        report.stale.sort()
    else:
        conflicts = refused(tree, present, owned)
        docs.refuse(conflicts, owned, report)
        docs.apply({rel: text for rel, text in tree.items() if rel not in conflicts}, owned - expected, report)
    report.seconds = time.monotonic() - started
    return report


class _EarlyWriter:
    """Writes a full run's folder pages while the workers still render files, as `DocsDir.refuse` and
    `DocsDir.apply` would write them after: the same pages refused, the same pages written, and the same
    report (its conflicts and failures in the order of the pages' paths)."""

    def __init__(self, docs: DocsDir, present: set[str], owned: set[str]) -> None:
        self._docs = docs
        self._present = present
        self._owned = owned
        self._tree = Tree(docs.path)
        self._counts = Report()
        self._notes: list[tuple[str, Report]] = []
        self.pages: set[str] = set()
        self.refused: set[str] = set()

    def write(self, outputs: dict[str, str]) -> None:
        if not outputs:
            return
        self.pages.update(outputs)
        refused_now = refused(outputs, self._present, self._owned)
        self.refused |= refused_now
        for rel in sorted(outputs):
            if rel not in refused_now:
                note = Report()
                write_page(self._tree, rel, outputs[rel], note, compared=False, absent=rel not in self._present)
                self._counts.written += note.written
                self._counts.unchanged += note.unchanged
                if note.conflicts or note.failures:
                    self._notes.append((rel, note))

    def close(self) -> None:
        self._tree.close()

    def finish(self, report: Report) -> None:
        """Put what was written into report, as refuse and apply would have."""
        self._docs.refuse(self.refused, self._owned, report)
        report.written += self._counts.written
        report.unchanged += self._counts.unchanged
        for _, note in sorted(self._notes, key=lambda item: item[0]):
            report.conflicts += note.conflicts
            report.failures += note.failures


def _docs_folder(root: Path, config: Config, out: Path | None) -> Path:
    """Where the tree goes: --out as the user gave it, or the docs folder, refused if it is or lies in a link."""
    if out is not None:
        return out.resolve()

    def standing(rel: str) -> str:
        path = root / rel
        return "link" if path.is_symlink() else "file" if path.exists() and not path.is_dir() else ""

    problem = docs_folder_problem(config.docs_dir, standing)
    if problem:
        raise UsageError(problem)
    return root / config.docs_dir


def _own_docs_problem(docs: DocsDir, config: Config) -> str:
    """Why repodoc must not write into the default docs folder (engine.names.hand_written: it holds a
    project's own docs), or ''. A folder with repodoc's state at its root is answered without a walk, so
    that `--since` stays flat in the size of the docs tree."""
    if config.docs_dir_given or docs.exists(STATE_NAME):
        return ""
    found = hand_written(docs.files(), config.docs_dir_given)
    return hand_written_problem(config.docs_dir, found) if found else ""


def _inside(path: Path, root: Path) -> str | None:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return None
    return None if rel == "." else rel


def _in_step(docs: DocsDir, config: Config) -> bool:
    """Whether the docs on disk were made by this generator with this config."""
    from . import __version__

    state = docs.read_state("")
    return state is not None and state.generator == __version__ and state.config == config.fingerprint()


def _changed_paths(root: Path, since: str) -> tuple[str, dict[str, Entry]] | None:
    """The commit since names, and path -> the working tree's mode and blob id of everything that differs
    between it and the working tree (one git call), or None when the config changed, so that a full run
    is needed."""
    try:
        rev = git(root, "rev-parse", "--verify", "--end-of-options", since + "^{commit}").decode().strip()
        changes = _raw_diff(root, rev)
    except UsageError as exc:
        raise UsageError(f"--since {since}: {exc}") from None
    return None if CONFIG_PATH in changes else (rev, changes)


def _raw_diff(root: Path, rev: str, cached: bool = False, before: bool = False) -> dict[str, Entry]:
    """Path -> the mode and blob id (zeros when git has not hashed it; mode 000000 when it is absent) of
    what `git diff --raw` reports, on its after side (the working tree, or the index with `--cached`), or
    with before=True on its before side (the revision)."""
    raw = git(
        root,
        "--no-optional-locks",
        "diff",
        "--no-renames",
        "--no-ext-diff",
        "--no-abbrev",
        "--raw",
        "-z",
        *(["--cached"] if cached else []),
        "--end-of-options",
        rev,
        "--",
    )
    fields = raw.split(b"\0")
    changes: dict[str, Entry] = {}
    for meta, name in zip(fields[0::2], fields[1::2], strict=False):
        if meta.startswith(b":"):
            old_mode, mode, old_sha, sha = meta[1:].decode().split(" ")[:4]
            entry = Entry(old_mode, old_sha) if before else Entry(mode, sha)
            changes[name.decode("utf-8", "surrogateescape")] = entry
    return changes


def _incremental(
    root: Path,
    docs: DocsDir,
    since: tuple[str, Mapping[str, Entry]],
    config: Config,
    out_rel: str | None,
    report: Report,
    progress: Callable[[int, int], None],
) -> None:
    """Plan as the App plans, with the engine's one planner (`reconcile.plan_docs`): the working tree's
    listing of the folders the changes since a commit (`_changed_paths`) touch and their ancestors
    (`gitindex.WorkingListing`), the docs folder's files in them, those whose manifest differs from the
    listing's (stale), their states, and their files whose blob ids the states do not hold, rendered; then
    apply the plan. DamagedState (before any write) when a stale folder's state cannot be trusted, so that
    the caller rebuilds from scratch."""
    rev, changes = since
    on_disk = {**_raw_diff(root, rev, cached=True, before=True), **changes}  # the revision's where the disk is
    listing = WorkingListing(root, git(root, "ls-files", "-s", "-z"), on_disk, config, out_rel)
    touched: set[str] = set()
    for path in changes:
        if config.is_candidate(path) and not unlisted(path) and not within(path, out_rel):
            folder = parent(path)
            while folder not in touched:
                touched.add(folder)
                if not folder:
                    break
                folder = parent(folder)
    expected = listing.expected(touched)
    present = docs.entries(touched)
    stale = stale_folders(expected, present, config)
    states = {folder: docs.state(folder) for folder in stale}
    found = Survey(present, expected, stale)
    rendered = analyse_all(root, sorted(renders(found, states)), config, report, progress)
    planned = plan_docs(found, states, rendered, config)
    report.unchanged += len(planned.unchanged)
    docs.refuse(planned.conflicts, planned.owned, report)
    docs.apply(planned.writes, planned.deletes, report, compared=True)


class _Bar:
    """The progress of a run on a terminal: tqdm's bar on stderr, with the rate and the time left; made
    when the first files are done, and gone from the terminal when the run ends (the summary follows)."""

    def __init__(self) -> None:
        self._bar: tqdm | None = None
        self._done = 0

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = tqdm(total=total, unit="file", file=sys.stderr, leave=False, dynamic_ncols=True)
        self._bar.update(done - self._done)
        self._bar.refresh()  # reports come per chunk of files, seldom enough to show each one
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
