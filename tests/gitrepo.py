"""A real git repository in a temporary folder, for tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


class GitRepo:
    """Write files, commit, and read back, through the git command line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, env=_ENV, check=True, capture_output=True).stdout.decode()

    def write(self, rel: str, data: bytes | str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():  # an edit replaces a link with a file (as an editor saving anew does)
            target.unlink()
        target.write_bytes(data.encode() if isinstance(data, str) else data)

    def remove(self, rel: str) -> None:
        self.git("rm", "-q", "-f", "--", rel)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file below folder, by relative posix path."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
