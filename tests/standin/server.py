"""The GitHub stand-in: the endpoints repodoc calls, over bare git repositories on loopback.

Every request it receives and every response it sends is checked against GitHub's OpenAPI
description; what fails the check, and any endpoint it does not know, is recorded in `errors`
(the tests' fixture fails on any). Installation tokens are issued only for a JWT that verifies
with the App's public key. Paths are decoded once, as GitHub decodes them: `git/ref/heads/feature%23x`
names the branch `feature#x`, `heads/a%2541b` the branch `a%41b` (aiohttp's match_info does this).
"""

from __future__ import annotations

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
from .gitstore import GitError, Store

API = "https://api.github.com"
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


@dataclass
class Fault:
    """Answer the next `times` matching requests with `status` (for retry tests)."""

    method: str
    path_prefix: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)


class GitHubStandIn:
    """State of the fake GitHub: repositories, pull requests, tokens, and what was asked of it."""

    def __init__(self, root: Path, app_id: str, public_key: str) -> None:
        self.root = root
        self.app_id = app_id
        self.public_key = public_key
        self.repos: dict[str, Store] = {}
        self.default_branch: dict[str, str] = {}
        self.pulls: dict[str, list[dict[str, Any]]] = {}
        self.comments: list[dict[str, Any]] = []
        self.check_runs: list[dict[str, Any]] = []
        self.tokens: dict[str, float] = {}
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        self.faults: list[Fault] = []
        self.not_modified = 0  # conditional GETs answered 304
        self.tree_limit = 100_000  # entries in one recursive tree listing (GitHub's; tests set less)
        self.downloads: dict[str, float] = {}  # archive download tokens -> expiry (GitHub: five minutes)
        self.archive_edit: Callable[[bytes], bytes] | None = None  # tests: alter the archive as served
        self.manifests = ManifestFlow(self)

    # -- set-up used by tests ---------------------------------------------------------------
    def add_repo(self, full_name: str, default_branch: str = "main") -> Store:
        store = Store(self.root / (full_name.replace("/", "__") + ".git"))
        self.repos[full_name] = store
        self.default_branch[full_name] = default_branch
        self.pulls[full_name] = []
        return store

    def open_pulls(self, full_name: str) -> list[dict[str, Any]]:
        return [p for p in self.pulls[full_name] if p["state"] == "open"]

    # -- the application ------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._check], client_max_size=100 * 1024 * 1024)
        r = app.router
        r.add_post("/app/installations/{id}/access_tokens", self.access_token)
        r.add_get("/repos/{owner}/{repo}", self.get_repo)
        r.add_get("/repos/{owner}/{repo}/git/ref/{ref:.+}", self.get_ref)
        r.add_post("/repos/{owner}/{repo}/git/refs", self.create_ref)
        r.add_patch("/repos/{owner}/{repo}/git/refs/{ref:.+}", self.update_ref)
        r.add_get("/repos/{owner}/{repo}/git/trees/{sha}", self.get_tree)
        r.add_post("/repos/{owner}/{repo}/git/trees", self.create_tree)
        r.add_get("/repos/{owner}/{repo}/git/blobs/{sha}", self.get_blob)
        r.add_get("/repos/{owner}/{repo}/tarball/{ref:.+}", self.get_tarball)
        r.add_get(CODELOAD + "{owner}/{repo}/legacy.tar.gz/{sha}", self.download_tarball)
        r.add_post("/repos/{owner}/{repo}/git/commits", self.create_commit)
        r.add_get("/repos/{owner}/{repo}/pulls", self.list_pulls)
        r.add_post("/repos/{owner}/{repo}/pulls", self.create_pull)
        r.add_patch("/repos/{owner}/{repo}/pulls/{number}", self.update_pull)
        r.add_post("/repos/{owner}/{repo}/issues/{number}/comments", self.create_comment)
        r.add_post("/repos/{owner}/{repo}/check-runs", self.create_check_run)
        r.add_post("/app-manifests/{code}/conversions", self.manifests.conversion)
        return app

    @web.middleware
    async def _check(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Recorded(request.method, request.path_qs, len(body), body))
        if request.path.startswith(CODELOAD):
            return await handler(request)
        checked = spec.Request(
            request.method,
            request.path,
            dict(request.query),
            dict(request.headers),
            body,
            request.content_type if body else "",
        )
        problem = spec.check_request(checked)
        if problem:
            self.errors.append(f"request {request.method} {request.path_qs}: {problem}")
            return web.json_response({"message": "Not Found"}, status=404)
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

    def _error(self, status: int, message: str) -> web.Response:
        return web.json_response({"message": message, "documentation_url": f"{API}/docs"}, status=status)

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
        _, store = self._store(request)
        data = await request.json()
        if store.resolve(data["ref"]) is not None:
            return self._error(422, "Reference already exists")
        store.set_ref(data["ref"], data["sha"])
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
        store.set_ref(ref, data["sha"])
        return self._json(request, self._ref_json(request, ref, data["sha"]))

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

    def _pull_json(self, request: web.Request, name: str, pull: dict[str, Any], simple: bool) -> dict[str, Any]:
        data = spec.example("pull-request-simple-items")[0] if simple else spec.example("pull-request")
        store = self.repos[name]
        # what the App never set stays empty (the published example's team lacks a field the schema requires)
        data.update(requested_teams=[], requested_reviewers=[], assignees=[], assignee=None, labels=[], milestone=None)
        data.update(
            number=pull["number"],
            state=pull["state"],
            title=pull["title"],
            body=pull["body"],
            url=self._url(request, f"pulls/{pull['number']}"),
            html_url=f"https://github.com/{name}/pull/{pull['number']}",
        )
        owner = request.match_info["owner"]
        for side in ("head", "base"):
            data[side].update(
                ref=pull[side], label=f"{owner}:{pull[side]}", sha=store.resolve("refs/heads/" + pull[side]) or "0" * 40
            )
        return data

    async def list_pulls(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)
        state, head = request.query.get("state", "open"), request.query.get("head")
        found = [
            p
            for p in self.pulls[name]
            if state in ("all", p["state"])
            and (head is None or head in (p["head"], f"{request.match_info['owner']}:{p['head']}"))
        ]
        return self._json(request, [self._pull_json(request, name, p, True) for p in found])

    async def create_pull(self, request: web.Request) -> web.Response:
        name, store = self._store(request)
        data = await request.json()
        if store.resolve("refs/heads/" + data["head"]) is None:
            return self._error(422, "Validation Failed: head does not exist")
        if any(p["head"] == data["head"] and p["state"] == "open" for p in self.pulls[name]):
            return self._error(422, f"A pull request already exists for {data['head']}.")
        pull = {
            "number": len(self.pulls[name]) + 1,
            "state": "open",
            "title": data["title"],
            "body": data.get("body", ""),
            "head": data["head"],
            "base": data["base"],
        }
        self.pulls[name].append(pull)
        return self._json(request, self._pull_json(request, name, pull, False), 201)

    async def update_pull(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)
        number = int(request.match_info["number"])
        pull = next((p for p in self.pulls[name] if p["number"] == number), None)
        if pull is None:
            return self._error(404, "Not Found")
        data = await request.json()
        pull.update({k: v for k, v in data.items() if k in ("title", "body", "state")})
        return self._json(request, self._pull_json(request, name, pull, False))

    async def create_comment(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)
        data = await request.json()
        comment = {"number": int(request.match_info["number"]), "body": data["body"], "repo": name}
        self.comments.append(comment)
        out = spec.example("issue-comment")
        out["body"] = data["body"]
        return self._json(request, out, 201)

    async def create_check_run(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)
        data = await request.json()
        self.check_runs.append({**data, "repo": name})
        out = spec.example("check-run-example-of-completed-conclusion")
        out.update(
            name=data["name"],
            head_sha=data["head_sha"],
            status=data.get("status", "queued"),
            conclusion=data.get("conclusion"),
        )
        return self._json(request, out, 201)
