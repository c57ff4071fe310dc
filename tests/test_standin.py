"""The stand-in itself: it must refuse what GitHub would not do, or the App's tests prove nothing."""

from __future__ import annotations

import json

import pytest

from tests.standin import spec


async def test_unknown_endpoint_is_recorded_as_an_error(standin, aiohttp_client):
    client = await aiohttp_client(standin.app())
    response = await client.get("/repos/o/r/no-such-endpoint")
    assert response.status == 404
    assert standin.errors and "no-such-endpoint" in standin.errors[0]
    standin.errors.clear()


async def test_request_body_against_the_schema(standin, aiohttp_client):
    client = await aiohttp_client(standin.app())
    response = await client.post("/repos/o/r/git/commits", json={"tree": 42})  # message missing, tree not a string
    assert response.status == 422  # GitHub's "Invalid request." for a body against the schema
    assert (await response.json())["message"].startswith("Invalid request.\n\n")
    assert standin.errors and "git/commits" in standin.errors[0]
    standin.errors.clear()


def test_response_check_rejects_what_github_would_not_send():
    request = spec.Request("GET", "/repos/o/r/git/trees/abc", {}, {}, b"", "")
    good = {"sha": "a" * 40, "url": "u", "tree": [], "truncated": False}
    assert spec.check_response(request, spec.Response(200, json.dumps(good).encode(), "application/json", {})) == ""
    bad = {"sha": "a" * 40, "tree": "not a list"}
    assert spec.check_response(request, spec.Response(200, json.dumps(bad).encode(), "application/json", {})) != ""


@pytest.mark.parametrize("path", ["/repos/o/r/git/ref/heads/main", "/repos/o/r/git/ref/heads/repodoc/feature/x"])
def test_refs_with_slashes_are_matched(path):
    assert spec.check_request(spec.Request("GET", path, {}, {}, b"", "")) == ""


async def test_tokens_need_a_jwt_signed_by_the_app(standin, aiohttp_client):
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forged = jwt.encode({"iat": 0, "exp": 500, "iss": standin.app_id}, other, algorithm="RS256")
    client = await aiohttp_client(standin.app())
    response = await client.post("/app/installations/1/access_tokens", headers={"Authorization": f"Bearer {forged}"})
    assert response.status == 401 and standin.tokens == {}


# -- pull requests, comments, reactions, permissions, check runs -----------------------------------------

TOKEN = "ghs_standin_test"
FULL = "octo-org/demo"


async def api(standin, aiohttp_client):
    """An HTTP client of the stand-in holding an installation token, and a repository with main and feature
    (one commit ahead) and `same` (at main)."""
    import time

    standin.tokens[TOKEN] = time.time() + 600
    store = standin.add_repo(FULL)
    [blob] = store.write_blobs([b"x = 1\n"])
    base = store.commit(store.make_tree(None, [("a.py", "100644", blob)]), [], "first")
    store.set_ref("refs/heads/main", base)
    store.set_ref("refs/heads/same", base)
    [blob2] = store.write_blobs([b"x = 2\n"])
    feature = store.commit(store.make_tree(store.tree_of(base), [("a.py", "100644", blob2)]), [base], "second")
    store.set_ref("refs/heads/feature", feature)
    client = await aiohttp_client(standin.app(), headers={"Authorization": f"token {TOKEN}"})
    return client, store


