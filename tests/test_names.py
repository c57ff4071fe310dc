"""Source names that collide with repodoc's own files, or whose pages would pass the 255-byte name
limit: not documented, with a reason, locally (full and --since) and in the App alike."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.engine import Config, render_file
from bot.engine.names import COLLIDES, TOO_LONG, name_reason
from tests.appworld import World
from tests.gitrepo import GitRepo, read_tree

LONG = "a" * 245 + ".py"  # 248 bytes: fine as a file, 256 bytes as a_docs.md page
HOSTILE = {
    "index.md/x.py": "x = 1\n",
    "pkg/doc.md/y.py": "y = 1\n",
    ".repodoc-state.json/z.py": "z = 1\n",
    "pkg/m.py": "m = 1\n",
    "pkg/m.py_docs.md/w.py": "w = 1\n",
    "pkg/m.py_kw.md/v.py": "v = 1\n",
    f"pkg/{LONG}": "long = 1\n",
    "pkg/ok.py": "ok = 1\n",
}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("index.md/x.py", COLLIDES),
        ("a/doc.md/b/c.py", COLLIDES),
        ("a/.repodoc-manifest.json/c.py", COLLIDES),
        ("a/x_kw.md/c.py", COLLIDES),
        ("a/index.md", ""),  # a file named index.md has pages index.md_docs.md: no collision
        ("a/x_docs.md", ""),
        (LONG, TOO_LONG),
        ("é" * 123 + ".py", TOO_LONG),  # bytes count, not characters
        ("a" * 240 + ".py", ""),
    ],
)
def test_name_reason(path: str, reason: str):
    assert name_reason(path) == reason


def test_a_long_name_gets_no_pages_and_says_why():
    result = render_file(LONG, b"x = 1\n", Config())
    assert result.pages == {} and result.summary.reason == TOO_LONG


def test_locally_no_false_conflict_and_every_reason_said(repo: GitRepo, capsys):
    for path, text in HOSTILE.items():
        repo.write(path, text)
    repo.commit()
    assert main(["generate", str(repo.path)]) == 0
    out = capsys.readouterr().out
    for path in ("index.md/x.py", "pkg/doc.md/y.py", ".repodoc-state.json/z.py", "pkg/m.py_docs.md/w.py"):
        assert f"{path}: {COLLIDES}" in out
    assert f"{LONG}: {TOO_LONG}" in out and "conflict" not in out
    docs = read_tree(repo.path / "docs")
    assert docs["pkg/m.py_docs.md"].startswith(b"# ") and "pkg/ok.py_docs.md" in docs
    assert not [p for p in docs if p.startswith(("index.md/", ".repodoc-state.json/", "pkg/doc.md/"))]
    assert TOO_LONG.encode() in docs["pkg/index.md"]
    full = docs
    # the same names arriving in a later commit: --since writes the same bytes as a full run
    repo.write("pkg/index.md/late.py", "late = 1\n")
    repo.write("pkg/late.py", "late = 2\n")
    repo.commit()
    assert main(["generate", str(repo.path), "--since", "HEAD~1"]) == 0
    incremental = read_tree(repo.path / "docs")
    assert incremental != full
    assert main(["generate", str(repo.path), "--check"]) == 0


async def test_the_app_writes_what_a_local_run_writes(world: World):
    for path, text in HOSTILE.items():
        world.local.write(path, text)
    world.local.commit("hostile names")
    await world.push_and_deliver()
    await world.settle()
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)  # no conflict, no failure either
    [pull] = world.standin.open_pulls("octo-org/demo")
    for path in ("index.md/x.py", "pkg/doc.md/y.py", ".repodoc-state.json/z.py", "pkg/m.py_docs.md/w.py"):
        assert f"{path}: {COLLIDES}" in pull["body"]  # left out, and the pull request says so


def test_a_name_that_is_not_utf8_is_left_out_with_its_reason(repo: GitRepo, capsys):
    repo.write("caf\udce9.py", "x = 1\n")  # the bytes caf\xe9.py: git takes any bytes as a name
    repo.write("ok.py", "ok = 1\n")
    repo.commit()
    assert main(["generate", str(repo.path)]) == 0
    out = capsys.readouterr().out
    assert "caf\\xe9.py: name is not valid UTF-8" in out and "failed" not in out
    assert main(["generate", str(repo.path), "--check"]) == 0


def test_config_reads_the_pull_request_keys_and_refuses_other_values():
    from bot.engine.config import ConfigError, parse_config

    config, _ = parse_config(b"pull_requests: check\ncheck_conclusion: failure\n")
    assert (config.pull_requests, config.check_conclusion, config.docs_dir_given) == ("check", "failure", False)
    assert parse_config(b"docs_dir: docs\n")[0].docs_dir_given
    assert config.fingerprint() == parse_config(None)[0].fingerprint()  # they never change a page
    for bad in (b"pull_requests: yes\n", b"check_conclusion: fail\n", b"pull_requests: [a]\n"):
        with pytest.raises(ConfigError):
            parse_config(bad)


def test_a_projects_own_docs_are_found_and_a_free_folder_proposed():
    from bot.engine.names import free_docs_dir, hand_written, hand_written_problem

    own = {"conf.py", "index.rst", "_static/x.css"}
    assert hand_written(own, docs_dir_given=False) == ("_static/x.css", "conf.py", "index.rst")
    assert hand_written(own, docs_dir_given=True) == ()
    assert hand_written(own | {".repodoc-state.json"}, docs_dir_given=False) == ()
    assert hand_written(set(), docs_dir_given=False) == ()
    assert "docs/conf.py" in hand_written_problem("docs", hand_written(own, False))
    assert free_docs_dir({"docs/index.rst"}) == "docs/reference"
    assert free_docs_dir({"docs/reference/a.md", "docs/reference-2"}) == "docs/reference-3"


def _collides_by_folder(path: str) -> bool:
    """The rule as it reads: a folder on the path named as a repodoc file in a docs folder."""
    from bot.engine.names import PAGE_SUFFIXES, RESERVED

    return any(folder in RESERVED or folder.endswith(PAGE_SUFFIXES) for folder in path.split("/")[:-1])


_pieces = st.sampled_from(
    ["a", "index.md", "doc.md", "x_docs.md", "_kw.md", ".repodoc-state.json", ".repodoc-manifest.json"]
    + ["index.mdx", "xindex.md", "", "é" * 70, "\udcff", "a_docs.mdx", "_docs.md_kw.md", "b" * 247]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_pieces, min_size=1, max_size=5).map("/".join))
def test_the_name_rules_as_substring_tests_say_what_the_rules_say(path):
    from bot.engine.names import NAME_MAX, PAGE_SUFFIXES, collides

    assert collides(path) == _collides_by_folder(path)
    name = path.rsplit("/", 1)[-1]
    too_long = max(len((name + s).encode("utf-8", "surrogateescape")) for s in PAGE_SUFFIXES) > NAME_MAX
    expected = COLLIDES if _collides_by_folder(path) else TOO_LONG if too_long else ""
    assert name_reason(path) == expected
