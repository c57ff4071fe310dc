"""Hostile repositories on the local run: nothing escapes the docs folder (issue 6, local items)."""

from __future__ import annotations

import os
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.local
from bot.cli import main
from bot.report import printable
from tests.gitrepo import GitRepo


def generate(repo: GitRepo, *args: str) -> int:
    return main(["generate", str(repo.path), *args])


def world(top: Path, docs: str = "docs") -> dict[str, Any]:
    """Every entry below top except the repository's docs folder and .git: bytes, 'dir' or the link's target."""
    skip = {f"repo/{docs}", "repo/.git"}
    seen: dict[str, Any] = {}
    for folder, dirs, files in os.walk(top):
        here = Path(folder).relative_to(top).as_posix()
        dirs[:] = [d for d in dirs if f"{here}/{d}".lstrip("./") not in skip]
        for name in dirs + files:
            full = Path(folder) / name
            rel = full.relative_to(top).as_posix()
            if full.is_symlink():
                seen[rel] = ("link", os.readlink(full))
            elif full.is_dir():
                seen[rel] = "dir"
            else:
                seen[rel] = full.read_bytes()
    return seen


@pytest.fixture
def small(repo: GitRepo) -> GitRepo:
    repo.write("README.md", "# Small\n\nA small project.\n")
    repo.write("pkg/__init__.py", '"""The pkg package."""\nfrom .core import run\n')
    repo.write("pkg/core.py", "def run():\n    return 1\n")
    repo.write("sub/x.py", "X = 1\n")
    repo.commit()
    return repo


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the repository holding a sentinel file."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "sentinel.md").write_bytes(b"precious bytes\n")
    return folder


def documented(repo: GitRepo) -> str:
    """Run once, commit the docs; returns that commit."""
    assert generate(repo) == 0
    return repo.commit("docs")


def link(path: Path, target: str | Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


# 12. Control characters in names are escaped -----------------------------------------------------

ESC = "\x1b]0;pwned\x07\x1b[2J"


def test_control_characters_never_reach_the_terminal(repo, monkeypatch, capsys):
    repo.write(f"bin{ESC}.txt", b"a\0b")
    repo.write(f"hand{ESC}.py", "x = 1\n")
    repo.write(f"docs/hand{ESC}.py_docs.md", "mine\n")
    repo.write("boom.py", "x = 2\n")
    repo.write("line\nbreak.txt", b"\0")
    repo.write(".github/repodoc.yml", f'"colour{ESC}": 1\n'.replace("\x1b", "\\e").replace("\x07", "\\a"))
    repo.commit()
    real = bot.local.render_file

    def flaky(path, data, config):
        if path == "boom.py":
            raise RuntimeError(f"bad {ESC} name")
        return real(path, data, config)

    monkeypatch.setattr(bot.local, "render_file", flaky)
    assert generate(repo) == 1
    assert generate(repo, "--check") == 1
    assert generate(repo, f"--since={ESC}") == 2
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert "\x1b" not in printed and "\x07" not in printed
    assert printed.count("\\x1b]0;pwned\\x07\\x1b[2J") >= 6
    assert "    line\\x0abreak.txt: binary" in captured.out
    assert f"conflict: {printable(f'hand{ESC}.py_docs.md')}" in captured.out
    assert "failed: boom.py: RuntimeError: bad \\x1b" in captured.out
    assert "unknown key 'colour\\x1b" in captured.err


@given(st.text())
def test_printable_leaves_no_control_character(text):
    shown = printable(text)
    shown.encode("utf-8")
    assert not [c for c in shown if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")]
    if all(c.isprintable() and c.isascii() for c in text):
        assert shown == text


def test_printable_shows_undecodable_bytes_as_hex():
    assert printable("caf\udce9\u202e\n") == "caf\\xe9\\u202e\\x0a"
