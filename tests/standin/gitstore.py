"""Bare git repositories as the stand-in's object store: every id is the one git computes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import zlib
from pathlib import Path

ZEROS = "0" * 40
_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
    "GIT_AUTHOR_NAME": "GitHub",
    "GIT_AUTHOR_EMAIL": "noreply@github.com",
    "GIT_COMMITTER_NAME": "GitHub",
    "GIT_COMMITTER_EMAIL": "noreply@github.com",
}


class GitError(Exception):
    """A git command failed (unknown object, bad ref, …)."""


class Store:
    """One bare repository."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            self.git("init", "-q", "--bare", str(path), cwd=path.parent)
        self.clock = 1_700_000_000

    def git(
        self, *args: str, data: bytes | None = None, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> bytes:
        base = [] if args[0] == "init" else ["--git-dir", str(self.path)]
        proc = subprocess.run(["git", *base, *args], input=data, capture_output=True, cwd=cwd, env=env or _ENV)
        if proc.returncode != 0:
            raise GitError(proc.stderr.decode(errors="replace").strip())
        return proc.stdout

    def kind(self, sha: str) -> str:
        return self.git("cat-file", "-t", sha).decode().strip()

    def resolve(self, ref: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet", ref + "^{object}").decode().strip()
        except GitError:
            return None

    def tree_of(self, commit_or_tree: str) -> str:
        return self.git("rev-parse", commit_or_tree + "^{tree}").decode().strip()

    def ls_tree(self, tree: str, recursive: bool) -> list[dict[str, object]]:
        args = ["ls-tree", "-l", "-z", tree] if not recursive else ["ls-tree", "-r", "-t", "-l", "-z", tree]
        entries = []
        for line in self.git(*args).split(b"\0"):
            if not line:
                continue
            meta, path = line.split(b"\t", 1)
            mode, kind, sha, size = meta.decode().split()
            entry: dict[str, object] = {"path": path.decode(), "mode": mode, "type": kind, "sha": sha}
            if kind == "blob":
                entry["size"] = int(size)
            entries.append(entry)
        return entries

    def blob(self, sha: str) -> bytes:
        return self.git("cat-file", "blob", sha)

    def write_blobs(self, contents: list[bytes]) -> list[str]:
        """Write blobs as loose objects (what `git hash-object -w` writes, without a process each); their ids."""
        ids = []
        for data in contents:
            raw = b"blob %d\0" % len(data) + data
            sha = hashlib.sha1(raw).hexdigest()
            path = self.path / "objects" / sha[:2] / sha[2:]
            if not path.exists():
                path.parent.mkdir(exist_ok=True)
                part = path.with_name(path.name + ".tmp")
                part.write_bytes(zlib.compress(raw))
                part.replace(path)
            ids.append(sha)
        return ids

    def blobs(self, shas: list[str]) -> list[bytes]:
        """Many blobs' bytes with one git call."""
        if not shas:
            return []
        out = self.git("cat-file", "--batch", data="".join(s + "\n" for s in shas).encode())
        found, at = [], 0
        for _ in shas:
            header_end = out.index(b"\n", at)
            size = int(out[at:header_end].split()[2])
            found.append(out[header_end + 1 : header_end + 1 + size])
            at = header_end + 1 + size + 1
        return found

    def make_tree(self, base: str | None, entries: list[tuple[str, str, str | None]]) -> str:
        """A tree: base with each (path, mode, blob sha or None to delete) applied."""
        with tempfile.TemporaryDirectory() as tmp:
            env = {**_ENV, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if base:
                self.git("read-tree", base, env=env)
            else:
                self.git("read-tree", "--empty", env=env)
            info = "".join(f"{mode} {sha}\t{path}\n" if sha else f"0 {ZEROS}\t{path}\n" for path, mode, sha in entries)
            self.git("update-index", "--index-info", data=info.encode(), env=env)
            return self.git("write-tree", env=env).decode().strip()

    def commit(self, tree: str, parents: list[str], message: str) -> str:
        self.clock += 1
        env = {**_ENV, "GIT_AUTHOR_DATE": f"{self.clock} +0000", "GIT_COMMITTER_DATE": f"{self.clock} +0000"}
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.git(*args, data=message.encode(), env=env).decode().strip()

    def commit_info(self, sha: str) -> dict[str, object]:
        raw = self.git("cat-file", "commit", sha).decode()
        header, _, message = raw.partition("\n\n")
        tree, parents = "", []
        for line in header.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
        return {"tree": tree, "parents": parents, "message": message}

    def set_ref(self, ref: str, sha: str) -> None:
        self.git("update-ref", ref, sha)
