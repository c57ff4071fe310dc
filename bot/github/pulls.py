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
CLOSED_MARK = "<!-- repodoc:closed -->"  # added to the body of a pull request the App closes itself
TITLE = "Refresh generated docs for `{branch}`"
INTRO_TITLE = "Introducing repodoc: generated docs for `{branch}`"
COMPANION_TITLE = "Refresh generated docs for #{number}"
INTRODUCTION = """## Hello from repodoc

repodoc keeps a generated reference of this repository in {docs}: a page and a keyword index for every source
file, and an index and overview for every folder, exactly as `repodoc generate` writes them. This pull request
adds them for the first time. Merge it when you like what you see.

**What happens next**
- On every push to a documented branch, repodoc refreshes the pages of the files that changed (and of their
  folders) in one pull request from `repodoc/<branch>`, kept up to date until it is merged.
- On every pull request, a `repodoc` check run says whether its docs are current; for a pull request from a branch
  of this repository, a companion pull request from `repodoc/pr-<number>` into its branch carries the refreshed pages.
- Commands in a pull request comment, at the start of a line: `/docs refresh`, `/docs full`, `/docs status`,
  `/docs recreate`, `/docs help`.

**Configure or turn it off** in `.github/repodoc.yml` on the default branch: `docs_dir`, `include`, `exclude`,
`branches` (more branches to document), `pull_requests: companion | check | off`, `check_conclusion: neutral |
failure`, and `enabled: false` to stop (repodoc then closes its pull requests).
"""
PROPOSED_CONFIG = """This repository already has its own docs in `{own}/` ({shown}). repodoc never mixes generated pages into
a project's own docs, so this pull request also adds `.github/repodoc.yml` with `docs_dir: {docs_dir}`, a free
folder: the generated reference goes there. Change the folder in that file before merging if you prefer another.
"""
COMPANION = """Docs for #{number}: merging this pull request into `{branch}` brings that branch's docs to what
`repodoc generate` writes for its head. repodoc updates it on every push to #{number} and closes it when #{number}
is closed or merged, or when the branch's docs are current.
"""
TURNED_OFF = "repodoc was turned off by the repository's config (`enabled: false`): closing."
COMPANIONS_OFF = "Companion pull requests were turned off by the repository's config (`pull_requests`): closing."
UNLISTED = "The branch `{branch}` is no longer documented (it left `branches` in the repository's config): closing."
HELD = (
    "Someone other than repodoc pushed to {branch}, so repodoc no longer rebuilds it (that would discard their "
    "commits). Comment `/docs recreate` to rebuild it from scratch."
)
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
    body: str = ""
    url: str = ""  # its page on GitHub

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
        body=str(pull.get("body") or ""),
        url=str(pull.get("html_url") or ""),
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


@dataclass(frozen=True)
class Latest:
    """The newest pull request from one of the App's branches, whatever its base and state."""

    pull: OpenPull
    open: bool
    closed_by_person: bool  # closed without being merged, and not by the App


async def latest_from(gh: Any, target: Target, branch: str) -> Latest | None:
    """The newest pull request the App opened from `branch` (GitHub lets one head be open into several bases,
    so an open one into another base is found here and retargeted, never duplicated)."""
    found = await gh.getitem(
        "/repos/{owner}/{repo}/pulls?state=all&head={head}&per_page=1",
        {**target.url_vars, "head": f"{target.owner}:{branch}"},
    )
    if not found or not is_ours(found[0], f"{target.owner}/{target.repo}"):
        return None
    data = found[0]
    is_open = data.get("state") == "open"
    by_person = not is_open and not data.get("merged_at") and CLOSED_MARK not in (data.get("body") or "")
    return Latest(parse_pull(data), is_open, by_person)


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


def introduction(docs_dir: str, proposed: Sequence[str] | bool, intro: bool) -> str:
    """The introduction of a first docs pull request; `proposed`: it also adds a config beside a
    project's own docs (their files, or True)."""
    text = INTRODUCTION.format(docs=md.code(docs_dir + "/")) + "\n" if intro else ""
    if proposed:
        own = docs_dir.split("/")[0]
        shown = ", ".join(md.code(p) for p in proposed[:3]) if isinstance(proposed, Sequence) else "hand-written pages"
        text += PROPOSED_CONFIG.format(own=own, shown=shown, docs_dir=docs_dir) + "\n"
    return text


def companion_preface(number: int, branch: str) -> str:
    return COMPANION.format(number=number, branch=branch[:200].replace("`", "'")) + "\n"


def put_marker_first(text: str, marker: Marker) -> str:
    """The body with the App's marker as its first line (find_pull reads it back from anywhere; people see it
    nowhere), cut to BODY_LIMIT."""
    rest = text.replace(marker.text() + "\n", "", 1)
    return (marker.text() + "\n" + rest)[:BODY_LIMIT]
