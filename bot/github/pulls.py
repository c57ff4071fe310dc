"""The docs pull request: its body (with a hidden marker the App reads back, capped below GitHub's
65,536 characters), and finding it: by base and marker, or by its head branch."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine import md

if TYPE_CHECKING:
    from .plan import Target

MARKER = "<!-- repodoc:source={source} docs-before={before} docs-after={after} commit={commit} -->"
_MARKER_RE = re.compile(
    r"<!-- repodoc:source=([0-9a-f]{40}) docs-before=([0-9a-f]{40}) docs-after=([0-9a-f]{40}) commit=([0-9a-f]{40}) -->"
)
_ANY_MARKER = "<!-- repodoc:"
TITLE = "Refresh generated docs for `{branch}`"
CLOSING = "The docs on `{branch}` are already in step with {sha}: nothing left to propose, closing."
DELETED = "The branch `{branch}` was deleted: its docs pull request is no longer needed, closing."
SHOWN = 50
SHOWN_CONFLICTS = 1000
DOCS_PREFIX = "repodoc/"
BODY_LIMIT = 60_000  # GitHub refuses a body over 65,536 characters; the lists are cut well below it
PAGE = 100  # pull requests read per lookup


@dataclass(frozen=True)
class Marker:
    """What the App records in its pull request's body."""

    source: str  # the source commit its docs were made for
    docs_before: str  # git tree id of the docs folder at that commit
    docs_after: str  # git tree id of the docs folder the pull request proposes
    commit: str  # the App's docs commit (the head it left)

    def text(self) -> str:
        return MARKER.format(source=self.source, before=self.docs_before, after=self.docs_after, commit=self.commit)


@dataclass(frozen=True)
class OpenPull:
    """An open docs pull request, as GitHub lists it."""

    number: int
    head: str  # its branch
    base: str
    head_sha: str
    marker: Marker | None
    title: str = ""

    @property
    def source(self) -> str:
        return self.marker.source if self.marker else ""


def parse_pull(pull: dict[str, Any]) -> OpenPull:
    """Read the marker back from a pull request the App opened."""
    match = _MARKER_RE.search(pull.get("body") or "")
    return OpenPull(
        number=int(pull["number"]),
        head=str(pull["head"]["ref"]),
        base=str(pull["base"]["ref"]),
        head_sha=str(pull["head"]["sha"]),
        marker=Marker(*match.groups()) if match else None,
        title=str(pull.get("title") or ""),
    )


def is_ours(pull: dict[str, Any], full_name: str) -> bool:
    """Whether a listed pull request is a docs pull request the App opened: from a `repodoc/` branch of
    the repository itself (never a fork's, whatever its body says), with the App's marker."""
    repo = pull["head"].get("repo") or {}
    return (
        str(pull["head"]["ref"]).startswith(DOCS_PREFIX)
        and str(repo.get("full_name", "")).lower() == full_name.lower()
        and _ANY_MARKER in (pull.get("body") or "")
    )


async def find_pull(gh: Any, target: Target) -> OpenPull | None:
    """The open docs pull request of target's branch: the one into the branch carrying the App's marker
    (its head may be another `repodoc/` branch after a rename of the default branch); only when more
    pull requests are open into the branch than one page holds, the one from `repodoc/<branch>` (the
    caller retargets it when its base is another branch, as it does when creating one meets "already exists")."""
    found = await gh.getitem(
        "/repos/{owner}/{repo}/pulls?state=open&base={base}&per_page={per_page}",
        {**target.url_vars, "base": target.branch, "per_page": str(PAGE)},
    )
    ours = [p for p in found if is_ours(p, f"{target.owner}/{target.repo}")]
    ours.sort(key=lambda p: (p["head"]["ref"] != target.docs_branch, int(p["number"])))
    if ours:
        return parse_pull(ours[0])
    if len(found) < PAGE:
        return None
    return await pull_from(gh, target, target.docs_branch)


async def pull_from(gh: Any, target: Target, branch: str) -> OpenPull | None:
    """The open pull request from `branch`, whatever its base."""
    found = await gh.getitem(
        "/repos/{owner}/{repo}/pulls?state=open&head={head}", {**target.url_vars, "head": f"{target.owner}:{branch}"}
    )
    return parse_pull(found[0]) if found else None


def _listed(title: str, paths: Sequence[str], room: int, limit: int = SHOWN) -> list[str]:
    """A collapsed list of paths: at most `limit`, fewer when the lines would pass `room` characters,
    and a count of the rest."""
    lines = ["", f"<details><summary>{title} ({len(paths)})</summary>", ""]
    used = sum(len(line) + 1 for line in lines) + 80
    shown = 0
    for path in paths[:limit]:
        line = f"- {md.code(path)}"
        if used + len(line) + 1 > room:
            break
        lines.append(line)
        used += len(line) + 1
        shown += 1
    if shown < len(paths):
        lines.append(f"- … and {len(paths) - shown} more")
    return [*lines, "", "</details>"]


def body(
    marker: Marker,
    branch: str,
    before: str,
    written: Sequence[str],
    deleted: Sequence[str],
    docs_dir: str,
    conflicts: Sequence[str],
    upgrade: tuple[str, str] | None = None,
    left_out: Sequence[str] = (),
) -> str:
    """The pull request body: what changed, for which source range, the marker always first; upgrade:
    the generator versions (old, new) when the docs were made by another version of repodoc; left_out:
    `path: reason` of the files whose names keep them out of the docs tree."""
    after = marker.source
    source = f"`{before[:12]}`…`{after[:12]}`" if before and set(before) != {"0"} else f"`{after[:12]}`"
    lines = [
        marker.text(),
        f"Brings {md.code(docs_dir + '/')} in step with {md.code(branch[:200])} at {after} (source range {source}),",
        "exactly as `repodoc generate` writes it for that commit.",
        "",
    ]
    if upgrade:
        lines += [f"Generator upgrade: pages made by repodoc {upgrade[0]} are remade by repodoc {upgrade[1]}.", ""]
    lines += [
        f"| | pages |\n| --- | --- |\n| regenerated | {len(written)} |\n| deleted | {len(deleted)} |",
    ]
    room = BODY_LIMIT - sum(len(line) + 1 for line in lines) - 200
    for title, paths in (("Regenerated", written), ("Deleted", deleted)):
        if paths:
            lines += _listed(title, paths, room // 4)
    if conflicts:
        lines += ["", "Not written, because a file repodoc did not write is in the way:"]
        lines += _listed("Conflicts", conflicts, room // 4, SHOWN_CONFLICTS)
    if left_out:
        lines += ["", "Not documented, because of their names (as `repodoc generate` leaves them out too):"]
        lines += _listed("Left out", left_out, room // 4, SHOWN_CONFLICTS)
    return "\n".join(lines) + "\n"
