"""The plan of one sync (pure): from what was fetched, the writes, deletes and conflicts that bring a
branch's docs to what `repodoc generate` writes for one commit, and what the pull request says.

No I/O here: `bot/github/sync.py` fetches, `bot/github/publish.py` acts on a `Plan`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..engine import Config, FileResult, FolderState, blob_id
from ..engine import tree as engine_tree
from ..engine.names import unlisted
from ..engine.reconcile import (
    REGULAR,
    Entry,
    Survey,
    plan_docs,
    renders,
    survey,
)
from . import pulls
from .listing import TREE
from .listing import tree_id as tree_object_id
from .pulls import DOCS_PREFIX

__all__ = [
    "DOCS_PREFIX",
    "PAGE_MODE",
    "Outcome",
    "Plan",
    "Survey",
    "Target",
    "docs_entries",
    "left_out",
    "plan",
    "renders",
    "survey",
    "tree_id",
    "upgrade",
]

PAGE_MODE = "100644"


@dataclass(frozen=True)
class Target:
    """A repository and the source branch whose docs are kept."""

    owner: str
    repo: str
    branch: str
    pull: int = 0  # a pull request's number: its docs go to a companion pull request into `branch`

    @property
    def url_vars(self) -> dict[str, str]:
        return {"owner": self.owner, "repo": self.repo, "branch": self.branch}

    @property
    def docs_branch(self) -> str:
        return f"{DOCS_PREFIX}pr-{self.pull}" if self.pull else DOCS_PREFIX + self.branch


@dataclass
class Outcome:
    """What a sync did, for logs and tests."""

    action: str  # "ignored", "unchanged", "closed", "opened", "updated", "superseded", "held", "failed"
    reason: str = ""
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    pull: int = 0


@dataclass(frozen=True)
class Plan:
    """What one sync does to a branch's docs, decided from listings, states and rendered files."""

    target: Target
    source: str  # the commit whose docs are planned
    root: str  # its root tree: the base of the docs commit's tree
    before: str  # the push's previous head ('' or zeros: unknown)
    docs_dir: str
    writes: Mapping[str, str]  # docs-relative path -> page text
    deletes: tuple[str, ...]
    conflicts: tuple[str, ...]  # pages not written: a file repodoc did not write is in the way
    owned: frozenset[str]  # pages the stale folders' states list as repodoc's
    docs_before: str  # git tree id of the docs folder at the source commit
    docs_after: str  # git tree id of the docs folder the plan proposes
    upgrade: tuple[str, str] | None = None  # (old, new) generator versions when older pages are remade
    left_out: tuple[str, ...] = ()  # `path: reason` of files whose names keep them out of the docs tree
    intro: bool = False  # the first pull request on a repository: it introduces repodoc
    sources: Mapping[str, str] = field(default_factory=dict)  # repository files the commit adds (a proposed config)

    @property
    def empty(self) -> bool:
        """Nothing to write or delete: the docs are in step."""
        return not self.writes and not self.deletes and not self.sources

    @property
    def written(self) -> list[str]:
        return sorted(self.writes)

    @property
    def title(self) -> str:
        if self.target.pull:
            return pulls.COMPANION_TITLE.format(number=self.target.pull, branch=self.target.branch)
        return (pulls.INTRO_TITLE if self.intro else pulls.TITLE).format(branch=self.target.branch)

    def message(self) -> str:
        """The docs commit's message."""
        return (
            f"docs: refresh generated docs for {self.source[:12]}\n\n"
            f"Source: {self.source}\nPages written: {len(self.writes)}, deleted: {len(self.deletes)}\n"
        )

    def body(self, commit: str) -> str:
        """The pull request body for the docs commit `commit` made from this plan."""
        marker = pulls.Marker(self.source, self.docs_before, self.docs_after, commit)
        text = pulls.body(
            marker,
            self.target.branch,
            self.before,
            self.written,
            list(self.deletes),
            self.docs_dir,
            self.conflicts,
            self.upgrade,
            self.left_out,
        )
        if self.target.pull:
            text = pulls.companion_preface(self.target.pull, self.target.branch) + text
        if self.intro or self.sources:
            text = pulls.introduction(self.docs_dir, bool(self.sources), self.intro) + text
        return pulls.put_marker_first(text, marker)

    def carried_by(self, pull: pulls.OpenPull) -> bool:
        """Whether an open pull request already carries exactly these docs, on a source whose docs folder
        is this commit's and with the App's commit still its head (so merging it changes only the docs
        folder); whether its source is an ancestor of this one is for the caller to ask."""
        mark = pull.marker
        return (
            mark is not None
            and mark.docs_after == self.docs_after
            and mark.docs_before == self.docs_before
            and mark.commit == pull.head_sha
            and pull.base == self.target.branch
        )