async def test_pull_request_creation_refusals_are_githubs(standin, aiohttp_client):
    client, store = await api(standin, aiohttp_client)
    url = f"/repos/{FULL}/pulls"
    made = await client.post(url, json={"title": "t", "head": "feature", "base": "main", "body": "b"})
    assert made.status == 201
    pull = await made.json()
    assert pull["user"]["login"] == "repodoc[bot]" and pull["user"]["type"] == "Bot"
    assert pull["head"]["sha"] == store.resolve("refs/heads/feature") and pull["merged"] is False
    again = await client.post(url, json={"title": "t", "head": "feature", "base": "main"})
    assert again.status == 422
    assert (await again.json())["errors"][0]["message"] == "A pull request already exists for octo-org:feature."
    empty = await client.post(url, json={"title": "t", "head": "same", "base": "main"})
    assert empty.status == 422 and (await empty.json())["errors"][0]["message"] == "No commits between main and same"
    for side, body in (("head", {"head": "nope", "base": "main"}), ("base", {"head": "feature", "base": "nope"})):
        missing = await client.post(url, json={"title": "t", **body})
        assert missing.status == 422
        assert (await missing.json())["errors"] == [{"resource": "PullRequest", "field": side, "code": "invalid"}]
    long = await client.post(url, json={"title": "t", "head": "feature", "base": "same", "body": "x" * 65_537})
    assert long.status == 422 and (await long.json())["errors"][0]["field"] == "body"
    # GitHub's own rule: one head may be open into several bases
    standin.one_pull_per_head = False
    other = await client.post(url, json={"title": "t", "head": "feature", "base": "same"})
    assert other.status == 201 and (await other.json())["number"] == 2
    assert standin.errors == []


async def test_get_pull_follows_the_head_branch_and_404s_unknown(standin, aiohttp_client):
    client, store = await api(standin, aiohttp_client)
    pull = standin.open_user_pull(FULL, "feature", "main", user="alice", title="mine")
    moved = store.commit(store.tree_of("refs/heads/feature"), [str(store.resolve("refs/heads/feature"))], "third")
    store.set_ref("refs/heads/feature", moved)
    got = await (await client.get(f"/repos/{FULL}/pulls/{pull['number']}")).json()
    assert got["head"]["sha"] == moved and got["user"]["login"] == "alice" and got["title"] == "mine"
    assert store.resolve(f"refs/pull/{pull['number']}/head") == moved
    assert (await client.get(f"/repos/{FULL}/pulls/99")).status == 404
    assert standin.errors == []


async def test_pull_listing_filters_sorts_and_pages(standin, aiohttp_client):
    client, store = await api(standin, aiohttp_client)
    first = standin.open_user_pull(FULL, "feature", "main")
    second = standin.open_user_pull(FULL, "feature", "same")
    fork_sha = store.commit(store.tree_of("refs/heads/main"), [str(store.resolve("refs/heads/main"))], "fork work")
    fork = standin.open_user_pull(FULL, "feature", "main", fork="someone/demo", sha=fork_sha, user="someone")
    standin.close_pull(FULL, second["number"])

    async def numbers(query: str) -> list[int]:
        response = await client.get(f"/repos/{FULL}/pulls?{query}")
        assert response.status == 200
        return [p["number"] for p in await response.json()]

    assert await numbers("") == [fork["number"], first["number"]]  # open, newest first
    assert await numbers("state=closed") == [second["number"]]
    assert await numbers("state=all&direction=asc") == [1, 2, 3]
    assert await numbers("state=all&head=octo-org:feature") == [2, 1]
    assert await numbers("state=all&head=someone:feature") == [3]
    assert await numbers("state=all&head=feature") == [3, 2, 1]  # GitHub ignores a head without its owner
    assert await numbers("state=all&base=same") == [2]
    paged = await client.get(f"/repos/{FULL}/pulls?state=all&per_page=2&page=1")
    assert [p["number"] for p in await paged.json()] == [3, 2] and 'rel="next"' in paged.headers["Link"]
    assert await numbers("state=all&per_page=2&page=2") == [1]
    listed = await (await client.get(f"/repos/{FULL}/pulls?head=someone:feature")).json()
    assert listed[0]["head"]["repo"]["full_name"] == "someone/demo" and listed[0]["head"]["repo"]["fork"] is True
    assert listed[0]["head"]["sha"] == fork_sha and listed[0]["head"]["label"] == "someone:feature"
    assert store.resolve(f"refs/pull/{fork['number']}/head") == fork_sha
    assert store.resolve(f"refs/pull/{first['number']}/head") == store.resolve("refs/heads/feature")
    assert standin.errors == []


