"""The stand-in's pull requests, issue comments, reactions, collaborator permissions and `GET /app`.

Pull requests are plain dicts in `GitHubStandIn.pulls[full_name]` (tests read and even append them):
`number, state, title, body, head` (the head branch's name), `base` (the base branch's name), and, filled in
on every access for pulls a test appended by hand, `head_repo` (the fork's full name; the repository's own
for a same-repository pull), `head_sha`, `user` ({login, type}), `merged`, `merged_at`, `closed_at`,
`merge_commit_sha`, `created_at`, `updated_at`. An open same-repository pull's head sha follows its head
branch (and `refs/pull/N/head` with it), as GitHub's does; a fork pull's head is `refs/pull/N/head` of the
base repository, where GitHub keeps it.

GitHub's answers, from https://docs.github.com/en/rest/pulls/pulls, /rest/issues/comments,
/rest/reactions/reactions, /rest/collaborators/collaborators and the messages GitHub sends (quoted in the
issue trackers of peter-evans/create-pull-request, tgymnich/fork-sync, danger/danger …).
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import spec

if TYPE_CHECKING:
    from .gitstore import Store

API = "https://api.github.com"
BODY_LIMIT = 65_536  # characters in a pull request or issue comment body
BOT = {"login": "repodoc[bot]", "type": "Bot"}  # who acts with an installation token
APP_SLUG = "repodoc"
ROLES = ("admin", "maintain", "write", "triage", "read")
LEGACY = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def stamp(when: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if when is None else when))


def user_json(login: str, kind: str = "User") -> dict[str, Any]:
    """A simple-user as GitHub answers it."""
    data = spec.example("simple-user")
    ident = int(hashlib.sha1(login.encode()).hexdigest()[:7], 16)
    data.update(
        login=login,
        id=ident,
        node_id=f"U_{ident}",
        type=kind,
        url=f"{API}/users/{login}",
        html_url=f"https://github.com/{login}" if kind != "Bot" else f"https://github.com/apps/{APP_SLUG}",
    )
    return data


def validation_failed(resource: str, **error: str) -> dict[str, Any]:
    return {"message": "Validation Failed", "errors": [{"resource": resource, **error}]}


class Conversation:
    """Routes and test helpers of GitHubStandIn for pull requests, comments, reactions and permissions."""

    # provided by GitHubStandIn
    repos: dict[str, Store]
    pulls: dict[str, list[dict[str, Any]]]
    comments: list[dict[str, Any]]
    reactions: list[dict[str, Any]]
    permissions: dict[tuple[str, str], str]
    users: dict[str, str]
    private: set[str]
    app_id: str
    one_pull_per_head: bool

    # -- state ------------------------------------------------------------------------------
    def _sync(self, full_name: str, pull: dict[str, Any]) -> dict[str, Any]:
        """Fill what a hand-made pull lacks; an open same-repository pull's head follows its branch."""
        store = self.repos[full_name]
        pull.setdefault("head_repo", full_name)
        pull.setdefault("user", {"login": "octocat", "type": "User"})
        pull.setdefault("merged", False)
        pull.setdefault("merged_at", None)
        pull.setdefault("closed_at", None)
        pull.setdefault("merge_commit_sha", None)
        pull.setdefault("created_at", stamp())
        pull.setdefault("updated_at", pull["created_at"])
        pull.setdefault("seq", self._next_seq())
        pull.setdefault("updated_seq", pull["seq"])
        pull.setdefault("comments_count", 0)
        if pull["state"] == "open" and pull["head_repo"] == full_name:
            sha = store.resolve("refs/heads/" + pull["head"])
            if sha is not None and sha != pull.get("head_sha"):
                pull["head_sha"] = sha
                store.set_ref(f"refs/pull/{pull['number']}/head", sha)
        if "head_sha" not in pull:
            pull["head_sha"] = store.resolve(f"refs/pull/{pull['number']}/head") or "0" * 40
        return pull

    def _next_seq(self) -> int:
        self.seq: int = getattr(self, "seq", 0) + 1
        return self.seq

    def _touch(self, pull: dict[str, Any]) -> None:
        pull["updated_at"] = stamp()
        pull["updated_seq"] = self._next_seq()

    def pull(self, full_name: str, number: int) -> dict[str, Any] | None:
        """The stored pull request `number` (its head sha read now), or None."""
        found = next((p for p in self.pulls[full_name] if p["number"] == number), None)
        return None if found is None else self._sync(full_name, found)

    def _number(self, full_name: str) -> int:
        """Issues and pull requests share one sequence of numbers (the stand-in has pull requests only)."""
        return max((p["number"] for p in self.pulls[full_name]), default=0) + 1

    def _known(self, login: str) -> bool:
        return login in self.users or any(who == login for _, who in self.permissions)

    def _association(self, full_name: str, login: str) -> str:
        if login == full_name.split("/")[0]:
            return "OWNER"
        return "COLLABORATOR" if (full_name, login) in self.permissions else "NONE"

    # -- test helpers (a person acting on github.com) ---------------------------------------
    def open_user_pull(
        self,
        full_name: str,
        head: str,
        base: str,
        *,
        fork: str | None = None,
        sha: str | None = None,
        user: str = "octocat",
        title: str = "A change",
        body: str = "",
    ) -> dict[str, Any]:
        """A person's pull request from `head` (a branch of the repository, or of `fork`) into `base`.
        A fork's head commit (`sha`) must already be in the base repository's store: GitHub keeps it
        under `refs/pull/N/head`, as it does a same-repository pull's head."""
        store = self.repos[full_name]
        assert store.resolve("refs/heads/" + base) is not None, f"no base branch {base}"
        number = self._number(full_name)
        if fork is None:
            sha = store.resolve("refs/heads/" + head)
            assert sha is not None, f"no head branch {head}"
        else:
            assert sha is not None and store.resolve(sha + "^{commit}") == sha, "a fork's head commit must be stored"
        store.set_ref(f"refs/pull/{number}/head", sha)
        self.users.setdefault(user, "User")
        when = stamp()
        pull = {
            "number": number,
            "state": "open",
            "title": title,
            "body": body,
            "head": head,
            "base": base,
            "head_repo": fork or full_name,
            "head_sha": sha,
            "user": {"login": user, "type": "User"},
            "created_at": when,
            "updated_at": when,
        }
        self.pulls[full_name].append(pull)
        return self._sync(full_name, pull)

    def push_fork_pull(self, full_name: str, number: int, sha: str) -> None:
        """The fork's author pushed `sha` (already in the store) to the fork pull's head branch."""
        pull = self.pull(full_name, number)
        assert pull is not None and pull["head_repo"] != full_name
        self.repos[full_name].set_ref(f"refs/pull/{number}/head", sha)
        pull["head_sha"] = sha
        self._touch(pull)

    def close_pull(self, full_name: str, number: int) -> dict[str, Any]:
        """A person closes the pull request without merging it."""
        pull = self.pull(full_name, number)
        assert pull is not None and pull["state"] == "open"
        pull.update(state="closed", closed_at=stamp())
        self._touch(pull)
        return pull

    def merge_pull(self, full_name: str, number: int) -> str:
        """Merge as GitHub's merge button does: a merge commit on the base (never a fast-forward); the
        pull closed and merged. Returns the merge commit."""
        pull = self.pull(full_name, number)
        assert pull is not None and pull["state"] == "open", f"#{number} is not open"
        store = self.repos[full_name]
        base = store.resolve("refs/heads/" + pull["base"])
        assert base is not None
        head = pull["head_sha"]
        tree = store.git("merge-tree", "--write-tree", base, head).decode().split()[0]
        owner = pull["head_repo"].split("/")[0]
        merge = store.commit(tree, [base, head], f"Merge pull request #{number} from {owner}/{pull['head']}")
        store.set_ref("refs/heads/" + pull["base"], merge)
        when = stamp()
        pull.update(state="closed", merged=True, merged_at=when, closed_at=when, merge_commit_sha=merge)
        self._touch(pull)
        return merge

    def add_comment(
        self, full_name: str, number: int, body: str, *, user: str = "octocat", user_type: str = "User"
    ) -> dict[str, Any]:
        """A person's comment on pull request `number`; the stored comment."""
        assert self.pull(full_name, number) is not None, f"no pull request #{number}"
        self.users.setdefault(user, user_type)
        return self._store_comment(full_name, number, body, {"login": user, "type": user_type})

    def _store_comment(self, full_name: str, number: int, body: str, user: dict[str, str]) -> dict[str, Any]:
        when = stamp()
        comment = {
            "id": 1_000_000 + len(self.comments) + 1,
            "number": number,
            "body": body,
            "repo": full_name,
            "user": dict(user),
            "created_at": when,
            "updated_at": when,
        }
        self.comments.append(comment)
        pull = self.pull(full_name, number)
        if pull is not None:
            pull["comments_count"] += 1
        return comment

    # -- JSON --------------------------------------------------------------------------------
    def pull_json(self, full_name: str, pull: dict[str, Any], simple: bool = False) -> dict[str, Any]:
        """A pull request as the REST API answers it (`simple`: as listed)."""
        pull = self._sync(full_name, pull)
        data = spec.example("pull-request-simple-items")[0] if simple else spec.example("pull-request")
        store = self.repos[full_name]
        number = pull["number"]
        # what the App never set stays empty (the published example's team lacks a field the schema requires)
        data.update(requested_teams=[], requested_reviewers=[], assignees=[], assignee=None, labels=[], milestone=None)
        url = f"{API}/repos/{full_name}/pulls/{number}"
        data.update(
            id=number,
            number=number,
            state=pull["state"],
            title=pull["title"],
            body=pull["body"],
            url=url,
            html_url=f"https://github.com/{full_name}/pull/{number}",
            diff_url=f"https://github.com/{full_name}/pull/{number}.diff",
            patch_url=f"https://github.com/{full_name}/pull/{number}.patch",
            issue_url=f"{API}/repos/{full_name}/issues/{number}",
            user=user_json(pull["user"]["login"], pull["user"]["type"]),
            author_association=self._association(full_name, pull["user"]["login"]),
            created_at=pull["created_at"],
            updated_at=pull["updated_at"],
            closed_at=pull["closed_at"],
            merged_at=pull["merged_at"],
            merge_commit_sha=pull["merge_commit_sha"],
            draft=False,
        )
        if not simple:
            data.update(merged=pull["merged"], comments=pull["comments_count"], merged_by=None)
            if pull["state"] != "open":
                data.update(mergeable=None, mergeable_state="unknown")
        sides = {
            "head": (pull["head"], pull["head_repo"], pull["head_sha"]),
            "base": (pull["base"], full_name, store.resolve("refs/heads/" + pull["base"]) or "0" * 40),
        }
        for side, (ref, repo, sha) in sides.items():
            owner = repo.split("/")[0]
            data[side].update(ref=ref, label=f"{owner}:{ref}", sha=sha, user=user_json(owner, "Organization"))
            data[side]["repo"].update(
                full_name=repo,
                name=repo.split("/")[1],
                fork=repo != full_name,
                owner=user_json(owner, "Organization"),
                url=f"{API}/repos/{repo}",
                html_url=f"https://github.com/{repo}",
                private=full_name in self.private,
                default_branch=getattr(self, "default_branch", {}).get(repo, "main"),
            )
        return data

    def comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        data = spec.example("issue-comment")
        name, number, ident = comment["repo"], comment["number"], comment["id"]
        data.update(
            id=ident,
            node_id=f"IC_{ident}",
            body=comment["body"],
            url=f"{API}/repos/{name}/issues/comments/{ident}",
            html_url=f"https://github.com/{name}/pull/{number}#issuecomment-{ident}",
            issue_url=f"{API}/repos/{name}/issues/{number}",
            user=user_json(comment["user"]["login"], comment["user"]["type"]),
            created_at=comment["created_at"],
            updated_at=comment["updated_at"],
            author_association=self._association(name, comment["user"]["login"]),
        )
        if comment["user"]["type"] == "Bot" and "performed_via_github_app" in data:
            data["performed_via_github_app"] = None
        return data

    # -- pull request routes ----------------------------------------------------------------
    def _pull_or_404(self, request: web.Request, name: str) -> dict[str, Any]:
        try:
            number = int(request.match_info["number"])
        except ValueError:
            raise web.HTTPNotFound(reason="Not Found") from None
        pull = self.pull(name, number)
        if pull is None:
            raise web.HTTPNotFound(reason="Not Found")
        return pull

    async def get_pull(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)  # type: ignore[attr-defined]
        pull = self._pull_or_404(request, name)
        return self._json(request, self.pull_json(name, pull))  # type: ignore[attr-defined]

    async def list_pulls(self, request: web.Request) -> web.Response:
        """state (default open), head `owner:branch` (GitHub ignores a head without its owner), base,
        sort (created, updated, popularity, long-running) and direction (desc for created, else asc),
        a page at a time."""
        name, _ = self._store(request)  # type: ignore[attr-defined]
        query = request.query
        state, head, base = query.get("state", "open"), query.get("head"), query.get("base")
        found = []
        for pull in self.pulls[name]:
            pull = self._sync(name, pull)
            if state not in ("all", pull["state"]) or (base is not None and base != pull["base"]):
                continue
            if head is not None and ":" in head:
                owner, _, branch = head.partition(":")
                if (owner, branch) != (pull["head_repo"].split("/")[0], pull["head"]):
                    continue
            found.append(pull)
        sort = query.get("sort", "created")
        direction = query.get("direction", "desc" if sort == "created" else "asc")
        key = {
            "created": lambda p: p["seq"],
            "long-running": lambda p: p["seq"],
            "updated": lambda p: p["updated_seq"],
            "popularity": lambda p: (p["comments_count"], p["seq"]),
        }[sort]
        found.sort(key=key, reverse=direction == "desc")
        page, headers = self._page(request, found)  # type: ignore[attr-defined]
        response = self._json(request, [self.pull_json(name, p, True) for p in page])  # type: ignore[attr-defined]
        response.headers.update(headers)
        return response

    def _no_branch(self, side: str) -> web.Response:
        return web.json_response(
            {**validation_failed("PullRequest", field=side, code="invalid"), "documentation_url": f"{API}/docs"},
            status=422,
        )

    def _custom(self, message: str, field: str | None = None, resource: str = "PullRequest") -> web.Response:
        error = {"code": "custom", **({"field": field} if field else {}), "message": message}
        return web.json_response(
            {**validation_failed(resource, **error), "documentation_url": f"{API}/docs"}, status=422
        )

    async def create_pull(self, request: web.Request) -> web.Response:
        """Opened by the App's bot user. 422 as GitHub: head or base no branch (`field: head|base, code:
        invalid`), "No commits between BASE and HEAD", "A pull request already exists for OWNER:HEAD."
        (an open one with that head and base: GitHub allows one head into several bases), a body past
        65,536 characters."""
        name, store = self._store(request)  # type: ignore[attr-defined]
        data = await request.json()
        owner = name.split("/")[0]
        head = data["head"]
        if ":" in head:
            head_owner, _, head = head.partition(":")
            if head_owner != owner:  # the stand-in keeps no forks the App could name
                return self._no_branch("head")
        if len(data.get("body") or "") > BODY_LIMIT:
            return self._body_too_long("PullRequest")
        base_sha = store.resolve("refs/heads/" + data["base"])
        head_sha = store.resolve("refs/heads/" + head)
        if base_sha is None:
            return self._no_branch("base")
        if head_sha is None:
            return self._no_branch("head")
        if any(
            p["head"] == head
            and (p["base"] == data["base"] or self.one_pull_per_head)
            and p["state"] == "open"
            and p["head_repo"] == name
            for p in (self._sync(name, p) for p in self.pulls[name])
        ):
            return self._custom(f"A pull request already exists for {owner}:{head}.")
        if not int(store.git("rev-list", "--count", f"{base_sha}..{head_sha}").decode()):
            return self._custom(f"No commits between {data['base']} and {head}")
        when = stamp()
        pull = {
            "number": self._number(name),
            "state": "open",
            "title": data["title"],
            "body": data.get("body") or "",
            "head": head,
            "base": data["base"],
            "head_repo": name,
            "user": dict(BOT),
            "created_at": when,
            "updated_at": when,
        }
        self.pulls[name].append(pull)
        self._sync(name, pull)
        self._lose_answer(request)  # type: ignore[attr-defined]
        return self._json(request, self.pull_json(name, pull), 201)  # type: ignore[attr-defined]

    def _body_too_long(self, resource: str) -> web.Response:
        return self._custom(f"body is too long (maximum is {BODY_LIMIT} characters)", "body", resource)

    async def update_pull(self, request: web.Request) -> web.Response:
        """title, body, state (closed; open reopens), base (an existing branch; not of a closed pull)."""
        name, store = self._store(request)  # type: ignore[attr-defined]
        pull = self._pull_or_404(request, name)
        data = await request.json()
        if len(data.get("body") or "") > BODY_LIMIT:
            return self._body_too_long("PullRequest")
        if "base" in data and data["base"] != pull["base"]:
            if pull["state"] != "open":
                return self._custom("Cannot change the base branch of a closed pull request.", "base")
            if store.resolve("refs/heads/" + data["base"]) is None:
                return self._no_branch("base")
        if data.get("state") == "open" and pull["state"] == "closed":
            if pull["merged"]:
                return self._custom("state cannot be changed. The pull request has been merged.", "state")
            if pull["head_repo"] == name and store.resolve("refs/heads/" + pull["head"]) is None:
                return self._custom("state cannot be changed. The head branch was deleted.", "state")
        if data.get("state") == "closed" and pull["state"] == "open":
            pull["closed_at"] = stamp()
        if data.get("state") == "open" and pull["state"] == "closed":
            pull["closed_at"] = None
        pull.update({k: v for k, v in data.items() if k in ("title", "body", "state", "base")})
        self._touch(pull)
        return self._json(request, self.pull_json(name, pull))  # type: ignore[attr-defined]

    # -- comments ------------------------------------------------------------------------------
    def _comment_or_404(self, request: web.Request, name: str) -> dict[str, Any]:
        ident = request.match_info["comment_id"]
        found = next((c for c in self.comments if c["repo"] == name and str(c["id"]) == ident), None)
        if found is None:
            raise web.HTTPNotFound(reason="Not Found")
        return found

    async def create_comment(self, request: web.Request) -> web.Response:
        """By the App's bot user, on an existing pull request (404 otherwise); 422 past 65,536 characters."""
        name, _ = self._store(request)  # type: ignore[attr-defined]
        number = int(request.match_info["number"])
        if self.pull(name, number) is None:
            return self._error(404, "Not Found")  # type: ignore[attr-defined]
        data = await request.json()
        if len(data["body"]) > BODY_LIMIT:
            return self._body_too_long("IssueComment")
        comment = self._store_comment(name, number, data["body"], BOT)
        self._lose_answer(request)  # type: ignore[attr-defined]
        return self._json(request, self.comment_json(comment), 201)  # type: ignore[attr-defined]

    async def list_comments(self, request: web.Request) -> web.Response:
        """Oldest first, `since` (updated at or after), a page at a time, as GitHub lists them."""
        name, _ = self._store(request)  # type: ignore[attr-defined]
        number = int(request.match_info["number"])
        since = request.query.get("since", "")
        found = [
            self.comment_json(c)
            for c in self.comments
            if c["repo"] == name and c["number"] == number and c["updated_at"] >= since
        ]
        page, headers = self._page(request, found)  # type: ignore[attr-defined]
        response = self._json(request, page)  # type: ignore[attr-defined]
        response.headers.update(headers)
        return response

    async def get_comment(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)  # type: ignore[attr-defined]
        return self._json(request, self.comment_json(self._comment_or_404(request, name)))  # type: ignore[attr-defined]

    # -- reactions -----------------------------------------------------------------------------
    def reaction_json(self, reaction: dict[str, Any]) -> dict[str, Any]:
        data = spec.example("reaction")
        data.update(
            id=reaction["id"],
            node_id=f"REA_{reaction['id']}",
            content=reaction["content"],
            user=user_json(reaction["user"]["login"], reaction["user"]["type"]),
            created_at=reaction["created_at"],
        )
        return data

    async def create_reaction(self, request: web.Request) -> web.Response:
        """201 with the new reaction; 200 with the one there when the user already reacted so."""
        name, _ = self._store(request)  # type: ignore[attr-defined]
        comment = self._comment_or_404(request, name)
        content = (await request.json())["content"]
        for reaction in self.reactions:
            if (
                reaction["comment_id"] == comment["id"]
                and reaction["content"] == content
                and reaction["user"]["login"] == BOT["login"]
            ):
                return self._json(request, self.reaction_json(reaction), 200)  # type: ignore[attr-defined]
        reaction = {
            "id": len(self.reactions) + 1,
            "comment_id": comment["id"],
            "content": content,
            "user": dict(BOT),
            "repo": name,
            "created_at": stamp(),
        }
        self.reactions.append(reaction)
        self._lose_answer(request)  # type: ignore[attr-defined]
        return self._json(request, self.reaction_json(reaction), 201)  # type: ignore[attr-defined]

    async def list_reactions(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)  # type: ignore[attr-defined]
        comment = self._comment_or_404(request, name)
        content = request.query.get("content")
        found = [
            self.reaction_json(r)
            for r in self.reactions
            if r["comment_id"] == comment["id"] and content in (None, r["content"])
        ]
        page, headers = self._page(request, found)  # type: ignore[attr-defined]
        response = self._json(request, page)  # type: ignore[attr-defined]
        response.headers.update(headers)
        return response

    # -- permissions and the App -----------------------------------------------------------------
    async def collaborator_permission(self, request: web.Request) -> web.Response:
        """`permission`: admin, write, read or none (maintain shown as write, triage as read); `role_name`:
        the role itself. Someone with no role: read on a public repository, none on a private one; a
        login that is nobody's: 404."""
        name, _ = self._store(request)  # type: ignore[attr-defined]
        login = request.match_info["username"]
        if not self._known(login):
            return self._error(404, "Not Found")  # type: ignore[attr-defined]
        role = self.permissions.get((name, login))
        if role is None:
            role = "none" if name in self.private else "read"
            permission = role
        else:
            permission = LEGACY[role]
        user = user_json(login, self.users.get(login, "User"))
        user["role_name"] = role
        return self._json(request, {"permission": permission, "role_name": role, "user": user})  # type: ignore[attr-defined]

    async def get_app(self, request: web.Request) -> web.Response:
        """The App itself, for its JWT."""
        self._app_jwt(request)  # type: ignore[attr-defined]
        data = spec.example("integration")
        data.update(
            id=int(self.app_id),
            slug=APP_SLUG,
            name=APP_SLUG,
            html_url=f"https://github.com/apps/{APP_SLUG}",
            installations_count=1,
        )
        return self._json(request, data)  # type: ignore[attr-defined]
