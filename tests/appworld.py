"""The App's test world: a local git repository, the GitHub stand-in, and `repodoc serve` on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

from bot.local import Options, run
from tests.gitrepo import GitRepo, read_tree
from tests.standin import spec
from tests.standin.gitstore import ZEROS, Store
from tests.standin.server import GitHubStandIn

SECRET = "it's a secret to everybody"
OWNER, NAME = "octo-org", "demo"
FULL = f"{OWNER}/{NAME}"
INSTALLATION = 4242


def sign(body: bytes, secret: str = SECRET) -> str:
    """X-Hub-Signature-256 as GitHub computes it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class World:
    """One repository on the stand-in, its working clone, and the App's HTTP client."""

    def __init__(self, tmp: Path, standin: GitHubStandIn, client: Any, redis_url: str | None = None) -> None:
        self.redis_url = redis_url
        self.tmp = tmp
        self.standin = standin
        self.client = client
        self.store: Store = standin.add_repo(FULL)
        self.local = GitRepo(tmp / "work")
        self.pushed = ZEROS

    # -- git side ----------------------------------------------------------------------------
    def push(self, force: bool = False) -> str:
        """Push the local main to the stand-in; returns the new head."""
        head = self.local.git("rev-parse", "HEAD").strip()
        self.local.git("push", "-q", *(["--force"] if force else []), str(self.store.path), "HEAD:refs/heads/main")
        return head

    def merge_docs_pull(self) -> None:
        """Merge the open docs pull request as GitHub does: a merge commit (never a fast-forward) on its base."""
        pull = self.standin.open_pulls(FULL)[0]
        docs_head = self.store.resolve("refs/heads/" + pull["head"])
        base = self.store.resolve("refs/heads/" + pull["base"])
        assert docs_head is not None and base is not None
        tree = self.store.git("merge-tree", "--write-tree", base, docs_head).decode().split()[0]
        merge = self.store.commit(
            tree, [base, docs_head], f"Merge pull request #{pull['number']} from {OWNER}/{pull['head']}"
        )
        self.store.set_ref("refs/heads/" + pull["base"], merge)
        pull["state"] = "closed"
        self.local.git("fetch", "-q", str(self.store.path), pull["base"])
        self.local.git("reset", "-q", "--hard", "FETCH_HEAD")

    def docs_branch_tree(self, branch: str = "repodoc/main", docs_dir: str = "docs") -> dict[str, bytes]:
        """Every file under the docs folder in the docs branch."""
        sha = self.store.resolve("refs/heads/" + branch)
        assert sha is not None, f"{branch} does not exist"
        prefix = docs_dir + "/"
        found = [e for e in self.store.ls_tree(sha, True) if e["type"] == "blob" and str(e["path"]).startswith(prefix)]
        contents = self.store.blobs([str(e["sha"]) for e in found])
        return {str(e["path"])[len(prefix) :]: data for e, data in zip(found, contents, strict=True)}

    def generated_tree(self, sha: str, docs_dir: str = "docs", failures: int = 0) -> dict[str, bytes]:
        """What `repodoc generate` writes for commit sha, on a fresh clone (with that many files failing)."""
        clone = self.tmp / f"clone-{uuid.uuid4().hex[:8]}"
        subprocess.run(["git", "clone", "-q", str(self.store.path), str(clone)], check=True, capture_output=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", sha], check=True, capture_output=True)
        report = run(Options(clone))
        assert len(report.failures) == failures and not report.conflicts
        return read_tree(clone / docs_dir)

    # -- webhook side --------------------------------------------------------------------------
    def push_payload(self, before: str, after: str, forced: bool = False, commits: int | None = None) -> dict[str, Any]:
        """A published push example, adapted to this repository and push."""
        data = spec.webhook_example("push", lambda e: e["ref"].startswith("refs/heads/") and "installation" in e)
        data.update(
            ref="refs/heads/main", before=before, after=after, forced=forced, created=before == ZEROS, deleted=False
        )
        data["repository"].update(name=NAME, full_name=FULL, default_branch="main")
        data["repository"]["owner"].update(login=OWNER, name=OWNER)
        data["installation"]["id"] = INSTALLATION
        template = data["commits"][0]
        listed = []
        log = self.local.git("log", "--format=%H", f"{before}..{after}" if before != ZEROS else after).split()
        for sha in reversed(log[:2048] if commits is None else log[:commits]):  # GitHub lists up to 2,048
            names = self.local.git("show", "--name-status", "--format=", sha).splitlines()
            commit = {
                **template,
                "id": sha,
                "tree_id": self.local.git("rev-parse", f"{sha}^{{tree}}").strip(),
                "added": [n.split("\t")[-1] for n in names if n.startswith("A")],
                "removed": [n.split("\t")[-1] for n in names if n.startswith("D")],
                "modified": [n.split("\t")[-1] for n in names if n[:1] in ("M", "T")],
            }
            listed.append(commit)
        data["commits"] = listed
        data["head_commit"] = listed[-1] if listed else None
        return data

    async def deliver(
        self, event: str, payload: dict[str, Any], delivery: str | None = None, signature: str | None = "auto"
    ) -> Any:
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "User-Agent": "GitHub-Hookshot/test",
        }
        if signature == "auto":
            headers["X-Hub-Signature-256"] = sign(body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return await self.client.post("/webhooks", data=body, headers=headers)

    async def push_branch(self, branch: str, before: str = ZEROS) -> Any:
        """Push the local HEAD to `branch` on the stand-in and deliver that push."""
        head = self.local.git("rev-parse", "HEAD").strip()
        self.local.git("push", "-q", "--force", str(self.store.path), f"HEAD:refs/heads/{branch}")
        payload = self.push_payload(before, head)
        payload["ref"] = f"refs/heads/{branch}"
        return await self.deliver("push", payload)

    async def push_and_deliver(self, force: bool = False, delivery: str | None = None) -> Any:
        before = self.pushed
        after = self.push(force=force)
        response = await self.deliver("push", self.push_payload(before, after, forced=force), delivery)
        self.pushed = after
        return response

    async def settle(self) -> None:
        """Wait until the App has run every queued job (in distributed mode: a worker in burst mode)."""
        from webhooks.app import QUEUE

        if self.redis_url is None:
            await self.client.app[QUEUE].join()
            return
        from bot.github.auth import AppCredentials
        from bot.redis_queue import make_worker
        from tests.conftest import APP_ID, app_keys

        worker = make_worker(
            self.redis_url,
            AppCredentials(APP_ID, app_keys()[0]),
            self.standin.url,
            burst=True,
            backoff=0,
            handle_signals=False,
        )
        try:
            await worker.async_run()
        finally:
            await worker.close()