async def test_pull_updates_reopen_retarget_and_merge(standin, aiohttp_client):
    client, store = await api(standin, aiohttp_client)
    pull = standin.open_user_pull(FULL, "feature", "main")
    url = f"/repos/{FULL}/pulls/{pull['number']}"
    assert (await client.patch(url, json={"base": "nope"})).status == 422
    retargeted = await client.patch(url, json={"base": "same"})
    assert retargeted.status == 200 and (await retargeted.json())["base"]["ref"] == "same"
    closed = await (await client.patch(url, json={"state": "closed"})).json()
    assert closed["state"] == "closed" and closed["closed_at"] is not None and closed["merged"] is False
    assert (await client.patch(url, json={"base": "main"})).status == 422  # not the base of a closed pull
    reopened = await (await client.patch(url, json={"state": "open"})).json()
    assert reopened["state"] == "open" and reopened["closed_at"] is None
    base, head = store.resolve("refs/heads/same"), store.resolve("refs/heads/feature")
    merge = standin.merge_pull(FULL, pull["number"])
    assert store.commit_info(merge)["parents"] == [base, head]  # a merge commit, never a fast-forward
    assert store.resolve("refs/heads/same") == merge
    merged = await (await client.get(url)).json()
    assert merged["merged"] is True and merged["merge_commit_sha"] == merge and merged["state"] == "closed"
    refused = await client.patch(url, json={"state": "open"})
    assert refused.status == 422
    assert standin.errors == []


