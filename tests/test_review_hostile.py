"""Review of issue 6: hostile inputs the first round of tests did not try."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.cli import main
from bot.engine import STATE, Config, parse_config, render_file
from bot.engine.analyze_text import analyze_text
from bot.engine.model import FileSummary
from bot.github import publish, pulls
from bot.github.writes import Refused
from tests.appworld import World
from tests.gitrepo import GitRepo, read_tree
from tests.test_hostile_engine import foreign_html
from webhooks.push import Push


def generate(repo: GitRepo, *args: str) -> int:
    return main(["generate", str(repo.path), *args])


# -- item 1: reads stay inside the repository ------------------------------------------------------


def test_a_folder_replaced_by_a_link_is_not_read_through(repo: GitRepo, tmp_path: Path):
    """The index lists src/a.py, but the working tree's src is now a link to a folder outside the
    repository: its files are never read, so nothing of them reaches a page."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.py").write_text('SECRET_TOKEN = "hunter2"\n')
    repo.write("src/a.py", "x = 1\n")
    repo.write("b.py", "y = 2\n")
    repo.commit("seed")
    assert generate(repo) == 0
    for name in os.listdir(repo.path / "src"):
        os.unlink(repo.path / "src" / name)
    os.rmdir(repo.path / "src")
    os.symlink(outside, repo.path / "src")
    for args in [(), ("--since", "HEAD"), ()]:
        generate(repo, *args)
        pages = read_tree(repo.path / "docs")
        assert not [rel for rel, data in pages.items() if b"hunter2" in data or b"SECRET_TOKEN" in data], args


# -- item 11: the config's footer is Markdown, never HTML ------------------------------------------


def test_a_footer_holding_html_is_shown_as_text():
    config, _ = parse_config('footer: "<script>alert(1)</script> <img src=x onerror=alert(2)> *made* `<b>`"\n')
    pages = render_file("a.py", b'"""Doc."""\ndef f():\n    pass\n', config).pages
    assert pages
    for path, page in pages.items():
        assert foreign_html(page) == [], path
        assert "*made* `<b>`" in page  # its emphasis and code spans are kept


# -- items 2 and 11: a state's key names are untrusted links ---------------------------------------


def test_a_state_whose_key_name_links_elsewhere_is_damaged_not_a_crash_or_html(repo: GitRepo, capsys):
    """A committed state's key_names pair of the right arity but a target without '#' crashed the
    folder page (a traceback); one with '#' put its text raw into a link target (HTML on doc.md)."""
    repo.write("a.py", "def f():\n    pass\n")
    repo.write("b.py", "x = 1\n")
    repo.commit("seed")
    assert generate(repo) == 0
    state_path = repo.path / "docs" / STATE
    for target in ["no-anchor-at-all", "a.py_docs.md#x) <script>alert(1)</script> (", "../../x.md#sym-f"]:
        data = json.loads(state_path.read_text())
        data["files"]["a.py"]["key_names"] = [["f", target]]
        state_path.write_text(json.dumps(data))
        repo.write("b.py", f"x = {len(target)}\n")
        assert generate(repo, "--since", "HEAD") in (0, 1)  # pages it can no longer claim are conflicts
        assert "doing a full run" in capsys.readouterr().err  # the damaged root state is not trusted
        assert foreign_html((repo.path / "docs" / "doc.md").read_text()) == []
    with pytest.raises(ValueError, match="key_names"):
        FileSummary.from_json({"name": "a.py", "blob": "0" * 40, "documented": True, "key_names": [["f", "x"]]})
    ok = {"name": "a.py", "blob": "0" * 40, "documented": True, "key_names": [["f", "a.py_docs.md#sym-f-2"]]}
    assert FileSummary.from_json(ok).key_names == (("f", "a.py_docs.md#sym-f-2"),)


# -- item 3 in the App: what stands in a page's way is never replaced ------------------------------


@pytest.mark.parametrize(
    "mine",
    ["docs/pkg/a.py_docs.md/notes.md", "docs/pkg"],  # a folder at a page's path; a file at a folder's
)
async def test_the_app_never_replaces_a_hand_written_folder_or_file_in_a_pages_way(world: World, mine: str):
    """Locally these are conflicts ("a folder is in the way", "a file is in the way of a folder"); the
    App's tree write replaced them with pages, dropping the hand-written files from the docs PR."""
    world.local.write("pkg/a.py", "def f():\n    return 1\n")
    world.local.write("b.py", "x = 1\n")
    world.local.write(mine, "hand-written\n")
    # docs/ holds no repodoc state: only a docs folder the config names is written beside a project's own docs
    world.local.write(".github/repodoc.yml", "docs_dir: docs\n")
    world.local.commit("initial")
    await world.push_and_deliver()
    await world.settle()
    docs = world.docs_branch_tree()
    assert docs[mine.removeprefix("docs/")] == b"hand-written\n"
    assert main(["generate", str(world.local.path)]) == 1  # a conflict locally too


