"""The docs pull request: its body (with a hidden marker the App reads back), open, update, close."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..engine import md

MARKER = "<!-- repodoc:source={source} tree={tree} -->"
_MARKER_RE = re.compile(r"<!-- repodoc:source=([0-9a-f]{40}) tree=([0-9a-f]{40}) -->")
TITLE = "Refresh generated docs for `{branch}`"
CLOSING = "The docs on `{branch}` are already in step with {sha}: nothing left to propose, closing."
DELETED = "The branch `{branch}` was deleted: its docs pull request is no longer needed, closing."
SHOWN = 50


@dataclass(frozen=True)
class OpenPull:
    """The open docs pull request of a branch, as the App left it."""

    number: int
    source: str  # the source commit its docs were made for
    tree: str  # the tree of its docs commit


def parse_pull(pull: dict[str, Any]) -> OpenPull:
    """Read the marker back from a pull request the App opened."""
    match = _MARKER_RE.search(pull.get("body") or "")
    source, tree = match.groups() if match else ("", "")
    return OpenPull(int(pull["number"]), source, tree)


def body(
    branch: str,
    before: str,
    after: str,
    tree: str,
    written: list[str],
    deleted: list[str],
    docs_dir: str,
    conflicts: list[str],
    upgrade: tuple[str, str] | None = None,
) -> str:
    """The pull request body: what changed, for which source range; upgrade: the generator versions
    (old, new) when the docs were made by another version of repodoc."""
    source = f"`{before[:12]}`…`{after[:12]}`" if before and set(before) != {"0"} else f"`{after[:12]}`"
    lines = [
        MARKER.format(source=after, tree=tree),
        f"Brings `{docs_dir}/` in step with `{branch}` at {after} (source range {source}),",
        "exactly as `repodoc generate` writes it for that commit.",
        "",
    ]
    if upgrade:
        lines += [f"Generator upgrade: pages made by repodoc {upgrade[0]} are remade by repodoc {upgrade[1]}.", ""]
    lines += [
        f"| | pages |\n| --- | --- |\n| regenerated | {len(written)} |\n| deleted | {len(deleted)} |",
    ]
    for title, paths in (("Regenerated", written), ("Deleted", deleted)):
        if paths:
            lines += ["", f"<details><summary>{title} ({len(paths)})</summary>", ""]
            lines += [f"- {md.code(p)}" for p in paths[:SHOWN]]
            if len(paths) > SHOWN:
                lines.append(f"- … and {len(paths) - SHOWN} more in this pull request's diff")
            lines += ["", "</details>"]
    if conflicts:
        lines += ["", "Not written, because a file repodoc did not write is in the way:", ""]
        lines += [f"- {md.code(c)}" for c in conflicts]
    return "\n".join(lines) + "\n"