async def test_comments_have_ids_users_and_githubs_limit(standin, aiohttp_client):
    client, _ = await api(standin, aiohttp_client)
    pull = standin.open_user_pull(FULL, "feature", "main")
    mine = standin.add_comment(FULL, pull["number"], "/repodoc refresh", user="alice")
    url = f"/repos/{FULL}/issues/{pull['number']}/comments"
    made = await client.post(url, json={"body": "done"})
    assert made.status == 201
    ours = await made.json()
    assert ours["user"]["login"] == "repodoc[bot]" and ours["user"]["type"] == "Bot" and ours["id"] != mine["id"]
    listed = await (await client.get(url)).json()
    assert [(c["id"], c["user"]["login"], c["body"]) for c in listed] == [
        (mine["id"], "alice", "/repodoc refresh"),
        (ours["id"], "repodoc[bot]", "done"),
    ]
    got = await client.get(f"/repos/{FULL}/issues/comments/{mine['id']}")
    assert got.status == 200 and (await got.json())["body"] == "/repodoc refresh"
    assert (await client.get(f"/repos/{FULL}/issues/comments/5")).status == 404
    long = await client.post(url, json={"body": "x" * 65_537})
    assert long.status == 422
    assert (await long.json())["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    assert (await client.post(f"/repos/{FULL}/issues/77/comments", json={"body": "x"})).status == 404
    assert len(standin.comments) == 2 and standin.comments[1]["user"] == {"login": "repodoc[bot]", "type": "Bot"}
    assert standin.errors == []


async def test_reactions_201_then_200_for_the_same_one(standin, aiohttp_client):
    client, _ = await api(standin, aiohttp_client)
    pull = standin.open_user_pull(FULL, "feature", "main")
    comment = standin.add_comment(FULL, pull["number"], "/repodoc refresh")
    url = f"/repos/{FULL}/issues/comments/{comment['id']}/reactions"
    first = await client.post(url, json={"content": "eyes"})
    assert first.status == 201
    again = await client.post(url, json={"content": "eyes"})
    assert again.status == 200 and (await again.json())["id"] == (await first.json())["id"]
    assert (await client.post(url, json={"content": "rocket"})).status == 201
    assert [(r["comment_id"], r["content"], r["user"]["login"]) for r in standin.reactions] == [
        (comment["id"], "eyes", "repodoc[bot]"),
        (comment["id"], "rocket", "repodoc[bot]"),
    ]
    listed = await (await client.get(url)).json()
    assert [r["content"] for r in listed] == ["eyes", "rocket"]
    assert [r["content"] for r in await (await client.get(url + "?content=rocket")).json()] == ["rocket"]
    paged = await client.get(url + "?per_page=1")
    assert len(await paged.json()) == 1 and 'rel="next"' in paged.headers["Link"]
    assert (await client.post(f"/repos/{FULL}/issues/comments/404/reactions", json={"content": "eyes"})).status == 404
    assert standin.errors == []
    bad = await client.post(url, json={"content": "thumbs"})  # not a reaction GitHub knows
    assert bad.status == 422 and standin.errors
    standin.errors.clear()


@pytest.mark.parametrize(
    ("role", "permission"),
    [("admin", "admin"), ("maintain", "write"), ("write", "write"), ("triage", "read"), ("read", "read")],
)
async def test_collaborator_permission_maps_roles(standin, aiohttp_client, role, permission):
    client, _ = await api(standin, aiohttp_client)
    standin.permissions[(FULL, "alice")] = role
    answer = await client.get(f"/repos/{FULL}/collaborators/alice/permission")
    assert answer.status == 200
    data = await answer.json()
    assert (data["permission"], data["role_name"], data["user"]["login"]) == (permission, role, "alice")
    assert standin.errors == []


async def test_collaborator_permission_of_others(standin, aiohttp_client):
    client, _ = await api(standin, aiohttp_client)
    outsider = await (await client.get(f"/repos/{FULL}/collaborators/octocat/permission")).json()
    assert (outsider["permission"], outsider["role_name"]) == ("read", "read")  # a public repository
    standin.private.add(FULL)
    outsider = await (await client.get(f"/repos/{FULL}/collaborators/octocat/permission")).json()
    assert (outsider["permission"], outsider["role_name"]) == ("none", "none")
    assert (await client.get(f"/repos/{FULL}/collaborators/nobody-at-all/permission")).status == 404
    assert standin.errors == []


async def test_check_runs_are_created_updated_and_listed(standin, aiohttp_client):
    client, store = await api(standin, aiohttp_client)
    sha = str(store.resolve("refs/heads/feature"))
    url = f"/repos/{FULL}/check-runs"
    made = await client.post(url, json={"name": "repodoc", "head_sha": sha, "status": "in_progress"})
    assert made.status == 201
    run = await made.json()
    assert run["status"] == "in_progress" and run["conclusion"] is None and run["started_at"]
    done = await client.patch(
        f"{url}/{run['id']}", json={"conclusion": "success", "output": {"title": "ok", "summary": "all good"}}
    )
    assert done.status == 200
    data = await done.json()
    assert (data["status"], data["conclusion"], data["output"]["title"]) == ("completed", "success", "ok")
    assert data["completed_at"]
    got = await (await client.get(f"{url}/{run['id']}")).json()
    assert got["output"]["summary"] == "all good"
    assert (await client.get(f"{url}/999")).status == 404
    assert (await client.patch(f"{url}/999", json={"status": "completed", "conclusion": "success"})).status == 404
    second = await (
        await client.post(url, json={"name": "repodoc", "head_sha": sha, "output": {"title": "t", "summary": "s"}})
    ).json()
    other = await (await client.post(url, json={"name": "other", "head_sha": sha})).json()
    listing = f"/repos/{FULL}/commits/{sha}/check-runs"
    latest = await (await client.get(listing)).json()
    assert [r["id"] for r in latest["check_runs"]] == [other["id"], second["id"]] and latest["total_count"] == 2
    every = await (await client.get(listing + "?filter=all")).json()
    assert [r["id"] for r in every["check_runs"]] == [other["id"], second["id"], run["id"]]
    named = await (await client.get(listing + "?filter=all&check_name=repodoc&status=completed")).json()
    assert [r["id"] for r in named["check_runs"]] == [run["id"]]
    by_branch = await (await client.get(f"/repos/{FULL}/commits/feature/check-runs?check_name=other")).json()
    assert [r["id"] for r in by_branch["check_runs"]] == [other["id"]]
    assert standin.check_runs[0]["conclusion"] == "success" and standin.check_runs[0]["output"]["title"] == "ok"
    assert standin.check_runs[0]["head_sha"] == sha and standin.check_runs[0]["status"] == "completed"
    assert [(e["id"], e["action"], e["status"], e["conclusion"]) for e in standin.check_run_log] == [
        (run["id"], "created", "in_progress", None),
        (run["id"], "updated", "completed", "success"),
        (second["id"], "created", "queued", None),
        (other["id"], "created", "queued", None),
    ]
    assert standin.errors == []


async def test_check_run_refusals(standin, aiohttp_client):
    client, store = await api(standin, aiohttp_client)
    sha = str(store.resolve("refs/heads/feature"))
    url = f"/repos/{FULL}/check-runs"
    run = await (await client.post(url, json={"name": "repodoc", "head_sha": sha})).json()
    # what the description allows and GitHub still refuses
    unfinished = await client.post(url, json={"name": "r", "head_sha": sha, "status": "completed"})
    assert unfinished.status == 422
    assert (await unfinished.json())["message"] == 'Invalid request.\n\n"conclusion" wasn\'t supplied.'
    assert (await client.patch(f"{url}/{run['id']}", json={"conclusion": "stale"})).status == 422  # GitHub's only
    untitled = await client.patch(f"{url}/{run['id']}", json={"output": {"summary": "s"}})
    assert untitled.status == 422 and '"title" wasn\'t supplied' in (await untitled.json())["message"]
    wide = await client.patch(f"{url}/{run['id']}", json={"output": {"title": "t", "summary": "é" * 40_000}})
    assert wide.status == 422  # 80,000 bytes: GitHub counts the limit in bytes
    assert (await wide.json())["errors"][0]["message"] == "summary exceeds a maximum bytesize of 65535"
    assert [e["action"] for e in standin.check_run_log] == ["created"] and standin.check_runs[0]["status"] == "queued"
    assert standin.errors == []
    # what the description itself refuses: GitHub's 422 "Invalid request.", and an error of the App's recorded
    refused = [
        ("PATCH", f"{url}/{run['id']}", {"status": "completed"}, '"conclusion" wasn\'t supplied.'),
        (
            "POST",
            url,
            {"name": "r", "head_sha": sha, "output": {"title": "t", "summary": "x" * 65_536}},
            "Only 65535 characters are allowed; 65536 were supplied.",
        ),
        ("POST", url, {"name": "r", "head_sha": sha, "conclusion": "great"}, None),
    ]
    for method, where, body, words in refused:
        answer = await client.request(method, where, json=body)
        message = (await answer.json())["message"]
        assert answer.status == 422 and message.startswith("Invalid request.\n\n")
        assert words is None or message == "Invalid request.\n\n" + words
    assert len(standin.errors) == len(refused) and len(standin.check_runs) == 1
    standin.errors.clear()


async def test_get_app_needs_the_apps_jwt(standin, aiohttp_client):
    import time

    import jwt

    from tests.conftest import app_keys

    client = await aiohttp_client(standin.app())
    token = jwt.encode(
        {"iat": int(time.time()) - 60, "exp": int(time.time()) + 500, "iss": standin.app_id},
        app_keys()[0],
        algorithm="RS256",
    )
    answer = await client.get("/app", headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200
    data = await answer.json()
    assert data["slug"] == "repodoc" and data["id"] == int(standin.app_id)
    assert (await client.get("/app", headers={"Authorization": "Bearer nonsense"})).status == 401
    assert standin.errors == []


# -- the test world's payloads ------------------------------------------------------------------------------


async def seeded(world):
    world.local.write("a.py", "x = 1\n")
    world.local.commit("first")
    return world.push()


async def test_pull_payloads_follow_the_standin(world):
    main = await seeded(world)
    head = world.push_feature("feature", {"a.py": "x = 2\n"}, "second")
    assert (
        world.store.resolve("refs/heads/feature") == head
        and world.local.git("branch", "--show-current").strip() == "main"
    )
    pull = world.standin.open_user_pull("octo-org/demo", "feature", "main", user="alice")
    opened = world.pull_payload(pull["number"], "opened")
    assert opened["action"] == "opened" and opened["number"] == pull["number"]
    assert opened["installation"]["id"] == 4242 and opened["repository"]["full_name"] == "octo-org/demo"
    assert opened["pull_request"]["head"]["sha"] == head and opened["pull_request"]["base"]["sha"] == main
    assert opened["pull_request"]["head"]["repo"]["full_name"] == "octo-org/demo"
    assert opened["pull_request"]["user"]["login"] == "alice" and opened["sender"]["login"] == "alice"
    newer = world.push_feature("feature", {"b.py": "y = 1\n"}, "third")
    sync = world.pull_payload(pull["number"], "synchronize", before=head)
    assert (sync["before"], sync["after"], sync["pull_request"]["head"]["sha"]) == (head, newer, newer)
    edited = world.pull_payload(pull["number"], "edited", base="develop")
    assert edited["changes"]["base"]["ref"]["from"] == "develop" and edited["action"] == "edited"
    merge = world.merge_pull(pull["number"])
    closed = world.pull_payload(pull["number"], "closed")
    assert closed["pull_request"]["merged"] is True and closed["pull_request"]["merge_commit_sha"] == merge
    assert world.local.git("rev-parse", "HEAD").strip() == merge
    keys = set(spec.webhook_example("pull_request", lambda e: e["action"] == "opened" and "installation" in e))
    assert keys <= set(opened) and keys <= set(closed)


async def test_fork_pull_payloads_name_the_fork(world):
    await seeded(world)
    first = world.fork_commit({"a.py": "x = 3\n"})
    pull = world.standin.open_user_pull(
        "octo-org/demo", "patch", "main", fork="someone/demo", sha=first, user="someone"
    )
    assert world.store.resolve(f"refs/pull/{pull['number']}/head") == first
    second = world.fork_commit({"c.py": "z = 1\n"}, number=pull["number"])
    assert world.store.commit_info(second)["parents"] == [first]
    assert world.store.resolve(f"refs/pull/{pull['number']}/head") == second
    payload = world.pull_payload(pull["number"], "synchronize", before=first)
    head = payload["pull_request"]["head"]
    assert head["repo"]["full_name"] == "someone/demo" and head["repo"]["fork"] is True and head["sha"] == second
    assert head["label"] == "someone:patch" and payload["pull_request"]["base"]["repo"]["full_name"] == "octo-org/demo"
    suite = world.check_suite_payload(second, "patch", [pull["number"]])
    assert suite["check_suite"]["pull_requests"][0]["head"]["sha"] == second


async def test_comment_and_check_payloads(world):
    await seeded(world)
    head = world.push_feature("feature", {"a.py": "x = 2\n"}, "second")
    pull = world.standin.open_user_pull("octo-org/demo", "feature", "main", user="alice")
    comment = world.standin.add_comment("octo-org/demo", pull["number"], "/repodoc refresh", user="alice")
    payload = world.comment_payload(comment, pull["number"])
    assert payload["action"] == "created" and payload["issue"]["number"] == pull["number"]
    assert payload["issue"]["pull_request"]["url"].endswith(f"/pulls/{pull['number']}")
    assert (payload["comment"]["id"], payload["comment"]["body"], payload["comment"]["user"]["login"]) == (
        comment["id"],
        "/repodoc refresh",
        "alice",
    )
    keys = set(spec.webhook_example("issue_comment", lambda e: "installation" in e))
    assert keys <= set(payload)
    world.standin.check_runs.append(
        {
            "id": 9,
            "repo": "octo-org/demo",
            "name": "repodoc",
            "head_sha": head,
            "status": "completed",
            "conclusion": "failure",
            "output": {"title": "t", "summary": "s", "text": None},
            "started_at": None,
            "completed_at": None,
            "details_url": None,
            "external_id": "",
            "suite": 77,
        }
    )
    for ident in (9, head):
        run = world.check_run_payload(ident)
        check = run["check_run"]
        assert run["action"] == "rerequested" and check["id"] == 9 and check["head_sha"] == head
        assert check["check_suite"]["head_branch"] == "feature" and check["check_suite"]["id"] == 77
        assert [p["number"] for p in check["pull_requests"]] == [pull["number"]]
    suite = world.check_suite_payload(head, "feature", [pull["number"]])
    [listed] = suite["check_suite"]["pull_requests"]
    assert (listed["number"], listed["head"]["ref"], listed["head"]["sha"], listed["base"]["ref"]) == (
        pull["number"],
        "feature",
        head,
        "main",
    )
    assert suite["check_suite"]["head_sha"] == head and suite["check_suite"]["head_branch"] == "feature"
    assert suite["installation"]["id"] == 4242 and suite["action"] == "rerequested"
