"""A folder's `index.md` and `doc.md`, from its direct children's summaries alone (pure)."""

from __future__ import annotations

import posixpath
from collections import Counter

from . import md
from .config import Config
from .file_pages import page_names
from .model import FileSummary

KEY_CONCEPTS_SHOWN = 40
IMPORTANT_SHOWN = 10


def folder_pages(folder: str, files: list[FileSummary], dirs: list[str], config: Config) -> dict[str, str]:
    """Docs-relative path -> text of the folder's index.md and doc.md."""
    files = sorted(files, key=lambda f: f.name)
    dirs = sorted(dirs)
    prefix = folder + "/" if folder else ""
    return {
        prefix + "index.md": _index(folder, files, dirs, config),
        prefix + "doc.md": _doc(folder, files, dirs, config),
    }


def _title(folder: str) -> str:
    return md.code(folder + "/" if folder else "./")


def _source_link(folder: str, name: str, config: Config) -> str:
    return md.relpath(posixpath.join(folder, name), posixpath.join(config.docs_dir, folder))


def _overview(folder: str, files: list[FileSummary], dirs: list[str]) -> str:
    for wanted in ("readme", "__init__.py"):
        for f in files:
            if f.overview and f.name.lower().startswith(wanted):
                return f"{md.prose(f.overview)} (from {md.code(f.name)})"
    documented = sum(1 for f in files if f.documented)
    return (
        f"The folder {_title(folder)} holds {documented} documented "
        f"file{'s' if documented != 1 else ''} and {len(dirs)} subfolder{'s' if len(dirs) != 1 else ''}."
    )


def _lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _index(folder: str, files: list[FileSummary], dirs: list[str], config: Config) -> str:
    overview = _overview(folder, files, dirs)
    out = f"# Index: {_title(folder)}\n\n## Overview\n\n{overview}\n\n## Subfolders\n\n"
    room = md.Room(len(out.encode("utf-8")) + len(md.footer(config.footer).encode("utf-8")) + 1_000)
    out += _lines(room.take([f"- {md.code_link(d + '/', d + '/index.md')}" for d in dirs], "subfolders")) or "None.\n"
    out += "\n## Files\n\n"
    documented = [f for f in files if f.documented]
    skipped = [f for f in files if not f.documented]
    if documented:
        rows = []
        for f in documented:
            docs, kw = (posixpath.basename(p) for p in page_names(f.name))
            rows.append(
                f"| [{md.cell_code(md.shown(f.name))}]({md.href(_source_link(folder, f.name, config))}) "
                f"| {md.prose(f.description)} | [docs]({md.href(docs)}) | [keywords]({md.href(kw)}) |"
            )
        rows, cut = room.split(rows, "files")
        out += "| File | Description | Documentation | Keywords |\n| --- | --- | --- | --- |\n" + _lines(rows)
        out += f"\n{cut}\n" if cut else ""
    else:
        out += "No documented files.\n"
    if skipped:
        out += f"\nNot documented ({len(skipped)}):\n\n"
        out += _lines(room.take([f"- {md.code(md.shown(f.name))}: {md.escape(f.reason)}" for f in skipped], "files"))
    out += "\n## Navigation\n\n"
    if folder:
        out += f"- Parent folder: {md.link('../index.md', '../index.md')}\n"
    out += f"- This folder's documentation: {md.link('doc.md', 'doc.md')}\n"
    return out + "\n" + md.footer(config.footer)


def import_edges(files: list[FileSummary]) -> list[tuple[str, str]]:
    """(importer, imported) pairs among the documented files of one folder, sorted.

    A reference goes to the sibling whose module is its longest prefix (`pkg.mod.Name` is
    `pkg/mod.py`, `pkg.Name` is `pkg/__init__.py`); includes and JS specifiers by file name.
    """
    index = _Targets(files)
    edges = set()
    for source in files:
        for ref in source.refs:
            target = index.target_of(ref, source)
            if target is not None:
                edges.add((source.name, target.name))
    return sorted(edges)


class _Targets:
    """The folder's files indexed by every spelling a reference can use, so that each reference is
    resolved by a few lookups (not by a scan of all the files: quadratic in a large folder)."""

    def __init__(self, files: list[FileSummary]) -> None:
        self.order = {id(f): i for i, f in enumerate(files)}
        self.by_name: dict[str, list[FileSummary]] = {}  # name, ./name, ./stem -> files, in order
        self.names: dict[str, list[FileSummary]] = {}  # name -> files, in order
        self.by_module: dict[str, list[FileSummary]] = {}  # Python module -> files, in order
        for f in files:
            stem = posixpath.splitext(f.name)[0]
            self.names.setdefault(f.name, []).append(f)
            for key in dict.fromkeys((f.name, "./" + f.name, "./" + stem)):
                self.by_name.setdefault(key, []).append(f)
            if f.module and f.name.endswith((".py", ".pyi")):
                self.by_module.setdefault(f.module, []).append(f)
        # the first dotted part of every module: every prefix of a reference starts with the reference's
        # own, so a reference whose first part is none of these names no module (most references: `os`)
        self.tops = {module.partition(".")[0] for module in self.by_module}

    def _first(self, found: list[FileSummary] | None, source: FileSummary) -> FileSummary | None:
        if not found:
            return None
        return found[0] if found[0] is not source else next((f for f in found if f is not source), None)

    def target_of(self, ref: str, source: FileSummary) -> FileSummary | None:
        """The file a reference names: by file name first (the first in order), else the Python
        module that is its longest prefix (`pkg.mod.Name` is `pkg/mod.py`)."""
        hit = self._first(self.by_name.get(ref), source)
        hits = [hit] if hit is not None else []
        at = ref.find("/")
        while at >= 0:  # `ref` ends with "/" + a file's name
            hit = self._first(self.names.get(ref[at + 1 :]), source)
            if hit is not None:
                hits.append(hit)
            at = ref.find("/", at + 1)
        if hits:
            return min(hits, key=lambda f: self.order[id(f)])
        if ref.partition(".")[0] not in self.tops:
            return None
        end = len(ref)
        while end > 0:  # the longest module that is ref or a dotted prefix of it
            found = self._first(self.by_module.get(ref[:end], []), source)
            if found is not None:
                return found
            end = ref.rfind(".", 0, end)
        return None


