"""The stand-in's check runs (https://docs.github.com/en/rest/checks/runs).

`GitHubStandIn.check_runs` holds one dict per run: `id, repo, name, head_sha, status, conclusion,
output {title, summary, text}, started_at, completed_at, details_url, external_id`; `check_run_log` one
`{id, action: created|updated, status, conclusion}` per create and update, in order.

GitHub's refusals: a `conclusion` makes the run completed, and a completed run needs one ("conclusion"
wasn't supplied); only GitHub sets `stale`; an update's output needs a title; summary and text hold at
most 65,535 bytes ("summary exceeds a maximum bytesize of 65535", github/docs#35252). Past the description's
own limits (maxLength, enums, required fields) the middleware refuses first, with GitHub's "Invalid request."
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import spec
from .conversation import API, APP_SLUG, stamp

if TYPE_CHECKING:
    from .gitstore import Store

OUTPUT_LIMIT = 65_535  # bytes of output.summary and output.text
SETTABLE = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out")


def invalid(message: str) -> web.Response:
    return web.json_response(
        {"message": f"Invalid request.\n\n{message}", "documentation_url": f"{API}/docs"}, status=422
    )


class Checks:
    """Routes of GitHubStandIn for check runs."""

    repos: dict[str, Store]
    pulls: dict[str, list[dict[str, Any]]]
    check_runs: list[dict[str, Any]]
    check_run_log: list[dict[str, Any]]
    app_id: str

    def _refusal(self, data: dict[str, Any], run: dict[str, Any] | None) -> web.Response | None:
        conclusion = data.get("conclusion")
        if conclusion is not None and conclusion not in SETTABLE:
            return invalid(f"For 'properties/conclusion', {conclusion!r} is not a conclusion an App may set.")
        completing = data.get("status") == "completed" or "completed_at" in data
        if completing and conclusion is None and (run is None or run.get("conclusion") is None):
            return invalid('"conclusion" wasn\'t supplied.')
        output = data.get("output")
        if output is not None:
            if not output.get("title") and (run is None or not run["output"].get("title")):
                return invalid('"title" wasn\'t supplied.')
            for part in ("summary", "text"):
                if len((output.get(part) or "").encode()) > OUTPUT_LIMIT:
                    error = {"resource": "CheckRun", "code": "custom", "field": part}
                    error["message"] = f"{part} exceeds a maximum bytesize of {OUTPUT_LIMIT}"
                    return web.json_response(
                        {"message": "Validation Failed", "errors": [error], "documentation_url": f"{API}/docs"},
                        status=422,
                    )
        return None

    def _apply(self, run: dict[str, Any], data: dict[str, Any]) -> None:
        for key in ("name", "details_url", "external_id", "started_at", "completed_at", "status"):
            if key in data:
                run[key] = data[key]
        if data.get("conclusion") is not None:
            run.update(conclusion=data["conclusion"], status="completed")
        if run["status"] == "completed":
            run["completed_at"] = run.get("completed_at") or stamp()
        if run["status"] in ("in_progress", "completed"):
            run["started_at"] = run.get("started_at") or stamp()
        if "output" in data:
            run["output"].update({k: data["output"][k] for k in ("title", "summary", "text") if k in data["output"]})

    def _log(self, run: dict[str, Any], action: str) -> None:
        self.check_run_log.append(
            {"id": run["id"], "action": action, "status": run["status"], "conclusion": run["conclusion"]}
        )

    def check_run_json(self, run: dict[str, Any]) -> dict[str, Any]:
        data = spec.example("check-run-example-of-completed-conclusion")
        name, ident = run["repo"], run["id"]
        data.update(
            id=ident,
            node_id=f"CR_{ident}",
            url=f"{API}/repos/{name}/check-runs/{ident}",
            html_url=f"https://github.com/{name}/runs/{ident}",
            name=run["name"],
            head_sha=run["head_sha"],
            status=run["status"],
            conclusion=run["conclusion"],
            started_at=run["started_at"],
            completed_at=run["completed_at"],
            details_url=run["details_url"],
            external_id=run["external_id"],
        )
        data["output"].update(
            title=run["output"]["title"],
            summary=run["output"]["summary"],
            text=run["output"]["text"],
            annotations_count=0,
            annotations_url=f"{API}/repos/{name}/check-runs/{ident}/annotations",
        )
        data["check_suite"] = {"id": run["suite"]}
        data["app"].update(id=int(self.app_id), slug=APP_SLUG, name=APP_SLUG)
        data["pull_requests"] = self._run_pulls(name, run["head_sha"])
        return data

    def _run_pulls(self, name: str, sha: str) -> list[dict[str, Any]]:
        """Open same-repository pull requests whose head is sha (GitHub lists no fork's)."""
        found = []
        store = self.repos[name]
        for pull in self.pulls[name]:
            pull = self._sync(name, pull)  # type: ignore[attr-defined]
            if pull["state"] != "open" or pull["head_repo"] != name or pull["head_sha"] != sha:
                continue
            repo = {"id": 1, "url": f"{API}/repos/{name}", "name": name.split("/")[1]}
            found.append(
                {
                    "id": pull["number"],
                    "number": pull["number"],
                    "url": f"{API}/repos/{name}/pulls/{pull['number']}",
                    "head": {"ref": pull["head"], "sha": pull["head_sha"], "repo": repo},
                    "base": {
                        "ref": pull["base"],
                        "sha": store.resolve("refs/heads/" + pull["base"]) or "0" * 40,
                        "repo": repo,
                    },
                }
            )
        return found

    async def create_check_run(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)  # type: ignore[attr-defined]
        data = await request.json()
        refused = self._refusal(data, None)
        if refused is not None:
            return refused
        run: dict[str, Any] = {
            "id": 7_000_000 + len(self.check_runs) + 1,
            "repo": name,
            "name": data["name"],
            "head_sha": data["head_sha"],
            "status": "queued",
            "conclusion": None,
            "output": {"title": None, "summary": None, "text": None},
            "started_at": None,
            "completed_at": None,
            "details_url": data.get("details_url"),
            "external_id": data.get("external_id", ""),
            "suite": 5_000_000 + sum(1 for r in self.check_runs if r["head_sha"] != data["head_sha"]) + 1,
        }
        same = next((r for r in self.check_runs if r["repo"] == name and r["head_sha"] == data["head_sha"]), None)
        if same is not None:
            run["suite"] = same["suite"]
        self._apply(run, data)
        self.check_runs.append(run)
        self._log(run, "created")
        self._lose_answer(request)  # type: ignore[attr-defined]
        return self._json(request, self.check_run_json(run), 201)  # type: ignore[attr-defined]

    def _run_or_404(self, request: web.Request, name: str) -> dict[str, Any]:
        ident = request.match_info["check_run_id"]
        found = next((r for r in self.check_runs if r["repo"] == name and str(r["id"]) == ident), None)
        if found is None:
            raise web.HTTPNotFound(reason="Not Found")
        return found

    async def get_check_run(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)  # type: ignore[attr-defined]
        return self._json(request, self.check_run_json(self._run_or_404(request, name)))  # type: ignore[attr-defined]

    async def update_check_run(self, request: web.Request) -> web.Response:
        name, _ = self._store(request)  # type: ignore[attr-defined]
        run = self._run_or_404(request, name)
        data = await request.json()
        refused = self._refusal(data, run)
        if refused is not None:
            return refused
        self._apply(run, data)
        self._log(run, "updated")
        return self._json(request, self.check_run_json(run))  # type: ignore[attr-defined]

    async def list_check_runs(self, request: web.Request) -> web.Response:
        """The runs on a commit (a sha, or a branch or tag naming one), newest first; check_name, status,
        filter (latest, the default: the newest run of each name; all), a page at a time."""
        name, store = self._store(request)  # type: ignore[attr-defined]
        ref = request.match_info["ref"]
        sha = store.resolve(ref + "^{commit}") if ref else None
        if sha is None:
            for candidate in ("refs/heads/" + ref, "refs/tags/" + ref):
                sha = store.resolve(candidate + "^{commit}")
                if sha is not None:
                    break
        if sha is None:
            return self._error(404, "No commit found for SHA: " + ref)  # type: ignore[attr-defined]
        query = request.query
        wanted, status = query.get("check_name"), query.get("status")
        runs = sorted(
            (r for r in self.check_runs if r["repo"] == name and r["head_sha"] == sha),
            key=lambda r: r["id"],
            reverse=True,
        )
        if query.get("filter", "latest") == "latest":
            seen: set[str] = set()
            newest = []
            for run in runs:
                if run["name"] not in seen:
                    seen.add(run["name"])
                    newest.append(run)
            runs = newest
        runs = [r for r in runs if wanted in (None, r["name"]) and status in (None, r["status"])]
        page, headers = self._page(request, runs)  # type: ignore[attr-defined]
        response = self._json(  # type: ignore[attr-defined]
            request, {"total_count": len(runs), "check_runs": [self.check_run_json(r) for r in page]}
        )
        response.headers.update(headers)
        return response
