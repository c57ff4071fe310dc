"""The GitHub stand-in: the endpoints repodoc calls, over bare git repositories on loopback.

Every request it receives and every response it sends is checked against GitHub's OpenAPI
description; what fails the check, and any endpoint it does not know, is recorded in `errors`
(the tests' fixture fails on any). Installation tokens are issued only for a JWT that verifies
with the App's public key. Paths are decoded once, as GitHub decodes them: `git/ref/heads/feature%23x`
names the branch `feature#x`, `heads/a%2541b` the branch `a%41b` (aiohttp's match_info does this).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web

from . import spec
from .apps import ManifestFlow
from .checks import Checks
from .conversation import BODY_LIMIT as BODY_LIMIT
from .conversation import Conversation
from .gitstore import GitError, Store
from .ratelimits import RateLimits

API = "https://api.github.com"
TREE_TIMED_OUT = (
    "Sorry, your request timed out.  It's likely that your input was too large to process.  Consider building "
    "the tree incrementally, or building the commits you need in a local clone of the repository and then "
    "pushing them to GitHub."
)
CODELOAD = (
    "/_codeload/"  # archive downloads: not API endpoints (codeload.github.com), not checked against the description
)


@dataclass
class Recorded:
    """One request as the App sent it."""

    method: str
    path: str
    bytes_sent: int
    body: bytes = b""
    status: int = 0  # the answer's status (0 until answered)


@dataclass
class Fault:
    """Answer the next `times` matching requests with `status` (for retry tests)."""

    method: str
    path_prefix: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)


class GitHubStandIn(Conversation, Checks):
    """State of the fake GitHub: repositories, pull requests, comments, reactions, check runs, tokens, and
    what was asked of it (pull requests, comments and check runs: see conversation.py and checks.py)."""

    def __init__(self, root: Path, app_id: str, public_key: str) -> None:
        self.root = root
        self.app_id = app_id
        self.public_key = public_key
        self.repos: dict[str, Store] = {}
        self.default_branch: dict[str, str] = {}
        self.pulls: dict[str, list[dict[str, Any]]] = {}
        self.comments: list[dict[str, Any]] = []
        self.check_runs: list[dict[str, Any]] = []
        self.check_run_log: list[dict[str, Any]] = []  # every create and update: {id, action, status, conclusion}
        self.reactions: list[dict[str, Any]] = []  # {id, comment_id, content, user: {login, type}, repo, created_at}
        self.permissions: dict[tuple[str, str], str] = {}  # (full_name, login) -> admin|maintain|write|triage|read
        self.users: dict[str, str] = {"octocat": "User", "repodoc[bot]": "Bot"}  # logins that exist -> type
        self.private: set[str] = set()  # repositories that are private (the rest are public)
        self.seq = 0  # creation order of pull requests (GitHub sorts by it)
        # GitHub refuses a second open pull request only for the same head AND base (cli/cli#686): False is
        # GitHub's rule; True refuses any second open pull request from one head
        self.one_pull_per_head = False
        self.tokens: dict[str, float] = {}
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        self.faults: list[Fault] = []
        self.not_modified = 0  # conditional GETs answered 304
        self.lost: list[Fault] = []  # requests whose effect happens but whose answer is lost (connection dropped)
        self.tree_body_limit: int | None = None  # POST git/trees bodies above it: GitHub's 422 "timed out"
        self.workflows_permission = True  # False: ref moves that bring `.github/workflows/` changes are refused
        self.verified: set[str] = set()  # commits GitHub signed (made through the API with no author)
        self.tree_limit = 100_000  # entries in one recursive tree listing (GitHub's; tests set less)
        self.downloads: dict[str, float] = {}  # archive download tokens -> expiry (GitHub: five minutes)
        self.archive_edit: Callable[[bytes], bytes] | None = None  # tests: alter the archive as served
        self.manifests = ManifestFlow(self)
        self.limits = RateLimits()  # primary budgets and the secondary limit a test sets
        self.latency = 0.0  # seconds every API answer takes (GitHub answering slowly)
        self.gate: asyncio.Event | None = None  # while it is unset, requests about a repository wait for it
        self.held: dict[str, int] = {}  # repository -> its requests waiting at the gate now

    installation = 4242  # the one installation every repository belongs to (GET /app/installations)
    page_size = 100  # the most items a listing answers per page, whatever per_page asks

    # -- set-up used by tests ---------------------------------------------------------------
    def add_repo(self, full_name: str, default_branch: str = "main") -> Store:
        store = Store(self.root / (full_name.replace("/", "__") + ".git"))
        self.repos[full_name] = store
        self.default_branch[full_name] = default_branch
        self.pulls[full_name] = []
        self.users.setdefault(full_name.split("/")[0], "Organization")
        return store

    def open_pulls(self, full_name: str) -> list[dict[str, Any]]:
        return [self._sync(full_name, p) for p in self.pulls[full_name] if p["state"] == "open"]

    def rename_branch(self, full_name: str, old: str, new: str) -> None:
        """Rename a branch as GitHub does: the ref moves, the default branch follows, and open pull
        requests into the old name are retargeted to the new one."""
        store = self.repos[full_name]
        sha = store.resolve("refs/heads/" + old)
        assert sha is not None
        store.set_ref("refs/heads/" + new, sha)
        store.git("update-ref", "-d", "refs/heads/" + old)
        if self.default_branch[full_name] == old:
            self.default_branch[full_name] = new
        for pull in self.open_pulls(full_name):
            if pull["base"] == old:
                pull["base"] = new

    # -- the application ------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._check], client_max_size=100 * 1024 * 1024)
        r = app.router
        r.add_post("/app/installations/{id}/access_tokens", self.access_token)
        r.add_get("/app/installations", self.list_installations)
        r.add_get("/installation/repositories", self.list_installation_repos)
        r.add_get("/repos/{owner}/{repo}", self.get_repo)
        r.add_get("/repos/{owner}/{repo}/git/ref/{ref:.+}", self.get_ref)
        r.add_post("/repos/{owner}/{repo}/git/refs", self.create_ref)
        r.add_patch("/repos/{owner}/{repo}/git/refs/{ref:.+}", self.update_ref)
        r.add_delete("/repos/{owner}/{repo}/git/refs/{ref:.+}", self.delete_ref)
        r.add_get("/repos/{owner}/{repo}/git/commits/{sha}", self.get_commit)
        r.add_get("/repos/{owner}/{repo}/compare/{basehead}", self.compare)
        r.add_get("/repos/{owner}/{repo}/git/trees/{sha}", self.get_tree)
        r.add_post("/repos/{owner}/{repo}/git/trees", self.create_tree)
        r.add_get("/repos/{owner}/{repo}/git/blobs/{sha}", self.get_blob)
        r.add_get("/repos/{owner}/{repo}/tarball/{ref:.+}", self.get_tarball)
        r.add_get(CODELOAD + "{owner}/{repo}/legacy.tar.gz/{sha}", self.download_tarball)
        r.add_post("/repos/{owner}/{repo}/git/commits", self.create_commit)
        r.add_get("/repos/{owner}/{repo}/pulls", self.list_pulls)
        r.add_post("/repos/{owner}/{repo}/pulls", self.create_pull)
        r.add_get("/repos/{owner}/{repo}/pulls/{number}", self.get_pull)
        r.add_patch("/repos/{owner}/{repo}/pulls/{number}", self.update_pull)
        r.add_post("/repos/{owner}/{repo}/issues/{number:[0-9]+}/comments", self.create_comment)
        r.add_get("/repos/{owner}/{repo}/issues/{number:[0-9]+}/comments", self.list_comments)
        r.add_get("/repos/{owner}/{repo}/issues/comments/{comment_id}", self.get_comment)
        r.add_post("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", self.create_reaction)
        r.add_get("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", self.list_reactions)
        r.add_get("/repos/{owner}/{repo}/collaborators/{username}/permission", self.collaborator_permission)
        r.add_post("/repos/{owner}/{repo}/check-runs", self.create_check_run)
        r.add_get("/repos/{owner}/{repo}/check-runs/{check_run_id}", self.get_check_run)
        r.add_patch("/repos/{owner}/{repo}/check-runs/{check_run_id}", self.update_check_run)
        r.add_get("/repos/{owner}/{repo}/commits/{ref}/check-runs", self.list_check_runs)
        r.add_get("/app", self.get_app)
        r.add_post("/app-manifests/{code}/conversions", self.manifests.conversion)
        return app

    @web.middleware
    async def _check(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        recorded = Recorded(request.method, request.path_qs, len(body), body)
        self.requests.append(recorded)
        if request.path.startswith(CODELOAD):  # a download, not the API: no budget, no description
            return await handler(request)
        await self._slow(request)
        key = self.limits.key(request.headers.get("Authorization", ""))
        budget = self.limits.budget(key)
        spent = budget.used >= budget.limit
        budget.used = min(budget.used + 1, budget.limit)
        response = await self._answer(request, handler, body, key, spent)
        if response.status == 304 and not spent:  # a conditional request answered 304 does not count
            budget.used -= 1
        recorded.status = response.status
        if not response.prepared:  # a fault that names its own x-ratelimit-* headers keeps them
            for name, value in budget.headers().items():
                response.headers.setdefault(name, value)
        return response

    async def _slow(self, request: web.Request) -> None:
        """A repository's request waits at the gate (counted in `held` while it waits); then every request
        waits for the latency."""
        parts = request.path.split("/")
        repo = "/".join(parts[2:4]) if request.path.startswith("/repos/") else ""
        if repo and self.gate is not None and not self.gate.is_set():
            self.held[repo] = self.held.get(repo, 0) + 1
            try:
                await self.gate.wait()
            finally:
                self.held[repo] -= 1
                if not self.held[repo]:
                    del self.held[repo]
        if self.latency:
            await asyncio.sleep(self.latency)

    async def _answer(
        self, request: web.Request, handler: Any, body: bytes, key: str, spent: bool
    ) -> web.StreamResponse:
        """The answer to a request: a route's, or a refusal (no route, against the spec, a limit, a fault)."""
        if getattr(request.match_info, "http_exception", None) is not None:
            self.errors.append(f"request {request.method} {request.path_qs}: no route of the stand-in matches")
            return web.json_response({"message": "Not Found", "documentation_url": f"{API}/docs"}, status=404)
        checked = spec.Request(
            request.method,
            request.path,
            dict(request.query),
            dict(request.headers),
            body,
            request.content_type if body else "",
        )
        problem, invalid_body = spec.check_request_body(checked)
        if problem:
            self.errors.append(f"request {request.method} {request.path_qs}: {problem}")
            if invalid_body is not None:  # GitHub refuses a body against its schema with 422 "Invalid request."
                return web.json_response(
                    {"message": f"Invalid request.\n\n{invalid_body}", "documentation_url": f"{API}/docs"}, status=422
                )
            return web.json_response({"message": "Not Found"}, status=404)
        refused = self.limits.refusal(request.method, key, spent)
        if refused is not None:  # GitHub answers these on any endpoint, documented there or not
            return refused
        for fault in self.faults:
            if fault.times and request.method == fault.method and request.path.startswith(fault.path_prefix):
                fault.times -= 1
                return web.json_response({"message": "stand-in fault"}, status=fault.status, headers=fault.headers)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = web.json_response({"message": exc.reason, "documentation_url": f"{API}/docs"}, status=exc.status)
        if response.status != 304:  # conditional requests: any GET may answer 304
            assert isinstance(response, web.Response)
            raw = response.body if isinstance(response.body, bytes) else b""
            answer = spec.Response(response.status, raw, response.content_type, dict(response.headers))
            problem = spec.check_response(checked, answer)
            # GitHub answers 401 (bad credentials) and 404 (no such thing) on any endpoint, and 422 to a body
            # it refuses, whether the description lists them there or not
            anywhere = (401, 404, 422) if body else (401, 404)
            if (
                problem
                and response.status in anywhere
                and f"Unknown response http status: {response.status}" in problem
            ):
                problem = ""
            if problem:
                self.errors.append(f"response {response.status} to {request.method} {request.path_qs}: {problem}")
        return response

    def _json(self, request: web.Request, data: Any, status: int = 200) -> web.Response:
        body = json.dumps(data).encode()
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if request.method == "GET" and request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag} if request.method == "GET" else {}
        return web.Response(body=body, status=status, content_type="application/json", headers=headers)

    def _error(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> web.Response:
        data: dict[str, Any] = {"message": message, "documentation_url": f"{API}/docs"}
        if errors is not None:
            data["errors"] = errors
        return web.json_response(data, status=status)

    def _lose_answer(self, request: web.Request) -> None:
        """Drop the connection after the effect (so the App sees no answer) when a test asks for it."""
        for lost in self.lost:
            if lost.times and request.method == lost.method and request.path.startswith(lost.path_prefix):
                lost.times -= 1
                assert request.transport is not None
                request.transport.close()
                return

    def _workflow_refusal(self, store: Store, old: str | None, new: str) -> web.Response | None:
        """GitHub's refusal of a ref move that changes `.github/workflows/` without the `workflows` permission
        (old None: a new branch, compared with the default branch)."""
        if self.workflows_permission or old is None:
            return None
        changed = store.git("diff", "--name-only", old, new, "--", ".github/workflows").decode().split()
        if not changed:
            return None
        return self._error(
            422,
            f"refusing to allow a GitHub App to create or update workflow `{changed[0]}` without `workflows` permission",
        )

    def _auth(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("token", "bearer") and self.tokens.get(value, 0) > time.time():
            return
        raise web.HTTPUnauthorized(reason="Bad credentials")

    def _store(self, request: web.Request) -> tuple[str, Store]:
        self._auth(request)
        name = f"{request.match_info['owner']}/{request.match_info['repo']}"
        if name not in self.repos:
            raise web.HTTPNotFound(reason="Not Found")
        return name, self.repos[name]

    def _url(self, request: web.Request, tail: str) -> str:
        return f"{API}/repos/{request.match_info['owner']}/{request.match_info['repo']}/{tail}"

    # -- endpoints --------------------------------------------------------------------------
    async def access_token(self, request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            claims = jwt.decode(
                token, self.public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}
            )
        except jwt.PyJWTError as exc:
            return self._error(401, f"A JSON web token could not be decoded: {exc}")
        if scheme.lower() != "bearer" or claims["iss"] != self.app_id or claims["exp"] - claims["iat"] > 600:
            return self._error(401, "'Expiration time' claim ('exp') is too far in the future")
        value = "ghs_" + secrets.token_hex(18)
        self.tokens[value] = time.time() + 3600
        self.limits.installation_of[value] = int(request.match_info["id"])
        data = spec.example("installation-token")
        data.update(token=value, expires_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)))
        return self._json(request, data, 201)

    async def get_repo(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)
        data = spec.example("full-repository")
        data.setdefault("has_discussions", False)  # required by the schema, absent from the published example
        data.update(name=request.match_info["repo"], full_name=name, default_branch=self.default_branch[name])
        return self._json(request, data)

    def _ref_json(self, request: web.Request, ref: str, sha: str) -> dict[str, Any]:
        return {
            "ref": ref,
            "node_id": "REF_" + sha[:8],
            "url": self._url(request, f"git/{ref}"),
            "object": {"type": "commit", "sha": sha, "url": self._url(request, f"git/commits/{sha}")},
        }

    async def get_ref(self, request: web.Request) -> web.Response:
        _, store = self._store(request)
        ref = "refs/" + request.match_info["ref"]
        sha = store.resolve(ref)
        if sha is None:
            return self._error(404, "Not Found")
        return self._json(request, self._ref_json(request, ref, sha))

    async def create_ref(self, request: web.Request) -> web.Response:
        name, store = self._store(request)
        data = await request.json()
        if store.resolve(data["ref"]) is not None:
            return self._error(422, "Reference already exists")
        default = store.resolve("refs/heads/" + self.default_branch[name])
        refusal = self._workflow_refusal(store, default, data["sha"])
        if refusal is not None:
            return refusal
        store.set_ref(data["ref"], data["sha"])
        self._lose_answer(request)
        return self._json(request, self._ref_json(request, data["ref"], data["sha"]), 201)

    async def update_ref(self, request: web.Request) -> web.Response:
        _, store = self._store(request)
        ref = "refs/" + request.match_info["ref"]
        data = await request.json()
        current = store.resolve(ref)
        if current is None:
            return self._error(422, "Reference does not exist")
        if not data.get("force") and current not in store.git("rev-list", data["sha"]).decode().split():
            return self._error(422, "Update is not a fast forward")
        refusal = self._workflow_refusal(store, current, data["sha"])
        if refusal is not None:
            return refusal
        store.set_ref(ref, data["sha"])
        return self._json(request, self._ref_json(request, ref, data["sha"]))

    async def delete_ref(self, request: web.Request) -> web.Response:
        _, store = self._store(request)
        ref = "refs/" + request.match_info["ref"]
        if store.resolve(ref) is None:
            return self._error(422, "Reference does not exist")
        store.git("update-ref", "-d", ref)
        return web.Response(status=204)

    async def get_commit(self, request: web.Request) -> web.Response:
        _, store = self._store(request)
        sha = request.match_info["sha"]
        try:
            if store.kind(sha) != "commit":
                return self._error(404, "Not Found")
        except GitError:
            return self._error(404, "Not Found")
        return self._json(request, self._commit_json(request, store, sha, sha in self.verified))

    async def compare(self, request: web.Request) -> web.Response:
        _, store = self._store(request)
        base, _, head = request.match_info["basehead"].partition("...")
        try:
            ahead = int(store.git("rev-list", "--count", f"{base}..{head}").decode())
            behind = int(store.git("rev-list", "--count", f"{head}..{base}").decode())
        except GitError:
            return self._error(404, "Not Found")
        status = (
            "identical"
            if not ahead and not behind
            else "ahead"
            if not behind
            else "behind"
            if not ahead
            else "diverged"
        )
        data = spec.example("commit-comparison")
        data.update(status=status, ahead_by=ahead, behind_by=behind, total_commits=ahead, commits=[], files=[])
        return self._json(request, data)

    async def get_tree(self, request: web.Request) -> web.Response:
        _, store = self._store(request)
        try:
            tree = store.tree_of(request.match_info["sha"])
        except GitError:
            return self._error(404, "Not Found")
        # GitHub: any value of `recursive` (even "0" or "false") lists recursively; a recursive listing past
        # its limit is cut short and says `truncated` (https://docs.github.com/en/rest/git/trees#get-a-tree)
        recursive = "recursive" in request.query
        entries = store.ls_tree(tree, recursive=recursive)
        truncated = recursive and len(entries) > self.tree_limit
        return self._json(request, self._tree_json(request, tree, entries[: self.tree_limit], truncated))

    def _tree_json(
        self, request: web.Request, tree: str, entries: list[dict[str, Any]], truncated: bool = False
    ) -> dict[str, Any]:
        for entry in entries:
            kind = "blobs" if entry["type"] == "blob" else "trees"
            entry["url"] = self._url(request, f"git/{kind}/{entry['sha']}")
        return {"sha": tree, "url": self._url(request, f"git/trees/{tree}"), "tree": entries, "truncated": truncated}

    async def create_tree(self, request: web.Request) -> web.Response:
        _, store = self._store(request)
        if self.tree_body_limit is not None and len(await request.read()) > self.tree_body_limit:
            return self._error(422, TREE_TIMED_OUT)
        data = await request.json()
        inline = [e for e in data["tree"] if "content" in e]
        ids = iter(store.write_blobs([e["content"].encode() for e in inline]))
        deleting = any("content" not in e and e.get("sha") is None for e in data["tree"])
        known = (
            {e["path"] for e in store.ls_tree(data["base_tree"], True)} if deleting and data.get("base_tree") else set()
        )
        changes = []
        for entry in data["tree"]:
            if "content" in entry:
                changes.append((entry["path"], entry["mode"], next(ids)))
            elif entry.get("sha") is None:
                if entry["path"] not in known:
                    return self._error(422, f"tree.path {entry['path']} does not exist in base_tree")
                changes.append((entry["path"], entry["mode"], None))
            else:
                changes.append((entry["path"], entry["mode"], entry["sha"]))
        tree = store.make_tree(data.get("base_tree"), changes)
        self._lose_answer(request)
        return self._json(request, self._tree_json(request, tree, store.ls_tree(tree, recursive=False)), 201)

    async def get_blob(self, request: web.Request) -> web.Response:
        _, store = self._store(request)
        sha = request.match_info["sha"]
        try:
            data = store.blob(sha)
        except GitError:
            return self._error(404, "Not Found")
        return self._json(
            request,
            {
                "content": base64.encodebytes(data).decode(),
                "encoding": "base64",
                "url": self._url(request, f"git/blobs/{sha}"),
                "sha": sha,
                "size": len(data),
                "node_id": "BLOB_" + sha[:8],
            },
        )

    async def get_tarball(self, request: web.Request) -> web.Response:
        """302 to a download link that carries its own short-lived token, as GitHub answers."""
        _, store = self._store(request)
        sha = store.resolve(request.match_info["ref"])
        if sha is None:
            return self._error(404, "Not Found")
        commit = store.git("rev-parse", sha + "^{commit}").decode().strip()
        token = secrets.token_hex(16)
        self.downloads[token] = time.time() + 300
        owner, repo = request.match_info["owner"], request.match_info["repo"]
        location = request.url.with_path(f"{CODELOAD}{owner}/{repo}/legacy.tar.gz/{commit}").with_query(token=token)
        return web.Response(status=302, headers={"Location": str(location)})

    async def download_tarball(self, request: web.Request) -> web.Response:
        """The archive, made by `git archive` (which honours export-ignore and export-subst as GitHub does)."""
        if self.downloads.get(request.query.get("token", ""), 0) < time.time():
            return web.Response(status=404, text="Not Found")
        owner, repo, sha = request.match_info["owner"], request.match_info["repo"], request.match_info["sha"]
        store = self.repos[f"{owner}/{repo}"]
        prefix = f"{owner}-{repo}-{sha[:7]}/"
        data = store.git("archive", "--format=tar.gz", f"--prefix={prefix}", sha)
        if self.archive_edit is not None:
            data = self.archive_edit(data)
        return web.Response(body=data, content_type="application/x-gzip")

    async def create_commit(self, request: web.Request) -> web.Response:
        _, store = self._store(request)
        data = await request.json()
        verified = "author" not in data and "committer" not in data  # GitHub signs the App's own commits
        sha = store.commit(data["tree"], data.get("parents", []), data["message"])
        if verified:
            self.verified.add(sha)
        self._lose_answer(request)
        return self._json(request, self._commit_json(request, store, sha, verified), 201)

    def _commit_json(self, request: web.Request, store: Store, sha: str, verified: bool) -> dict[str, Any]:
        info = store.commit_info(sha)
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(store.clock))
        person = {"date": when, "name": "GitHub", "email": "noreply@github.com"}
        return {
            "sha": sha,
            "node_id": "C_" + sha[:8],
            "url": self._url(request, f"git/commits/{sha}"),
            "html_url": f"https://github.com/{request.match_info['owner']}/{request.match_info['repo']}/commit/{sha}",
            "author": person,
            "committer": person,
            "message": info["message"],
            "tree": {"sha": info["tree"], "url": self._url(request, f"git/trees/{info['tree']}")},
            "parents": [
                {"sha": p, "url": self._url(request, f"git/commits/{p}"), "html_url": f"https://github.com/commit/{p}"}
                for p in info["parents"]
            ],  # type: ignore[attr-defined]
            "verification": {
                "verified": verified,
                "reason": "valid" if verified else "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": when if verified else None,
            },
        }

    def _page(self, request: web.Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        """One page of items as GitHub pages them (per_page, page), and the Link header to the next."""
        per_page = min(int(request.query.get("per_page", "30")), 100, self.page_size)
        page = int(request.query.get("page", "1"))
        found = items[(page - 1) * per_page : page * per_page]
        if page * per_page >= len(items):
            return found, {}
        following = request.url.update_query(page=str(page + 1), per_page=str(per_page))
        return found, {"Link": f'<{following}>; rel="next"'}

    def _app_jwt(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            claims = jwt.decode(
                token, self.public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}
            )
        except jwt.PyJWTError:
            raise web.HTTPUnauthorized(reason="A JSON web token could not be decoded") from None
        if scheme.lower() != "bearer" or claims["iss"] != self.app_id:
            raise web.HTTPUnauthorized(reason="Bad credentials")

    async def list_installations(self, request: web.Request) -> web.Response:
        self._app_jwt(request)
        data = spec.example("base-installation-items")[0]
        data.update(id=self.installation, app_id=int(self.app_id))
        # the schema's account is a user and an enterprise at once (allOf): add what an enterprise requires
        data["account"].update(name="Octo", slug="octo", created_at=None, updated_at=None)
        found, headers = self._page(request, [data])
        response = self._json(request, found)
        response.headers.update(headers)
        return response

    async def list_installation_repos(self, request: web.Request) -> web.Response:
        self._auth(request)
        template = spec.example("repository-paginated-2")["repositories"][0]
        repos = []
        for number, name in enumerate(sorted(self.repos), 1):
            owner, repo = name.split("/")
            item = {**template, "id": number, "name": repo, "full_name": name, "archived": False, "disabled": False}
            item["owner"] = {**template["owner"], "login": owner}
            item["default_branch"] = self.default_branch[name]
            repos.append(item)
        found, headers = self._page(request, repos)
        response = self._json(request, {"total_count": len(repos), "repositories": found})
        response.headers.update(headers)
        return response