# -- item 8: deep nesting is an answer, not a crash (config patterns) ------------------------------


def test_a_pattern_of_many_double_stars_is_no_recursion_error(repo: GitRepo):
    """`_match` recursed once per leading `**/`: 1,500 of them in `exclude` was a traceback (exit 1)."""
    repo.write("a.py", "x = 1\n")
    repo.write("zz/b.py", "y = 1\n")
    repo.write(".github/repodoc.yml", 'exclude: ["' + "**/" * 1500 + 'zz/*"]\n')
    repo.commit("seed")
    assert generate(repo) == 0
    assert (repo.path / "docs/a.py_docs.md").exists() and not (repo.path / "docs/zz").exists()


@pytest.mark.parametrize("path", ["x", "a/x", "a/b/x", "a/b/c/x", "x/y", "ax", "a/bx"])
@pytest.mark.parametrize("stars", [0, 1, 2, 3, 5])
def test_repeated_double_stars_match_as_one(path: str, stars: int):
    from bot.engine.config import _match

    one = _match(path, "**/x") if stars else _match(path, "x")
    assert _match(path, "**/" * stars + "x") == one


# -- item 11 for what the App writes on GitHub: a branch name never leaves its code span -----------

HOSTILE_BRANCH = "x`<img src=https://example.invalid/t.png>`y"  # a valid git branch name


def _html_in(text: str) -> list[str]:
    """Every piece of HTML markdown-it finds, but the `<details>` blocks repodoc writes itself."""
    own = re.compile(r"</?details>|<summary>.*</summary>|</?summary>")
    return [h for h in foreign_html(text) if not all(own.fullmatch(p) for p in h.split())]


def test_a_branch_name_with_backticks_stays_text_in_the_pull_request_body():
    marker = pulls.Marker("a" * 40, "b" * 40, "c" * 40, "d" * 40)
    text = pulls.body(marker, HOSTILE_BRANCH, "", ["a.md"], [], "site`<b>`", ["c.md"])
    assert not [h for h in _html_in(text) if "<img" in h or "<b>" in h]


@pytest.mark.parametrize("workflows", [False, True])
@pytest.mark.parametrize("with_pull", [False, True])
async def test_a_branch_name_with_backticks_stays_text_in_a_refusal(workflows: bool, with_pull: bool):
    said: list[str] = []

    async def comment(gh, target, number, text, unless_present=False):  # type: ignore[no-untyped-def]
        said.append(text)

    async def check_run(gh, target, sha, conclusion, title, summary):  # type: ignore[no-untyped-def]
        said.append(summary)

    plan = SimpleNamespace(target=None, source="a" * 40)
    pull = SimpleNamespace(number=3) if with_pull else None
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(publish, "comment", comment)
        mp.setattr(publish, "check_run", check_run)
        await publish._refused(None, plan, pull, "repodoc/" + HOSTILE_BRANCH, Refused("no", workflows))
    assert said and not [h for h in _html_in(said[0]) if "<img" in h]


# -- item 6: no exponential analysis (a YAML key made of aliases) ----------------------------------


def _alias_bomb(depth: int) -> bytes:
    lines = ["a0: &a0 [x, y, z, w, v, u, t, s, r]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, depth)]
    return ("\n".join(lines) + f"\n? *a{depth - 1}\n: 1\n").encode()


def test_a_yaml_key_made_of_aliases_is_never_spelled_out():
    """The key's name was str() of its node: 9**depth nodes for a file of 46 bytes a level
    (depth 7, 322 bytes: 4 s; each level 10 times more)."""
    for depth in (5, 12):  # depth 5 first: on a regression it fails fast instead of running for days
        symbols = {s.name for s in analyze_text("yaml", _alias_bomb(depth).decode()).symbols}
        assert "(a sequence as a key)" in symbols and len(symbols) == depth + 1
    small, large = (len(render_file("b.yml", _alias_bomb(d), Config()).pages["b.yml_docs.md"]) for d in (3, 12))
    assert large < 2 * small  # the page grows with the file, not with what its aliases expand to


# -- item 14: a reader's default is honoured -------------------------------------------------------


@pytest.mark.parametrize("commit", [{}, {"added": None, "removed": ["b.py"]}])
def test_a_commit_without_a_path_list_reads_as_none_touched(commit: dict[str, object]):
    """`texts(key, ())` checked its default, a tuple, as if it were a JSON array: a commit without
    `added` (or with `added: null`) was answered 400 instead of reading as no path added."""
    payload = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": "a" * 40,
        "repository": {"name": "demo", "owner": {"login": "octo"}},
        "installation": {"id": 1},
        "commits": [commit],
    }
    assert Push.from_payload(payload).paths == tuple(commit.get("removed") or ())  # type: ignore[arg-type]
