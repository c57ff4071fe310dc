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

    def merge_pull(self, number: int) -> str:
        """Merge pull request `number` as GitHub does (a merge commit on its base, never a fast-forward);
        the local clone follows when the base is main. Returns the merge commit."""
        merge = self.standin.merge_pull(FULL, number)
        pull = self.standin.pull(FULL, number)
        assert pull is not None
        if pull["base"] == "main":
            self.local.git("fetch", "-q", str(self.store.path), "main")
            self.local.git("reset", "-q", "--hard", "FETCH_HEAD")
        return merge

    def push_feature(self, branch: str, files: dict[str, str], message: str = "feature") -> str:
        """Commit `files` on the local branch `branch` (made from main when new) and push it to the
        stand-in (no webhook); the local clone goes back to main. Returns the branch's head."""
        known = self.local.git("branch", "--list", branch).strip()
        self.local.git("checkout", "-q", *([] if known else ["-b"]), branch, *([] if known else ["main"]))
        try:
            for rel, text in files.items():
                self.local.write(rel, text)
            head = self.local.commit(message)
            self.local.git("push", "-q", "--force", str(self.store.path), f"HEAD:refs/heads/{branch}")
        finally:
            self.local.git("checkout", "-q", "main")
        return head

    def fork_commit(
        self,
        files: dict[str, str],
        message: str = "from a fork",
        *,
        parent: str | None = None,
        number: int | None = None,
    ) -> str:
        """A commit made in a fork (on `parent`, by default main's head, or the fork pull's head when
        `number` is given), put into the base repository's objects as GitHub keeps a fork pull's head;
        with `number`, it becomes that fork pull's new head (`refs/pull/N/head`). Returns its sha."""
        if parent is None and number is not None:
            pull = self.standin.pull(FULL, number)
            assert pull is not None
            parent = pull["head_sha"]
        parent = parent or self.store.resolve("refs/heads/main")
        assert parent is not None
        blobs = self.store.write_blobs([text.encode() for text in files.values()])
        tree = self.store.make_tree(
            self.store.tree_of(parent), [(rel, "100644", sha) for rel, sha in zip(files, blobs, strict=True)]
        )
        sha = self.store.commit(tree, [parent], message)
        if number is not None:
            self.standin.push_fork_pull(FULL, number, sha)
        return sha

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

    def _repository(self, data: dict[str, Any], full_name: str = FULL) -> dict[str, Any]:
        """A payload's repository (or a pull's head repo) adapted to full_name."""
        owner, name = full_name.split("/")
        data.update(name=name, full_name=full_name, default_branch=self.standin.default_branch.get(full_name, "main"))
        data.update(fork=full_name != FULL, private=full_name in self.standin.private)
        data["owner"].update(login=owner)
        if "name" in data["owner"]:
            data["owner"]["name"] = owner
        return data

    def _adapt(self, data: dict[str, Any], sender: dict[str, str]) -> dict[str, Any]:
        self._repository(data["repository"])
        data["installation"] = {"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg=="}
        data["sender"].update(login=sender["login"], type=sender["type"])
        if "organization" in data:
            data["organization"].update(login=OWNER, url=f"https://api.github.com/orgs/{OWNER}")
        return data

    def _pull_object(self, template: dict[str, Any], pull: dict[str, Any]) -> dict[str, Any]:
        """A webhook's pull_request: the published one with this pull request's state."""
        number = pull["number"]
        template.update(
            number=number,
            id=number,
            state=pull["state"],
            title=pull["title"],
            body=pull["body"],
            url=f"https://api.github.com/repos/{FULL}/pulls/{number}",
            html_url=f"https://github.com/{FULL}/pull/{number}",
            issue_url=f"https://api.github.com/repos/{FULL}/issues/{number}",
            created_at=pull["created_at"],
            updated_at=pull["updated_at"],
            closed_at=pull["closed_at"],
            merged_at=pull["merged_at"],
            merged=pull["merged"],
            merge_commit_sha=pull["merge_commit_sha"],
            draft=False,
        )
        template["user"].update(login=pull["user"]["login"], type=pull["user"]["type"])
        sides = {
            "head": (pull["head"], pull["head_repo"], pull["head_sha"]),
            "base": (pull["base"], FULL, self.store.resolve("refs/heads/" + pull["base"]) or ZEROS),
        }
        for side, (ref, repo, sha) in sides.items():
            owner = repo.split("/")[0]
            template[side].update(ref=ref, sha=sha, label=f"{owner}:{ref}")
            template[side]["user"].update(login=owner)
            self._repository(template[side]["repo"], repo)
        return template

    def pull_payload(self, number: int, action: str, **changes: str) -> dict[str, Any]:
        """A published pull_request example for opened, synchronize (`before=` the old head), reopened,
        closed or edited (`base=`, `title=`, `body=`: the old values, as `changes.X.from`), with pull
        request `number` as the stand-in has it (a fork's pull: head.repo is the fork)."""
        pull = self.standin.pull(FULL, number)
        assert pull is not None, f"no pull request #{number}"
        like = "opened" if action == "edited" else action
        data = spec.webhook_example("pull_request", lambda e: e["action"] == like and "installation" in e)
        data["action"] = action
        data["number"] = number
        self._adapt(data, pull["user"])
        self._pull_object(data["pull_request"], pull)
        if action == "synchronize":
            data.update(before=changes["before"], after=pull["head_sha"])
        if action == "edited":
            data["changes"] = {}
            for key, old in changes.items():
                data["changes"][key] = {"ref": {"from": old}} if key == "base" else {"from": old}
            if "base" in changes:
                data["changes"]["base"]["sha"] = {"from": self.store.resolve("refs/heads/" + changes["base"]) or ZEROS}
        return data

    def comment_payload(
        self, comment: dict[str, Any], number: int, action: str = "created", previous: str | None = None
    ) -> dict[str, Any]:
        """A published issue_comment example for a comment the stand-in holds on pull request `number`
        (issue.pull_request present, as GitHub sends it for a pull request's conversation)."""
        pull = self.standin.pull(FULL, number)
        assert pull is not None, f"no pull request #{number}"
        data = spec.webhook_example("issue_comment", lambda e: e["action"] == "created" and "installation" in e)
        data["action"] = action
        self._adapt(data, comment["user"])
        issue = data["issue"]
        issue.update(
            number=number,
            id=number,
            title=pull["title"],
            body=pull["body"],
            state=pull["state"],
            url=f"https://api.github.com/repos/{FULL}/issues/{number}",
            html_url=f"https://github.com/{FULL}/pull/{number}",
            pull_request={
                "url": f"https://api.github.com/repos/{FULL}/pulls/{number}",
                "html_url": f"https://github.com/{FULL}/pull/{number}",
                "diff_url": f"https://github.com/{FULL}/pull/{number}.diff",
                "patch_url": f"https://github.com/{FULL}/pull/{number}.patch",
                "merged_at": pull["merged_at"],
            },
        )
        issue["user"].update(login=pull["user"]["login"], type=pull["user"]["type"])
        data["comment"].update(
            id=comment["id"],
            body=comment["body"],
            created_at=comment["created_at"],
            updated_at=comment["updated_at"],
            html_url=f"https://github.com/{FULL}/pull/{number}#issuecomment-{comment['id']}",
            issue_url=f"https://api.github.com/repos/{FULL}/issues/{number}",
            url=f"https://api.github.com/repos/{FULL}/issues/comments/{comment['id']}",
            author_association=self.standin._association(FULL, comment["user"]["login"]),
        )
        data["comment"]["user"].update(login=comment["user"]["login"], type=comment["user"]["type"])
        if action == "edited":
            data["changes"] = {"body": {"from": previous if previous is not None else ""}}
        return data

    def _suite_pulls(self, head_sha: str, numbers: list[int] | None) -> list[dict[str, Any]]:
        """A check suite's pull_requests as GitHub fills it: open same-repository pulls whose head is the sha
        (or the pulls `numbers`)."""
        found = []
        for pull in self.standin.pulls[FULL]:
            pull = self.standin._sync(FULL, pull)
            if numbers is not None and pull["number"] not in numbers:
                continue
            if numbers is None and (
                pull["state"] != "open" or pull["head_repo"] != FULL or pull["head_sha"] != head_sha
            ):
                continue
            repo = {"id": 1, "url": f"https://api.github.com/repos/{FULL}", "name": NAME}
            found.append(
                {
                    "url": f"https://api.github.com/repos/{FULL}/pulls/{pull['number']}",
                    "id": pull["number"],
                    "number": pull["number"],
                    "head": {"ref": pull["head"], "sha": pull["head_sha"], "repo": repo},
                    "base": {
                        "ref": pull["base"],
                        "sha": self.store.resolve("refs/heads/" + pull["base"]) or ZEROS,
                        "repo": repo,
                    },
                }
            )
        return found

    def check_run_payload(self, run: int | str, action: str = "rerequested") -> dict[str, Any]:
        """A published check_run example for a run the stand-in holds (its id), or for the newest run on a
        head sha; its check suite's head branch is a branch whose head is that sha."""
        runs = self.standin.check_runs
        found = (
            [r for r in runs if r["id"] == run] if isinstance(run, int) else [r for r in runs if r["head_sha"] == run]
        )
        assert found, f"no check run {run}"
        held = found[-1]
        data = spec.webhook_example("check_run", lambda e: e["action"] == "rerequested" and "installation" in e)
        data["action"] = action
        self._adapt(data, {"login": "octocat", "type": "User"})
        check = data["check_run"]
        check.update(
            id=held["id"],
            name=held["name"],
            head_sha=held["head_sha"],
            status=held["status"],
            conclusion=held["conclusion"],
            started_at=held["started_at"],
            completed_at=held["completed_at"],
            url=f"https://api.github.com/repos/{FULL}/check-runs/{held['id']}",
            html_url=f"https://github.com/{FULL}/runs/{held['id']}",
        )
        check["output"].update(title=held["output"]["title"], summary=held["output"]["summary"])
        check["output"]["text"] = held["output"]["text"]
        pulls = self._suite_pulls(held["head_sha"], None)
        check["pull_requests"] = pulls
        check["check_suite"].update(
            id=held["suite"], head_sha=held["head_sha"], after=held["head_sha"], pull_requests=pulls
        )
        check["check_suite"]["head_branch"] = self._branch_of(held["head_sha"])
        for app in (check["app"], check["check_suite"]["app"]):
            app.update(id=int(self.standin.app_id), slug="repodoc", name="repodoc")
        return data

    def _branch_of(self, sha: str) -> str | None:
        heads = self.store.git("for-each-ref", "--format=%(objectname) %(refname:short)", "refs/heads").decode()
        return next((line.split(" ", 1)[1] for line in heads.splitlines() if line.startswith(sha)), None)

    def check_suite_payload(
        self, head_sha: str, head_branch: str | None, pull_numbers: list[int], action: str = "rerequested"
    ) -> dict[str, Any]:
        """A published check_suite example for head_sha on head_branch, listing pull requests `pull_numbers`
        (number, head and base ref and sha) as GitHub fills pull_requests."""
        data = spec.webhook_example("check_suite", lambda e: e["action"] == action and "installation" in e)
        self._adapt(data, {"login": "octocat", "type": "User"})
        suite = data["check_suite"]
        suite.update(
            head_sha=head_sha,
            head_branch=head_branch,
            after=head_sha,
            pull_requests=self._suite_pulls(head_sha, pull_numbers),
        )
        suite["app"].update(id=int(self.standin.app_id), slug="repodoc", name="repodoc")
        if isinstance(suite.get("head_commit"), dict):
            suite["head_commit"]["id"] = head_sha
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
