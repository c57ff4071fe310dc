"""The listing-only reconcile the App uses gives the bytes of a full run."""

from __future__ import annotations

import posixpath

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import Config, FolderState, blob_id, build, parse_state, render_file
from bot.engine.reconcile import Entry, docs_listing, expected_folders, expected_of, stale_folders, to_render
from bot.engine.tree import STATE
from bot.github.plan import Plan, Target, docs_entries, plan, renders, survey, tree_id

TARGET = Target("octo-org", "demo", "main")

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


def planned(sources: dict[str, bytes], docs: dict[str, str]) -> Plan:
    """The App's plan, with its reads (states, sources) served from the dicts instead of the API."""
    listing = listing_of(sources, docs)
    states: dict[str, FolderState | None] = {}
    found = survey(listing, CONFIG)
    for folder in found.stale:
        text = docs.get(posixpath.join(folder, STATE) if folder else STATE)
        states[folder] = parse_state(text) if text else None
    rendered = {p: render_file(p, sources[p], CONFIG) for p in renders(found, states)}
    return plan(TARGET, "1" * 40, "2" * 40, listing, CONFIG, found, states, rendered)


def sync(sources: dict[str, bytes], docs: dict[str, str]) -> dict[str, str]:
    """The docs tree after applying the plan."""
    made = planned(sources, docs)
    assert not made.conflicts
    result = {p: t for p, t in docs.items() if p not in made.deletes}
    result.update(made.writes)
    return result


def full(sources: dict[str, bytes]) -> dict[str, str]:
    return build({p: render_file(p, d, CONFIG) for p, d in sources.items()}, CONFIG)


@settings(max_examples=60, deadline=None)
@given(files, files)
def test_reconcile_from_any_earlier_tree_equals_a_full_run(before, after):
    old = full(before)
    made = planned(after, old)
    assert sync(after, old) == full(after)
    new = full(after)
    assert made.docs_after == tree_id(docs_entries(listing_of(after, new), "docs"))
    assert made.empty == (old == new)


def test_a_plan_in_step_is_empty_and_proposes_the_docs_it_has():
    sources = {"a/x.py": b"x = 1\n", "b.md": b"# B\n"}
    made = planned(sources, full(sources))
    assert made.empty and made.docs_after == made.docs_before and not made.conflicts


def test_a_plan_keeps_pages_it_does_not_own():
    sources = {"a/x.py": b"x = 1\n"}
    docs = {**full(sources), "a/y.py_docs.md": "written by hand\n"}
    made = planned({**sources, "a/y.py": b"y = 2\n"}, docs)
    assert made.conflicts == ("a/y.py_docs.md",) and "a/y.py_docs.md" not in made.writes
    assert "a/y.py_docs.md" not in made.deletes and "a/y.py_kw.md" in made.writes


def test_tree_id_is_gits(repo):
    files = {"a/b": b"x", "a.b": b"y", "a-b/c/d.md": b"z", "run.sh": b"echo\n"}
    for path, data in files.items():
        repo.write(path, data)
    repo.git("add", ".")
    repo.git("update-index", "--chmod=+x", "run.sh")
    entries = {p: ("100755" if p == "run.sh" else "100644", blob_id(d)) for p, d in files.items()}
    assert tree_id(entries) == repo.git("write-tree").strip()
    assert tree_id({}) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


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


@settings(max_examples=200, deadline=None)
@given(files, st.sets(st.sampled_from(["", "a", "a/b", "c", "d"])))
def test_expected_of_some_folders_is_what_the_whole_listing_says_of_them(sources, folders):
    listing = {**listing_of(sources, {}), "a/b/node_modules/m.js": Entry("100644", "0" * 40)}
    listing["c/link.py"] = Entry("120000", "1" * 40)
    whole = expected_folders(listing, CONFIG)
    assert expected_of(listing, CONFIG, folders) == {f: whole[f] for f in folders if f in whole}