def tree_id(files: Mapping[str, tuple[str, str]]) -> str:
    """The git tree id of a folder holding `files` (relative path -> (mode, blob id)); sub-trees are
    made from the paths, as git makes them."""
    root: dict[str, Any] = {}
    for path, entry in files.items():
        node = root
        *folders, name = path.split("/")
        for part in folders:
            node = node.setdefault(part, {})
        node[name] = entry

    def write(node: dict[str, Any]) -> str:
        return tree_object_id(
            (name, "40000", TREE, write(value), 0) if isinstance(value, dict) else (name, value[0], "blob", value[1], 0)
            for name, value in node.items()
        )

    return write(root)


def docs_entries(listing: Mapping[str, Entry], docs_dir: str) -> dict[str, tuple[str, str]]:
    """Docs-relative path -> (mode, blob id) of every file under the docs folder."""
    prefix = docs_dir + "/"
    return {p[len(prefix) :]: (e.mode, e.sha) for p, e in listing.items() if p.startswith(prefix)}


def plan(
    target: Target,
    source: str,
    root: str,
    listing: Mapping[str, Entry],
    config: Config,
    found: Survey,
    states: Mapping[str, FolderState | None],
    rendered: Mapping[str, FileResult],
    *,
    before: str = "",
    intro: bool = False,
    sources: Mapping[str, str] | None = None,
) -> Plan:
    """The plan for commit `source` (root tree `root`), from its listing and survey, the states of its stale
    folders and the files rendered for them (what `renders` asked for): the engine's one planner
    (`reconcile.plan_docs`, shared with `repodoc generate --since`), and what the pull request says."""
    planned = plan_docs(found, states, rendered, config)
    current = docs_entries(listing, config.docs_dir)
    proposed = {rel: entry for rel, entry in current.items() if rel not in planned.deletes}
    proposed.update({rel: (PAGE_MODE, blob_id(text.encode("utf-8"))) for rel, text in planned.writes.items()})
    return Plan(
        target=target,
        source=source,
        root=root,
        before=before,
        docs_dir=config.docs_dir,
        writes=MappingProxyType(dict(planned.writes)),
        deletes=planned.deletes,
        conflicts=planned.conflicts,
        owned=planned.owned,
        docs_before=tree_id(current),
        docs_after=tree_id(proposed),
        upgrade=upgrade(states),
        left_out=left_out(listing, config),
        intro=intro,
        sources=MappingProxyType(dict(sources or {})),
    )


def left_out(listing: Mapping[str, Entry], config: Config) -> tuple[str, ...]:
    """`path: reason` of every file a full run would document but for its name (a folder named like a
    repodoc page, a path that is not UTF-8), shown as text that survives JSON."""
    return tuple(
        f"{path.encode('utf-8', 'backslashreplace').decode('utf-8')}: {unlisted(path)}"
        for path, entry in sorted(listing.items())
        if entry.mode in REGULAR and config.is_candidate(path) and unlisted(path)
    )


def upgrade(states: Mapping[str, FolderState | None]) -> tuple[str, str] | None:
    """(old, new) generator versions when stale folders were made by another version of repodoc."""
    new = engine_tree.__version__  # the version the pages are made with (read at call time)
    old = sorted({s.generator for s in states.values() if s is not None and s.generator != new})
    return (", ".join(old), new) if old else None
