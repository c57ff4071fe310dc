"""Ownership is what was actually written: a hand-written file at a page's path stays a conflict on
every run, locally (full and --since) and in the App across pushes and merges of its pull request."""

from __future__ import annotations

import json

from bot.cli import main
from bot.engine import Config, build, parse_state, render_file
from tests.appworld import World
from tests.gitrepo import GitRepo, read_tree

MINE = "my own page, not repodoc's\n"


def generate(repo: GitRepo, *args: str) -> int:
    return main(["generate", str(repo.path), *args])


def test_the_state_records_a_page_it_did_not_write():
    result = render_file("pkg/a.py", b"def f():\n    return 1\n", Config())
    tree = build({"pkg/a.py": result}, Config(), occupied={"pkg/a.py_docs.md"})
    state = parse_state(tree["pkg/.repodoc-state.json"])
    assert state.foreign == {"a.py_docs.md"}
    assert "pkg/a.py_docs.md" not in state.owned("pkg") and "pkg/a.py_kw.md" in state.owned("pkg")
    assert "foreign" not in json.loads(build({"pkg/a.py": result}, Config())["pkg/.repodoc-state.json"])


def test_a_hand_written_page_is_a_conflict_on_every_local_run(repo: GitRepo, capsys):
    repo.write("pkg/a.py", "def f():\n    return 1\n")
    repo.write("pkg/b.py", "def g():\n    return 2\n")
    repo.write("docs/pkg/a.py_docs.md", MINE)
    repo.write(".github/repodoc.yml", "docs_dir: docs\n")  # chosen: the project's own docs rule is for the default
    repo.commit()
    for args in ((), ()):
        assert generate(repo, *args) == 1
        assert (repo.path / "docs/pkg/a.py_docs.md").read_text() == MINE
    repo.write("pkg/a.py", "def f():\n    return 3\n")  # the file changes: --since must not take the page either
    repo.commit()
    assert generate(repo, "--since", "HEAD~1") == 1
    assert generate(repo) == 1
    assert (repo.path / "docs/pkg/a.py_docs.md").read_text() == MINE
    assert "pkg/a.py_docs.md: a file repodoc did not write is in the way" in capsys.readouterr().out
    repo.remove("pkg/a.py")  # its source goes: the hand-written page is not repodoc's to delete
    repo.commit()
    assert generate(repo, "--since", "HEAD~1") == 0
    assert (repo.path / "docs/pkg/a.py_docs.md").read_text() == MINE


def test_once_the_hand_written_file_goes_repodoc_writes_its_page(repo: GitRepo):
    repo.write("a.py", "x = 1\n")
    repo.write("docs/a.py_docs.md", MINE)
    repo.write(".github/repodoc.yml", "docs_dir: docs\n")  # chosen: the project's own docs rule is for the default
    repo.commit()
    assert generate(repo) == 1
    (repo.path / "docs/a.py_docs.md").unlink()
    assert generate(repo) == 0
    assert (repo.path / "docs/a.py_docs.md").read_text() != MINE
    assert generate(repo, "--check") == 0


async def test_the_app_never_takes_a_hand_written_page_across_merges(world: World):
    world.local.write("pkg/a.py", "def f():\n    return 1\n")
    world.local.write("pkg/b.py", "def g():\n    return 2\n")
    world.local.write("docs/pkg/a.py_docs.md", MINE)
    world.local.write(".github/repodoc.yml", "docs_dir: docs\n")  # chosen: else a folder of its own is proposed
    world.local.commit("initial")
    for round_ in range(3):
        await world.push_and_deliver()
        await world.settle()
        docs = world.docs_branch_tree()
        assert docs["pkg/a.py_docs.md"] == MINE.encode(), f"round {round_}"
        assert parse_state(docs["pkg/.repodoc-state.json"]).foreign == {"a.py_docs.md"}
        body = world.standin.open_pulls("octo-org/demo")[0]["body"]
        assert "pkg/a.py_docs.md" in body
        world.merge_docs_pull()
        world.pushed = world.local.git("rev-parse", "HEAD").strip()
        world.local.write("pkg/a.py", f"def f():\n    return {round_ + 5}\n")
        world.local.commit(f"round {round_}")
    # the App's state equals a local run's on the same commit, foreign page included
    await world.push_and_deliver()
    await world.settle()
    world.merge_docs_pull()
    assert main(["generate", str(world.local.path)]) == 1
    assert read_tree(world.local.path / "docs") == world.docs_branch_tree()


async def test_the_app_rebuilds_a_folder_whose_state_is_damaged(world: World):
    world.local.write("pkg/a.py", "def f():\n    return 1\n")
    world.local.write("docs/pkg/.repodoc-state.json", '{"files": {"a.py": 5}}')  # committed by anyone
    world.local.write(".github/repodoc.yml", "docs_dir: docs\n")  # chosen: docs/ holds no state at its root
    world.local.commit("initial")
    await world.push_and_deliver()
    await world.settle()
    # the damaged state is repodoc's own file, rebuilt, as a local run rebuilds it (no conflict either)
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)


async def test_a_link_at_a_state_keeps_its_folder_a_conflict_on_every_push(world: World):
    world.local.write("pkg/a.py", "def f():\n    return 1\n")
    (world.local.path / "docs/pkg").mkdir(parents=True)
    (world.local.path / "docs/pkg/.repodoc-state.json").symlink_to("../../pkg/a.py")
    world.local.commit("initial")
    for round_ in range(2):
        await world.push_and_deliver()
        await world.settle()
        [pull] = world.standin.open_pulls("octo-org/demo")
        assert "pkg/.repodoc-state.json" in pull["body"] and "pkg/.repodoc-manifest.json" in pull["body"], round_
        assert "pkg/.repodoc-manifest.json" not in world.docs_branch_tree()  # the folder stays stale
        world.local.write("b.py", f"b = {round_}\n")
        world.local.commit(f"round {round_}")
