"""Pull requests, slash commands and check runs, end to end through real HTTP: signed deliveries into
`repodoc serve`'s app, the App's requests against the OpenAPI-checked GitHub stand-in.

Whenever a companion pull request is open, merging it into the pull request's branch leaves that branch's
docs equal to what `repodoc generate` writes for it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.appworld import FULL, INSTALLATION, World
from tests.standin import spec

SOURCES = {
    "README.md": "# Demo\n\nA demo project.\n",
    "pkg/__init__.py": '"""The demo package."""\nfrom .core import run\n',
    "pkg/core.py": "import subprocess\n\ndef run():\n    return subprocess.run('ls', shell=True)\n",
    "pkg/util/helpers.py": "def helper(x):\n    return x * 2\n",
}


async def documented(world: World, extra: dict[str, str] | None = None) -> None:
    """main with its docs merged: the state a team is in after the first docs pull request."""
    for path, text in {**SOURCES, **(extra or {})}.items():
        world.local.write(path, text)
    world.local.commit("initial")
    assert (await world.push_and_deliver()).status == 202
    await world.settle()
    world.merge_docs_pull()
    world.pushed = world.local.git("rev-parse", "HEAD").strip()


def runs(world: World, sha: str) -> list[dict[str, Any]]:
    return [r for r in world.standin.check_runs if r["head_sha"] == sha and r["name"] == "repodoc"]


def companion(world: World, number: int) -> dict[str, Any] | None:
    found = [p for p in world.standin.open_pulls(FULL) if p["head"] == f"repodoc/pr-{number}"]
    assert len(found) <= 1
    return found[0] if found else None


def branch_docs(world: World, sha: str) -> dict[str, bytes]:
    prefix = "docs/"
    found = [e for e in world.store.ls_tree(sha, True) if e["type"] == "blob" and str(e["path"]).startswith(prefix)]
    data = world.store.blobs([str(e["sha"]) for e in found])
    return {str(e["path"])[len(prefix) :]: d for e, d in zip(found, data, strict=True)}


async def open_feature(world: World, files: dict[str, str], branch: str = "feature") -> int:
    world.push_feature(branch, files)
    pull = world.standin.open_user_pull(FULL, branch, "main")
    assert (await world.deliver("pull_request", world.pull_payload(pull["number"], "opened"))).status == 202
    await world.settle()
    return int(pull["number"])


async def command(world: World, number: int, body: str, user: str = "octocat", delivery: str | None = None) -> Any:
    comment = world.standin.add_comment(FULL, number, body, user=user)
    response = await world.deliver("issue_comment", world.comment_payload(comment, number), delivery)
    await world.settle()
    return response, comment


def reactions(world: World, comment: dict[str, Any]) -> list[str]:
    return [r["content"] for r in world.standin.reactions if r["comment_id"] == comment["id"]]


def replies(world: World, number: int) -> list[str]:
    return [c["body"] for c in world.standin.comments if c["number"] == number and c["user"]["login"] == "repodoc[bot]"]


# -- a pull request from a branch of the repository --------------------------------------------------------
async def test_same_repository_pull_request_opened_synchronized_merged(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/util/helpers.py": "def helper(x):\n    return x * 3\n"})
    head = world.standin.pull(FULL, number)["head_sha"]
    # the check run went in_progress, then completed neutral with the stale pages and a link to the companion
    log = [e for e in world.standin.check_run_log]
    assert [e["status"] for e in log][-2:] == ["in_progress", "completed"]
    run = runs(world, head)[-1]
    assert run["conclusion"] == "neutral" and "pkg/util/helpers.py_docs.md" in run["output"]["summary"]
    docs = companion(world, number)
    assert docs is not None and docs["base"] == "feature"
    assert f"/pull/{docs['number']}" in run["output"]["summary"]
    # only the changed file's pages and its folder's pages
    written = {p for p in branch_docs(world, docs["head_sha"]).items()} - set(branch_docs(world, head).items())
    assert {p for p, _ in written} <= {
        "pkg/util/helpers.py_docs.md",
        "pkg/util/helpers.py_kw.md",
        "pkg/util/index.md",
        "pkg/util/doc.md",
        "pkg/util/.repodoc-state.json",
        "pkg/util/.repodoc-manifest.json",
    }
    # synchronize: the companion follows the new head
    world.push_feature("feature", {"pkg/core.py": "def run():\n    return 2\n"})
    payload = world.pull_payload(number, "synchronize", before=head)
    assert (await world.deliver("pull_request", payload)).status == 202
    await world.settle()
    head = world.standin.pull(FULL, number)["head_sha"]
    docs = companion(world, number)
    assert docs is not None
    world.merge_pull(docs["number"])  # into feature
    merged = world.store.resolve("refs/heads/feature")
    assert branch_docs(world, merged) == world.generated_tree(merged)
    # the merge is a push to feature, so the pull request's check runs again: now current
    payload = world.pull_payload(number, "synchronize", before=head)
    await world.deliver("pull_request", payload)
    await world.settle()
    assert runs(world, merged)[-1]["conclusion"] == "success"
    assert companion(world, number) is None
    # merged: nothing is left open, the docs branch is gone
    world.merge_pull(number)
    await world.deliver("pull_request", world.pull_payload(number, "closed"))
    await world.settle()
    assert world.store.resolve(f"refs/heads/repodoc/pr-{number}") is None
    assert not world.standin.errors


async def test_a_closed_pull_request_closes_its_companion_and_deletes_its_branch(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    assert companion(world, number) is not None
    world.standin.close_pull(FULL, number)
    await world.deliver("pull_request", world.pull_payload(number, "closed"))
    await world.settle()
    assert companion(world, number) is None
    assert world.store.resolve(f"refs/heads/repodoc/pr-{number}") is None
    assert any("was closed" in text for text in replies(world, number + 1))


async def test_check_only_and_failure_conclusion_come_from_the_default_branch(world: World):
    await documented(world, {".github/repodoc.yml": "pull_requests: check\ncheck_conclusion: failure\n"})
    number = await open_feature(world, {"pkg/new.py": "X = 1\n", ".github/repodoc.yml": "pull_requests: off\n"})
    head = world.standin.pull(FULL, number)["head_sha"]
    assert companion(world, number) is None  # check only: no companion
    assert runs(world, head)[-1]["conclusion"] == "failure"  # the PR's own config cannot turn its check off


async def test_a_pull_request_from_a_documented_branch_gets_no_companion(world: World):
    await documented(world, {".github/repodoc.yml": "branches: [release]\n"})
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"}, branch="release")
    assert companion(world, number) is None
    assert runs(world, world.standin.pull(FULL, number)["head_sha"])[-1]["conclusion"] == "neutral"


# -- a pull request from a fork ---------------------------------------------------------------------------
async def test_a_fork_pull_request_gets_a_check_run_with_the_local_command(world: World):
    await documented(world)
    sha = world.fork_commit({"pkg/forked.py": "def f():\n    return 1\n"})
    pull = world.standin.open_user_pull(FULL, "patch-1", "main", fork="stranger/demo", sha=sha, user="stranger")
    number = pull["number"]
    start = len(world.standin.requests)
    await world.deliver("pull_request", world.pull_payload(number, "opened"))
    await world.settle()
    base = world.store.resolve("refs/heads/main")
    summary = runs(world, sha)[-1]["output"]["summary"]
    assert f"repodoc generate --since {base}" in summary and "pkg/forked.py_docs.md" in summary
    assert not [r for r in world.standin.requests[start:] if r.method in ("POST", "PATCH") and "/git/" in r.path]
    # `/docs refresh` on a fork answers as `/docs status` does
    _, comment = await command(world, number, "/docs refresh", user="stranger")
    assert reactions(world, comment) == ["eyes", "rocket"]
    assert f"repodoc generate --since {base}" in replies(world, number)[-1]
    assert companion(world, number) is None


# -- commands ----------------------------------------------------------------------------------------------
async def test_commands_by_an_admin_the_author_and_a_stranger(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    world.standin.permissions[(FULL, "admin-person")] = "admin"
    world.standin.users["passer-by"] = "User"
    _, by_admin = await command(world, number, "/docs full", user="admin-person")
    assert reactions(world, by_admin) == ["eyes", "rocket"]
    _, by_author = await command(world, number, "/docs status", user="octocat")
    assert reactions(world, by_author) == ["eyes", "rocket"] and "pkg/new.py_docs.md" in replies(world, number)[-1]
    _, refused = await command(world, number, "/docs full", user="octocat")  # the author may not run full
    assert reactions(world, refused) == ["eyes", "confused"] and "write" in replies(world, number)[-1]
    _, stranger = await command(world, number, "/docs refresh", user="passer-by")
    assert reactions(world, stranger) == ["eyes", "confused"]
    _, helped = await command(world, number, "/docs sparkle", user="passer-by")
    assert reactions(world, helped) == ["eyes", "rocket"] and "sparkle" in replies(world, number)[-1]


async def test_commands_in_quotes_or_code_and_edits_are_not_run(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    before = len(world.standin.requests)
    for body in ("> /docs full", "```\n/docs full\n```", "    /docs full", "please `/docs full`"):
        response, comment = await command(world, number, body)
        assert response.status == 200 and reactions(world, comment) == []
    comment = world.standin.add_comment(FULL, number, "/docs full")
    edited = world.comment_payload(comment, number, action="edited")
    assert (await world.deliver("issue_comment", edited)).status == 200
    assert len(world.standin.requests) == before  # not one request to GitHub


async def test_a_command_is_acted_on_once(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    _, comment = await command(world, number, "/docs status\n/docs status\n/docs help", delivery="d-1")
    said = len(replies(world, number))
    payload = world.comment_payload(comment, number)
    assert (await world.deliver("issue_comment", payload, "d-1")).status == 200  # a redelivery
    assert (await world.deliver("issue_comment", payload, "d-2")).status == 202  # as after a restart
    await world.settle()
    assert reactions(world, comment) == ["eyes", "rocket"] and len(replies(world, number)) == said
    assert said == 1 and replies(world, number)[-1].count("stale") >= 1  # both answers in one reply


async def test_a_persons_commit_on_the_companion_is_respected_until_recreate(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    docs = companion(world, number)
    assert docs is not None
    branch = f"repodoc/pr-{number}"
    tree = world.store.tree_of(docs["head_sha"])
    mine = world.store.commit(tree, [docs["head_sha"]], "a person's fix")
    world.store.set_ref(f"refs/heads/{branch}", mine)
    for _ in range(2):  # two pushes to the feature branch: said once
        head = world.standin.pull(FULL, number)["head_sha"]
        world.push_feature("feature", {"pkg/new.py": f"X = {len(world.standin.requests)}\n"})
        await world.deliver("pull_request", world.pull_payload(number, "synchronize", before=head))
        await world.settle()
        assert world.store.resolve(f"refs/heads/{branch}") == mine
    held = [c for c in replies(world, docs["number"]) if "/docs recreate" in c]
    assert len(held) == 1
    world.standin.permissions[(FULL, "maintainer")] = "maintain"
    _, comment = await command(world, number, "/docs recreate", user="maintainer")
    assert reactions(world, comment) == ["eyes", "rocket"]
    rebuilt = world.store.resolve(f"refs/heads/{branch}")
    assert rebuilt != mine and world.store.commit_info(rebuilt)["parents"] == [
        world.store.resolve("refs/heads/feature")
    ]


async def test_a_broken_config_is_reported_on_the_check_and_in_the_reply(world: World):
    await documented(world)
    world.local.write(".github/repodoc.yml", "pull_requests: sometimes\n")
    world.local.commit("a typo")
    await world.push_and_deliver()
    await world.settle()
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    head = world.standin.pull(FULL, number)["head_sha"]
    assert runs(world, head)[-1]["conclusion"] == "failure"
    assert "pull_requests" in runs(world, head)[-1]["output"]["summary"]
    assert companion(world, number) is None
    _, comment = await command(world, number, "/docs status")
    assert reactions(world, comment) == ["eyes", "confused"] and "pull_requests" in replies(world, number)[-1]


async def test_the_rerun_button_checks_again(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    head = world.standin.pull(FULL, number)["head_sha"]
    first = runs(world, head)[-1]
    assert (await world.deliver("check_run", world.check_run_payload(first["id"]))).status == 202
    await world.settle()
    assert runs(world, head)[-1]["conclusion"] == "neutral" and runs(world, head)[-1]["id"] != first["id"]
    suite = world.check_suite_payload(head, "feature", [number])
    assert (await world.deliver("check_suite", suite)).status == 202
    await world.settle()
    assert len(runs(world, head)) == 3


# -- installation ------------------------------------------------------------------------------------------
def installed_payload(event: str = "installation", action: str = "created") -> dict[str, Any]:
    key = {"installation": "repositories", "installation_repositories": "repositories_added"}[event]
    payload = spec.webhook_example(event, lambda e: e["action"] == action)
    payload["installation"]["id"] = INSTALLATION
    payload[key] = [{**payload[key][0], "name": "demo", "full_name": FULL}]
    return payload


async def test_bootstrap_of_a_few_hundred_files_reads_one_archive_and_introduces_itself(world: World):
    for n in range(300):
        world.local.write(f"pkg{n % 7}/mod_{n}.py", f'"""Module {n}."""\n\ndef f{n}(x):\n    return x + {n}\n')
    world.local.commit("a project")
    head = world.push()
    assert (await world.deliver("installation", installed_payload())).status == 202
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    assert pull["title"].startswith("Introducing repodoc") and "/docs refresh" in pull["body"]
    assert "enabled: false" in pull["body"]
    assert world.docs_branch_tree() == world.generated_tree(head)
    tarballs = [r for r in world.standin.requests if "/tarball/" in r.path]
    blobs = [r for r in world.standin.requests if "/git/blobs/" in r.path]
    assert len(tarballs) == 1 and blobs == []


async def test_bootstrap_beside_a_projects_own_docs_proposes_a_config(world: World):
    own = {"docs/conf.py": "project = 'demo'\n", "docs/index.rst": "Demo\n====\n", "docs/_static/x.css": "a {}\n"}
    for path, text in {**SOURCES, **own}.items():
        world.local.write(path, text)
    world.local.commit("a project with Sphinx docs")
    world.push()
    assert (await world.deliver("installation", installed_payload())).status == 202
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    assert "docs_dir: docs/reference" in pull["body"]
    docs_head = world.store.resolve("refs/heads/repodoc/main")
    assert world.store.git("show", f"{docs_head}:.github/repodoc.yml").decode().count("docs_dir: docs/reference") == 1
    merged = world.merge_pull(pull["number"])
    for path, text in own.items():  # the project's own docs are untouched
        assert world.store.git("show", f"{merged}:{path}").decode() == text
    assert world.docs_branch_tree("main", "docs/reference") == world.generated_tree(merged, "docs/reference")


async def test_installation_spaces_bootstraps_and_removal_drops_queued_work(world: World):
    from webhooks.app import QUEUE

    queue = world.client.app[QUEUE]
    waited: list[float] = []
    removed_now = asyncio.Event()

    async def sleep(seconds: float) -> None:  # the spaced bootstraps wait until the removal has come
        waited.append(seconds)
        await removed_now.wait()

    queue.retries = type(queue.retries)(tries=queue.retries.tries, delay=0, sleep=sleep)
    queue.spacing = 36.0
    payload = installed_payload()
    payload["repositories"] = [{**payload["repositories"][0], "full_name": f"octo-org/r{n}"} for n in range(4)]
    assert (await world.deliver("installation", payload)).status == 202
    removed = spec.webhook_example("installation", lambda e: e["action"] == "deleted")
    removed["installation"]["id"] = INSTALLATION
    removed["repositories"] = payload["repositories"]
    assert (await world.deliver("installation", removed)).status == 202
    removed_now.set()
    await world.settle()
    assert sorted(waited) == [36.0, 72.0, 108.0]  # the first at once, the others 36 s apart
    # the removal came while they waited: every one not yet run was dropped, not one request made for it
    assert not [r for r in world.standin.requests if any(f"/repos/octo-org/r{n}" in r.path for n in (1, 2, 3))]
    assert [f.action for f in await queue.recent()].count("dropped") == 3


# -- turning off, bots, reopened and retargeted pull requests ---------------------------------------------
async def push_main(world: World, files: dict[str, str]) -> None:
    for path, text in files.items():
        world.local.write(path, text)
    world.local.commit("config")
    await world.push_and_deliver()
    await world.settle()


async def test_turning_off_closes_the_apps_pull_requests_and_deletes_their_branches(world: World):
    await documented(world, {".github/repodoc.yml": "branches: [release]\n"})
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    world.push_feature("release", {"pkg/rel.py": "R = 1\n"})
    await world.deliver(
        "push", {**world.push_payload("0" * 40, world.store.resolve("refs/heads/release")), "ref": "refs/heads/release"}
    )
    await world.settle()
    heads = sorted(p["head"] for p in world.standin.open_pulls(FULL) if p["head"].startswith("repodoc/"))
    assert heads == [f"repodoc/pr-{number}", "repodoc/release"]
    await push_main(world, {".github/repodoc.yml": "branches: []\n"})  # release leaves `branches`
    heads = sorted(p["head"] for p in world.standin.open_pulls(FULL) if p["head"].startswith("repodoc/"))
    assert heads == ["repodoc/main", f"repodoc/pr-{number}"]  # main's own docs PR: its config's page changed
    assert world.store.resolve("refs/heads/repodoc/release") is None
    await push_main(world, {".github/repodoc.yml": "pull_requests: check\n"})  # companions off
    assert companion(world, number) is None and world.store.resolve(f"refs/heads/repodoc/pr-{number}") is None
    await push_main(world, {".github/repodoc.yml": "enabled: false\n"})
    assert not [p for p in world.standin.open_pulls(FULL) if p["head"].startswith("repodoc/")]


async def test_a_bots_pull_request_gets_a_check_but_no_companion_and_bots_comments_are_ignored(world: World):
    await documented(world)
    world.push_feature("dependabot/pip/x", {"pkg/new.py": "X = 1\n"})
    pull = world.standin.open_user_pull(FULL, "dependabot/pip/x", "main", user="dependabot[bot]")
    pull["user"]["type"] = "Bot"
    number = pull["number"]
    await world.deliver("pull_request", world.pull_payload(number, "opened"))
    await world.settle()
    assert companion(world, number) is None
    assert runs(world, world.standin.pull(FULL, number)["head_sha"])[-1]["conclusion"] == "neutral"
    before = len(world.standin.requests)
    comment = world.standin.add_comment(FULL, number, "/docs full", user="some-ci[bot]", user_type="Bot")
    assert (await world.deliver("issue_comment", world.comment_payload(comment, number))).status == 200
    assert len(world.standin.requests) == before


async def test_reopened_and_retargeted_pull_requests_are_checked_again(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    world.standin.close_pull(FULL, number)
    await world.deliver("pull_request", world.pull_payload(number, "closed"))
    await world.settle()
    assert companion(world, number) is None
    world.standin.pull(FULL, number)["state"] = "open"
    assert (await world.deliver("pull_request", world.pull_payload(number, "reopened"))).status == 202
    await world.settle()
    assert companion(world, number) is not None
    head = world.standin.pull(FULL, number)["head_sha"]
    checks = len(runs(world, head))
    edited = world.pull_payload(number, "edited", title="Old title")  # not the base: nothing to do
    assert (await world.deliver("pull_request", edited)).status == 200
    retargeted = world.pull_payload(number, "edited", base="develop")
    assert (await world.deliver("pull_request", retargeted)).status == 202
    await world.settle()
    assert len(runs(world, head)) == checks + 1
