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


def _index(folder: str, files: list[FileSummary], dirs: list[str], config: Config) -> str:
    out = f"# Index: {_title(folder)}\n\n## Overview\n\n{_overview(folder, files, dirs)}\n\n## Subfolders\n\n"
    out += "".join(f"- {md.code_link(d + '/', d + '/index.md')}\n" for d in dirs) or "None.\n"
    out += "\n## Files\n\n"
    documented = [f for f in files if f.documented]
    skipped = [f for f in files if not f.documented]
    if documented:
        out += "| File | Description | Documentation | Keywords |\n| --- | --- | --- | --- |\n"
        for f in documented:
            docs, kw = (posixpath.basename(p) for p in page_names(f.name))
            out += (
                f"| [{md.cell_code(f.name)}]({md.href(_source_link(folder, f.name, config))}) "
                f"| {md.prose(f.description)} | [docs]({md.href(docs)}) | [keywords]({md.href(kw)}) |\n"
            )
    else:
        out += "No documented files.\n"
    if skipped:
        out += f"\nNot documented ({len(skipped)}):\n\n"
        out += "".join(f"- {md.code(f.name)}: {md.escape(f.reason)}\n" for f in skipped)
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
    edges = set()
    for source in files:
        for ref in source.refs:
            target = _target_of(ref, source, files)
            if target is not None:
                edges.add((source.name, target.name))
    return sorted(edges)


def _target_of(ref: str, source: FileSummary, files: list[FileSummary]) -> FileSummary | None:
    best: FileSummary | None = None
    best_len = -1
    for target in files:
        if target is source:
            continue
        stem = posixpath.splitext(target.name)[0]
        if ref in (target.name, "./" + target.name, "./" + stem) or ref.endswith("/" + target.name):
            return target
        module = target.module if target.name.endswith((".py", ".pyi")) else ""
        if module and (ref == module or ref.startswith(module + ".")) and len(module) > best_len:
            best, best_len = target, len(module)
    return best


def _role(folder: str, files: list[FileSummary], dirs: list[str]) -> str:
    names = {f.name for f in files}
    facts = []
    if "__init__.py" in names:
        init = next(f for f in files if f.name == "__init__.py")
        facts.append(f"It is the Python package {md.code(init.module)} (it has an `__init__.py`).")
    tests = [f for f in files if f.documented and f.description.startswith("Tests (")]
    if tests:
        facts.append(f"{len(tests)} of its files are test files.")
    return " ".join([_overview(folder, files, dirs)] + facts)


def _doc(folder: str, files: list[FileSummary], dirs: list[str], config: Config) -> str:
    documented = [f for f in files if f.documented]
    out = f"# Documentation: {_title(folder)}\n\n{_role(folder, files, dirs)}\n\n## Contents Overview\n\n"
    kinds = Counter(f.type_name if f.documented else "Not documented" for f in files)
    out += "| Type | Files |\n| --- | --- |\n"
    out += "".join(f"| {md.escape(kind)} | {n} |\n" for kind, n in sorted(kinds.items()))
    out += f"| **Total** | {len(files)} |\n\nSubfolders: {len(dirs)}.\n\n## Key Concepts\n\n"
    concepts = [(name, f.name, target) for f in documented for name, target in f.key_names]
    for name, owner, target in concepts[:KEY_CONCEPTS_SHOWN]:
        page, anchor = target.rsplit("#", 1)
        out += f"- [{md.code(name)}]({md.href(page)}#{anchor}) in {md.code(owner)}\n"
    if len(concepts) > KEY_CONCEPTS_SHOWN:
        out += f"- … and {len(concepts) - KEY_CONCEPTS_SHOWN} more, listed in the files' keyword indexes\n"
    if not concepts:
        out += "No public names.\n"
    out += "\n## Architecture & Organization\n\n" + _graph(documented)
    out += "\n## Important Files\n\n" + _important(documented)
    out += "\n## Cross-References\n\n"
    out += f"- This folder's index: {md.link('index.md', 'index.md')}\n"
    if folder:
        depth = folder.count("/") + 1
        out += f"- Parent folder's index: {md.link('../index.md', '../index.md')}\n"
        out += f"- Root index: {md.link('index.md', '../' * depth + 'index.md')}\n"
    return out + "\n" + md.footer(config.footer)


def _graph(files: list[FileSummary]) -> str:
    """Every documented file as a node, every import between them as an edge, then the same in words."""
    if len(files) < 2:
        return "A single file; no imports between files to show.\n" if files else "No documented files.\n"
    edges = import_edges(files)
    ids = {f.name: f"f{i}" for i, f in enumerate(files)}
    lines = ["```mermaid", "graph LR"]
    lines += [f'    {ids[f.name]}["{_mermaid_label(f.name)}"]' for f in files]
    lines += [f"    {ids[a]} --> {ids[b]}" for a, b in edges]
    lines.append("```")
    listing = "".join(f"- {md.code(a)} imports {md.code(b)}\n" for a, b in edges)
    return "\n".join(lines) + "\n\n" + (listing or "No file of this folder imports another.\n")


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
        out += f"- [{md.code(f.name)}]({md.href(docs)}): {md.prose(f.description)}\n"
    if len(ranked) > IMPORTANT_SHOWN:
        out += f"- … and {len(ranked) - IMPORTANT_SHOWN} more in {md.link('index.md', 'index.md')}\n"
    return out
