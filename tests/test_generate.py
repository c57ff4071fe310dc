"""`repodoc generate` end to end on real git repositories, through the console entry point."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

import bot.local
from bot.cli import main
from tests.gitrepo import GitRepo, read_tree


def generate(repo: GitRepo, *args: str) -> int:
    return main(["generate", str(repo.path), *args])


@pytest.fixture
def small(repo: GitRepo) -> GitRepo:
    repo.write("README.md", "# Small\n\nA small project.\n")
    repo.write("pkg/__init__.py", '"""The pkg package."""\nfrom .core import run\n')
    repo.write("pkg/core.py", "def run():\n    return 1\n")
    repo.write("tests/test_core.py", "from pkg.core import run\n\ndef test_run():\n    assert run() == 1\n")
    repo.commit()
    return repo


def test_full_run_writes_the_tree_and_a_second_run_changes_nothing(small: GitRepo, capsys):
    assert generate(small) == 0
    first = read_tree(small.path / "docs")
    assert {
        "index.md",
        "doc.md",
        "README.md_docs.md",
        "pkg/index.md",
        "pkg/core.py_kw.md",
        "tests/test_core.py_docs.md",
    } <= set(first)
    mtimes = {p: (small.path / "docs" / p).stat().st_mtime_ns for p in first}
    assert generate(small) == 0
    assert read_tree(small.path / "docs") == first
    assert {p: (small.path / "docs" / p).stat().st_mtime_ns for p in first} == mtimes
    out = capsys.readouterr().out
    assert "pages written: 0, deleted: 0" in out and "4 files documented" in out


def test_root_index_overview_comes_from_readme(small: GitRepo):
    generate(small)
    index = (small.path / "docs/index.md").read_text()
    assert "A small project. (from `README.md`)" in index
    doc = (small.path / "docs/pkg/doc.md").read_text()
    assert "`__init__.py` imports `core.py`" in doc and "```mermaid" in doc


def test_check_reports_stale_pages_and_exits_1(small: GitRepo, capsys):
    assert generate(small, "--check") == 1
    generate(small)
    assert generate(small, "--check") == 0
    small.write("pkg/core.py", "def run():\n    return 2\n")
    capsys.readouterr()
    assert generate(small, "--check") == 1
    out = capsys.readouterr().out
    assert "pkg/core.py_docs.md" in out and "pkg/index.md" not in out.split("stale")[0]
    assert read_tree(small.path / "docs")["pkg/core.py_docs.md"].count(b"return 1") == 1  # nothing written


def test_out_writes_elsewhere_with_identical_bytes(small: GitRepo, tmp_path: Path):
    generate(small)
    assert generate(small, "--out", str(tmp_path / "elsewhere")) == 0
    assert read_tree(tmp_path / "elsewhere") == read_tree(small.path / "docs")


def test_hand_written_files_are_left_alone_and_conflicts_said(small: GitRepo, capsys):
    small.write(".github/repodoc.yml", "docs_dir: docs\n")  # chosen: the own-docs refusal is for the default only
    small.write("docs/guide.md", "my own words\n")
    small.write("docs/pkg/index.md", "hand-written index\n")
    small.commit()
    assert generate(small) == 1
    assert (small.path / "docs/guide.md").read_text() == "my own words\n"
    assert (small.path / "docs/pkg/index.md").read_text() == "hand-written index\n"
    assert "conflict: pkg/index.md" in capsys.readouterr().out
    assert not (small.path / "docs/guide.md_docs.md").exists()


def test_never_documents_its_own_output(small: GitRepo):
    generate(small)
    small.commit("docs")
    generate(small)
    tree = read_tree(small.path / "docs")
    assert not [p for p in tree if "_docs.md_docs.md" in p or p.startswith("docs/")]


def test_docs_dir_from_config(small: GitRepo):
    small.write(".github/repodoc.yml", "docs_dir: site/ref\nfooter: '*Made here*'\n")
    small.commit()
    assert generate(small) == 0
    page = (small.path / "site/ref/pkg/core.py_docs.md").read_text()
    assert page.endswith("*Made here*\n") and "](../../../pkg/core.py)" in page
    assert not (small.path / "docs").exists()


def test_removed_file_pages_are_deleted(small: GitRepo):
    generate(small)
    small.remove("tests/test_core.py")
    small.commit()
    generate(small)
    tree = read_tree(small.path / "docs")
    assert not [p for p in tree if p.startswith("tests/")]
    assert "tests/" not in (small.path / "docs/index.md").read_text()


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("include: 3\n", "key 'include' must be a list"),
        ("docs_dir: ../out\n", "key 'docs_dir'"),
        ("languages:\n  cobol: true\n", "key 'languages.cobol'"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_config_exits_2_naming_the_key(small: GitRepo, capsys, yaml_text, message):
    small.write(".github/repodoc.yml", yaml_text)
    assert generate(small) == 2
    assert message in capsys.readouterr().err


def test_unknown_config_key_is_a_warning(small: GitRepo, capsys):
    small.write(".github/repodoc.yml", "colour: blue\n")
    assert generate(small) == 0
    assert "unknown key 'colour'" in capsys.readouterr().err


def test_include_exclude(small: GitRepo):
    small.write(".github/repodoc.yml", "include: ['pkg/**']\nexclude: ['**/__init__.py']\n")
    generate(small)
    tree = read_tree(small.path / "docs")
    assert "pkg/core.py_docs.md" in tree and "pkg/__init__.py_docs.md" not in tree
    assert "README.md_docs.md" not in tree


def test_bad_inputs_are_reported_and_the_run_goes_on(repo: GitRepo, capsys):
    repo.write("big.txt", b"x" * (50 * 1024 * 1024))
    repo.write("nul.dat.txt", b"ab\0cd")
    repo.write("latin1.py", b"s = '\xe9'\n")
    repo.write("broken.py", "def f(:\n")
    repo.write("empty.py", "")
    repo.write("ok.py", "x = 1\n")
    os.symlink("ok.py", repo.path / "link.py")
    repo.commit()
    assert generate(repo) == 0
    out = capsys.readouterr().out
    assert "not documented: 1 (binary)" in out and "not documented: 1 (larger than max_file_bytes)" in out
    assert "not documented: 1 (symlink)" in out
    assert "    nul.dat.txt: binary (holds NUL bytes)" in out and "    link.py: symlink" in out
    index = (repo.path / "docs/index.md").read_text()
    assert "`big.txt`: larger than max\\_file\\_bytes" in index
    assert "syntax error at line 1" in (repo.path / "docs/broken.py_docs.md").read_text()
    assert "not valid UTF-8" in (repo.path / "docs/latin1.py_docs.md").read_text()


def test_submodule_is_passed_over(repo: GitRepo, tmp_path: Path, capsys):
    inner = GitRepo(tmp_path / "inner")
    inner.write("a.py", "x = 1\n")
    inner.commit()
    repo.write("b.py", "y = 2\n")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.path), "sub")
    repo.commit()
    assert generate(repo) == 0
    assert "not documented: 1 (submodule)" in capsys.readouterr().out
    assert not (repo.path / "docs/sub").exists()


def test_empty_repository(repo: GitRepo, capsys):
    assert generate(repo) == 0
    assert "0 files documented" in capsys.readouterr().out
    assert "holds 0 documented files" in (repo.path / "docs/index.md").read_text()


def test_unexpected_failure_on_one_file_is_reported_and_exit_1(small: GitRepo, monkeypatch, capsys):
    real = bot.local.render_file

    def flaky(path, data, config):
        if path == "pkg/core.py":
            raise RuntimeError("boom")
        return real(path, data, config)

    monkeypatch.setattr(bot.local, "render_file", flaky)
    assert generate(small) == 1
    assert "failed: pkg/core.py: RuntimeError: boom" in capsys.readouterr().out
    assert (small.path / "docs/pkg/__init__.py_docs.md").exists()


def test_plain_folder_without_git(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a.py").write_text("x = 1\n")
    assert main(["generate", str(tmp_path)]) == 0
    assert (tmp_path / "docs/src/a.py_docs.md").exists()


def test_one_changed_file_changes_only_its_pages_and_its_folder(small: GitRepo):
    small.write("pkg/deep/x.py", "x = 1\n")
    small.commit()
    generate(small)
    before = read_tree(small.path / "docs")
    small.write("pkg/core.py", "def run():\n    return 3\n")
    small.commit()
    generate(small)
    after = read_tree(small.path / "docs")
    changed = {p for p in after if before.get(p) != after[p]}
    assert set(after) == set(before)
    assert {"pkg/core.py_docs.md", "pkg/.repodoc-manifest.json", "pkg/.repodoc-state.json"} <= changed
    assert changed <= {
        "pkg/core.py_docs.md",
        "pkg/core.py_kw.md",
        "pkg/index.md",
        "pkg/doc.md",
        "pkg/.repodoc-manifest.json",
        "pkg/.repodoc-state.json",
    }


def _generate_with_stderr(repo: GitRepo, terminal: bool) -> tuple[str, str]:
    """Run `repodoc generate` in a process of its own, its stderr a pseudo-terminal (80x24) or a pipe."""
    command = [sys.executable, "-m", "bot.cli", "generate", str(repo.path)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    if not terminal:
        proc = subprocess.run(command, capture_output=True, env=env, stdin=subprocess.DEVNULL, check=True)
        return proc.stdout.decode(), proc.stderr.decode()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env) as child:
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: the child has closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        out = child.stdout.read() if child.stdout else b""
        assert child.wait() == 0
    return out.decode(), b"".join(chunks).decode(errors="replace")


def test_a_terminal_shows_a_progress_bar_with_rate_and_time_left(repo: GitRepo):
    for n in range(60):
        repo.write(f"pkg/m{n}.py", f'"""Module {n}."""\n\nX = {n}\n')
    repo.commit()
    out, err = _generate_with_stderr(repo, terminal=True)
    assert "60 files documented" in out
    assert "60/60" in err and "file/s" in err and re.search(r"\[\d\d:\d\d<\d\d:\d\d, ", err), err  # tqdm's bar


def test_a_pipe_gets_no_progress_display(repo: GitRepo):
    for n in range(60):
        repo.write(f"pkg/m{n}.py", f'"""Module {n}."""\n\nX = {n}\n')
    repo.commit()
    out, err = _generate_with_stderr(repo, terminal=False)
    assert "60 files documented" in out and err == ""


def test_since_an_unknown_revision_exits_2(small: GitRepo, capsys):
    generate(small)
    assert generate(small, "--since", "no-such-rev") == 2
    assert "--since no-such-rev" in capsys.readouterr().err


def test_since_outside_git_exits_2(tmp_path: Path, capsys):
    (tmp_path / "a.py").write_text("x = 1\n")
    main(["generate", str(tmp_path)])
    assert main(["generate", str(tmp_path), "--since", "HEAD"]) == 2
