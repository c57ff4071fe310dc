"""The listing-only reconcile the App uses gives the bytes of a full run."""

from __future__ import annotations

import posixpath

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import Config, FolderState, blob_id, build, parse_state, render_file
from bot.engine.reconcile import Entry, docs_listing, expected_folders, reconcile, stale_folders, to_render
from bot.engine.tree import STATE

CONFIG = Config()
files = st.dictionaries(
    st.builds(
        lambda d, n: posixpath.join(d, n),
        st.sampled_from(["", "a", "a/b", "c"]),
        st.sampled_from(["x.py", "y.md", "z.c"]),
    ),
    st.sampled_from([b"x = 1\n", b"# T\n", b"int f(void);\n", b"", b"def f(:\n"]),
    max_size=8,
)


def listing_of(sources: dict[str, bytes], docs: dict[str, str]) -> dict[str, Entry]:
    listing = {p: Entry("100644", blob_id(d)) for p, d in sources.items()}
    listing.update({f"docs/{p}": Entry("100644", blob_id(t.encode())) for p, t in docs.items()})
    return listing


def sync(sources: dict[str, bytes], docs: dict[str, str]) -> dict[str, str]:
    """What the App does, with reads served from the dicts instead of the API."""
    listing = listing_of(sources, docs)
    expected = expected_folders(listing, CONFIG)
    stale = stale_folders(expected, docs_listing(listing, "docs"), CONFIG)
    states: dict[str, FolderState | None] = {}
    for folder in stale:
        text = docs.get(posixpath.join(folder, STATE) if folder else STATE)
        states[folder] = parse_state(text) if text else None
    rendered = {p: render_file(p, sources[p], CONFIG) for p in to_render(expected, stale, states)}
    change = reconcile(expected, stale, states, rendered, CONFIG)
    result = {p: t for p, t in docs.items() if p not in change.deletes}
    result.update(change.writes)
    return result


def full(sources: dict[str, bytes]) -> dict[str, str]:
    return build({p: render_file(p, d, CONFIG) for p, d in sources.items()}, CONFIG)


@settings(max_examples=60, deadline=None)
@given(files, files)
def test_reconcile_from_any_earlier_tree_equals_a_full_run(before, after):
    assert sync(after, full(before)) == full(after)


def test_nothing_stale_when_in_step():
    sources = {"a/x.py": b"x = 1\n", "b.md": b"# B\n"}
    docs = full(sources)
    listing = listing_of(sources, docs)
    assert stale_folders(expected_folders(listing, CONFIG), docs_listing(listing, "docs"), CONFIG) == []


def test_one_changed_file_makes_one_folder_stale_and_one_render():
    sources = {f"d{i}/f{j}.py": f"x = {i * j}\n".encode() for i in range(5) for j in range(5)}
    docs = full(sources)
    sources["d3/f1.py"] = b"x = 'new'\n"
    listing = listing_of(sources, docs)
    expected = expected_folders(listing, CONFIG)
    stale = stale_folders(expected, docs_listing(listing, "docs"), CONFIG)
    assert stale == ["d3"]
    states = {"d3": parse_state(docs["d3/" + STATE])}
    assert to_render(expected, stale, states) == {"d3/f1.py": blob_id(b"x = 'new'\n")}