def _role(folder: str, files: list[FileSummary], dirs: list[str]) -> str:
    names = {f.name for f in files}
    facts = []
    if "__init__.py" in names:
        init = next(f for f in files if f.name == "__init__.py")
        facts.append(f"It is the Python package {md.code(init.module)} (it has an `__init__.py`).")
    tests = [f for f in files if f.documented and f.is_test]
    if tests:
        facts.append(f"{len(tests)} of its files are test files.")
    return " ".join([_overview(folder, files, dirs)] + facts)


def _doc(folder: str, files: list[FileSummary], dirs: list[str], config: Config) -> str:
    documented = [f for f in files if f.documented]
    out = f"# Documentation: {_title(folder)}\n\n{_role(folder, files, dirs)}\n\n## Contents Overview\n\n"
    concepts = [(name, f.name, target) for f in documented for name, target in f.key_names]
    key_concepts = ""
    for name, owner, target in concepts[:KEY_CONCEPTS_SHOWN]:
        page, anchor = target.rsplit("#", 1)
        key_concepts += f"- [{md.code(md.shown(name))}]({md.href(page)}#{anchor}) in {md.code(md.shown(owner))}\n"
    if len(concepts) > KEY_CONCEPTS_SHOWN:
        key_concepts += f"- … and {len(concepts) - KEY_CONCEPTS_SHOWN} more, listed in the files' keyword indexes\n"
    if not concepts:
        key_concepts += "No public names.\n"
    important = _important(documented)
    fixed = out + key_concepts + important + md.footer(config.footer)
    room = md.Room(len(fixed.encode("utf-8")) + 1_000)
    kinds = Counter(f.type_name if f.documented else "Not documented" for f in files)
    rows, cut = room.split([f"| {md.escape(kind)} | {n} |" for kind, n in sorted(kinds.items())], "types")
    out += "| Type | Files |\n| --- | --- |\n" + _lines(rows)
    out += f"| **Total** | {len(files)} |\n\n" + (f"{cut}\n\n" if cut else "")
    out += f"Subfolders: {len(dirs)}.\n\n## Key Concepts\n\n" + key_concepts
    out += "\n## Architecture & Organization\n\n" + _graph(documented, room)
    out += "\n## Important Files\n\n" + important
    out += "\n## Cross-References\n\n"
    out += f"- This folder's index: {md.link('index.md', 'index.md')}\n"
    if folder:
        depth = folder.count("/") + 1
        out += f"- Parent folder's index: {md.link('../index.md', '../index.md')}\n"
        out += f"- Root index: {md.link('index.md', '../' * depth + 'index.md')}\n"
    return out + "\n" + md.footer(config.footer)


def _graph(files: list[FileSummary], room: md.Room) -> str:
    """Every documented file as a node, every import between them as an edge, then the same in words
    (as much of both as the page has room for, with a count of what is left out)."""
    if len(files) < 2:
        return "A single file; no imports between files to show.\n" if files else "No documented files.\n"
    edges = import_edges(files)
    ids = {f.name: f"f{i}" for i, f in enumerate(files)}
    nodes = [f'    {ids[f.name]}["{_mermaid_label(md.shown(f.name))}"]' for f in files]
    graph, cut = room.split(nodes + [f"    {ids[a]} --> {ids[b]}" for a, b in edges], "nodes and edges of the graph")
    out = "\n".join(["```mermaid", "graph LR", *graph, "```"]) + "\n\n" + (f"{cut}\n\n" if cut else "")
    listing = room.take([f"- {md.code(md.shown(a))} imports {md.code(md.shown(b))}" for a, b in edges], "imports")
    return out + (_lines(listing) or "No file of this folder imports another.\n")


def _mermaid_label(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-/ " else f"#{ord(c)};" for c in name)


def _important(files: list[FileSummary]) -> str:
    if not files:
        return "None.\n"

    def weight(f: FileSummary) -> tuple[int, int, str]:
        special = f.name.lower().startswith("readme") or f.name == "__init__.py"
        return (0 if special else 1, -len(f.key_names), f.name)

    ranked = sorted(files, key=weight)
    out = ""
    for f in ranked[:IMPORTANT_SHOWN]:
        docs = posixpath.basename(page_names(f.name)[0])
        out += f"- [{md.code(md.shown(f.name))}]({md.href(docs)}): {md.prose(f.description)}\n"
    if len(ranked) > IMPORTANT_SHOWN:
        out += f"- … and {len(ranked) - IMPORTANT_SHOWN} more in {md.link('index.md', 'index.md')}\n"
    return out
