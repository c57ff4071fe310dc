"""A project's own docs folder (Sphinx sources in docs/) is never mixed with generated pages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from tests.gitrepo import GitRepo, read_tree

CONF = '''"""Sphinx configuration."""

project = "mylib"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
html_theme = "furo"
html_static_path = ["_static"]
'''
INDEX = "mylib\n=====\n\n.. toctree::\n   :maxdepth: 2\n\n   usage\n   api\n"


@pytest.fixture
def sphinx(repo: GitRepo) -> GitRepo:
    """A small library whose docs/ holds its Sphinx sources."""
    repo.write("README.md", "# mylib\n\nDoes things.\n")
    repo.write("mylib/__init__.py", '"""mylib."""\nfrom .core import run\n')
    repo.write("mylib/core.py", "def run():\n    return 1\n")
    repo.write("docs/conf.py", CONF)
    repo.write("docs/index.rst", INDEX)
    repo.write("docs/usage.rst", "Usage\n=====\n\nCall ``run``.\n")
    repo.write("docs/api.rst", "API\n===\n\n.. automodule:: mylib.core\n")
    repo.write("docs/_static/custom.css", "body { max-width: 60em; }\n")
    repo.write("docs/Makefile", "html:\n\tsphinx-build -b html . _build\n")
    repo.commit()
    return repo


def generate(repo: GitRepo, *args: str) -> int:
    return main(["generate", str(repo.path), *args])


@pytest.mark.parametrize("check", [False, True])
def test_a_projects_own_docs_folder_is_refused_and_nothing_is_written(sphinx: GitRepo, capsys, check):
    before = read_tree(sphinx.path / "docs")
    assert generate(sphinx, *(["--check"] if check else [])) == 2
    err = capsys.readouterr().err
    assert "docs/ holds files repodoc did not write" in err
    assert "docs/Makefile, docs/_static/custom.css, docs/api.rst, docs/conf.py, docs/index.rst and 1 more" in err
    assert "docs_dir: docs/reference" in err and ".github/repodoc.yml" in err and "--out DIR" in err
    assert read_tree(sphinx.path / "docs") == before  # not one page among the Sphinx sources


def test_with_docs_dir_set_the_pages_go_beside_the_projects_docs(sphinx: GitRepo, capsys):
    sphinx.write(".github/repodoc.yml", "docs_dir: docs/reference\n")
    sphinx.commit()
    assert generate(sphinx) == 0
    tree = read_tree(sphinx.path / "docs")
    assert "reference/index.md" in tree and "reference/mylib/core.py_docs.md" in tree
    assert "reference/docs/conf.py_docs.md" in tree  # the project's own docs are now documented
    assert tree["conf.py"] == CONF.encode() and not any(p.endswith("_docs.md") for p in tree if "/" not in p)
    assert generate(sphinx, "--check") == 0


def test_an_out_folder_is_the_users_choice(sphinx: GitRepo, tmp_path: Path):
    """--out names the folder explicitly, as docs_dir in the config does: the rule is for the default only.
    A foreign file where a page would go is still a conflict, never overwritten."""
    out = tmp_path / "site"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    assert generate(sphinx, "--out", str(out)) == 0
    assert (out / "notes.txt").read_text() == "mine\n" and (out / "mylib/core.py_docs.md").is_file()


def test_docs_made_by_repodoc_are_updated_as_before(repo: GitRepo, capsys):
    repo.write("mylib/core.py", "def run():\n    return 1\n")
    repo.commit()
    assert generate(repo) == 0 and (repo.path / "docs/.repodoc-state.json").is_file()
    (repo.path / "docs/NOTES.md").write_text("a hand-written note beside the pages\n")
    repo.write("mylib/core.py", "def run():\n    return 2\n")
    repo.commit()
    assert generate(repo, "--check") == 1
    assert generate(repo) == 0 and generate(repo, "--check") == 0
    assert (repo.path / "docs/NOTES.md").read_text() == "a hand-written note beside the pages\n"
    capsys.readouterr()


def test_an_empty_or_missing_docs_folder_is_the_default_one(repo: GitRepo):
    repo.write("a.py", "x = 1\n")
    repo.commit()
    (repo.path / "docs/_static").mkdir(parents=True)  # folders alone hold no files
    assert generate(repo) == 0 and (repo.path / "docs/a.py_docs.md").is_file()


def test_a_link_in_the_docs_folder_is_listed_never_followed(repo: GitRepo, tmp_path: Path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("x\n")
    repo.write("a.py", "x = 1\n")
    repo.commit()
    (repo.path / "docs").mkdir()
    os.symlink(outside, repo.path / "docs/api")
    assert generate(repo) == 2
    err = capsys.readouterr().err
    assert "docs/api" in err and "secret.txt" not in err
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_the_refusal_never_sends_a_files_control_characters_to_the_terminal(repo: GitRepo, capsys):
    esc = "\x1b]0;pwned\x07"
    repo.write("a.py", "x = 1\n")
    repo.write(f"docs/notes{esc}.md", "mine\n")
    repo.commit()
    assert generate(repo) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "docs/notes\\x1b]0;pwned\\x07.md" in err
