"""The plan of one sync (pure): from what was fetched, the writes, deletes and conflicts that bring a
branch's docs to what `repodoc generate` writes for one commit, and what the pull request says.

No I/O here: `bot/github/sync.py` fetches, `bot/github/publish.py` acts on a `Plan`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..engine import MANIFEST, STATE, Config, FileResult, FolderState, blob_id
from ..engine import tree as engine_tree
from ..engine.names import unlisted
from ..engine.reconcile import (
    REGULAR,
    Entry,
    Expected,
    docs_listing,
    expected_folders,
    reconcile,
    stale_folders,
    to_render,
)
from ..engine.tree import join
from . import pulls
from .listing import TREE
from .listing import tree_id as tree_object_id
from .pulls import DOCS_PREFIX

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


@dataclass(frozen=True)
class Survey:
    """What a listing says before anything is read: the docs folder's files, the docs folders a full run
    would make, and those not in step (whose states the plan needs). Computed once per sync."""

    docs: dict[str, str]  # docs-relative path -> blob id
    expected: dict[str, Expected]
    stale: list[str]


def survey(listing: Mapping[str, Entry], config: Config) -> Survey:
    """The survey of a commit's listing under its config."""
    docs = docs_listing(listing, config.docs_dir)
    expected = expected_folders(listing, config)
    return Survey(docs, expected, stale_folders(expected, docs, config))


def renders(found: Survey, states: Mapping[str, FolderState | None]) -> dict[str, str]:
    """Path -> blob id of the files the plan needs rendered, given the stale folders' states."""
    return to_render(found.expected, found.stale, states)


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
    folders and the files rendered for them (what `renders` asked for)."""
    docs, expected, stale = found.docs, found.expected, found.stale
    # a stale folder's manifest and state carry repodoc's own names: its own, even when damaged (the folder is
    # rebuilt, as locally), unless a link stands there; then neither is written, so the folder stays stale and
    # the conflict is said on every push
    own, blocked = _own_files(listing, config.docs_dir, stale)
    owned = own | frozenset(rel for folder, state in states.items() if state for rel in state.owned(folder))
    occupied = {rel for rel in docs if rel not in owned}
    change = reconcile(expected, stale, states, rendered, config, occupied)
    folders = docs_folders(docs)
    conflicts = tuple(
        sorted(
            rel
            for rel in change.writes
            if (rel in docs and rel not in owned) or in_the_way(rel, docs, folders) or rel in blocked
        )
    )
    writes = {  # a page already holding its text is not written (`/docs full` remakes every page)
        rel: text
        for rel, text in sorted(change.writes.items())
        if rel not in conflicts and docs.get(rel) != blob_id(text.encode("utf-8"))
    }
    deletes = tuple(sorted(rel for rel in change.deletes if rel in docs and rel in owned))
    current = docs_entries(listing, config.docs_dir)
    proposed = {rel: entry for rel, entry in current.items() if rel not in deletes}
    proposed.update({rel: (PAGE_MODE, blob_id(text.encode("utf-8"))) for rel, text in writes.items()})
    return Plan(
        target=target,
        source=source,
        root=root,
        before=before,
        docs_dir=config.docs_dir,
        writes=MappingProxyType(writes),
        deletes=deletes,
        conflicts=conflicts,
        owned=owned,
        docs_before=tree_id(current),
        docs_after=tree_id(proposed),
        upgrade=upgrade(states),
        left_out=left_out(listing, config),
        intro=intro,
        sources=MappingProxyType(dict(sources or {})),
    )


def _own_files(
    listing: Mapping[str, Entry], docs_dir: str, stale: Iterable[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """The manifests and states of stale folders that are regular files or absent (repodoc's own), and
    those of folders where a link (or anything but a file) stands at either name (both blocked)."""
    own: set[str] = set()
    blocked: set[str] = set()
    for folder in stale:
        names = [join(folder, MANIFEST), join(folder, STATE)]
        entries = [listing.get(f"{docs_dir}/{rel}") for rel in names]
        if all(entry is None or entry.mode in REGULAR for entry in entries):
            own.update(names)
        else:
            blocked.update(names)
    return frozenset(own), frozenset(blocked)


def in_the_way(rel: str, docs: Mapping[str, str], folders: frozenset[str]) -> bool:
    """Whether writing a page at rel would replace what the docs folder holds (`docs`, its `folders`)
    with something else: a folder at rel (a page would drop the files in it) or a file where one of
    rel's folders must be. As locally, such a page is a conflict, never written."""
    return rel in folders or any(rel[:at] in docs for at in range(len(rel)) if rel[at] == "/")


def docs_folders(docs: Mapping[str, str]) -> frozenset[str]:
    """Every folder holding one of the docs folder's files, at any depth (docs-relative)."""
    return frozenset(p[:at] for p in docs for at in range(len(p)) if p[at] == "/")


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
