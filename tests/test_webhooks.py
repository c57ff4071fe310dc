"""The HTTP edge: signatures, answers of the contract, filters, settings."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from tests.appworld import FULL, World, sign
from tests.conftest import APP_ID, app_keys
from webhooks.settings import Settings, SettingsError


def seed(world: World) -> None:
    world.local.write("a.py", "A = 1\n")
    world.local.commit("seed")


async def test_unsigned_delivery_is_refused(world: World):
    seed(world)
    response = await world.deliver("push", world.push_payload("0" * 40, world.push()), signature=None)
    assert response.status == 401
    await world.settle()
    assert world.standin.requests == []


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, "sha1=abc", "garbage"])
async def test_wrongly_signed_delivery_is_refused(world: World, signature: str):
    seed(world)
    response = await world.deliver("push", world.push_payload("0" * 40, world.push()), signature=signature)
    assert response.status == 401
    await world.settle()
    assert world.standin.requests == []


async def post_signed(world: World, body: bytes) -> int:
    """POST raw bytes, correctly signed, as a push delivery; returns the status."""
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(len(body)),
        "X-Hub-Signature-256": sign(body),
    }
    response = await world.client.post("/webhooks", data=body, headers=headers)
    return int(response.status)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (json.dumps({"ref": "refs/heads/main", "after": "1" * 40}).encode(), 400),
        (b"x" * (25 * 1024 * 1024 + 1), 413),
    ],
)
async def test_malformed_and_oversized_bodies(world: World, body: bytes, status: int):
    assert await post_signed(world, body) == status


async def test_events_it_does_not_handle_are_200(world: World):
    response = await world.deliver("star", {"action": "created", "starred_at": None})
    assert response.status == 200
    assert (await response.json())["status"] == "ignored star"


async def test_healthz(world: World):
    response = await world.client.get("/healthz")
    assert response.status == 200 and (await response.json())["status"] == "ok"


@pytest.mark.parametrize("ref", ["refs/heads/repodoc/main", "refs/tags/v1"])
async def test_own_branches_and_tags_are_ignored(world: World, ref: str):
    seed(world)
    payload = world.push_payload("0" * 40, world.push())
    payload["ref"] = ref
    assert (await world.deliver("push", payload)).status == 200


async def test_configured_branch_gets_docs_and_its_deletion_closes_them(world: World):
    world.local.write(".github/repodoc.yml", "branches: [feature]\n")
    seed(world)
    world.push()
    head = world.local.git("rev-parse", "HEAD").strip()
    world.local.git("push", "-q", str(world.store.path), "HEAD:refs/heads/feature")
    payload = world.push_payload("0" * 40, head)
    payload["ref"] = "refs/heads/feature"
    assert (await world.deliver("push", payload)).status == 202
    await world.settle()
    assert [(p["head"], p["base"]) for p in world.standin.open_pulls(FULL)] == [("repodoc/feature", "feature")]
    payload.update(deleted=True, after="0" * 40, before=head, commits=[], head_commit=None)
    assert (await world.deliver("push", payload)).status == 202
    await world.settle()
    assert world.standin.open_pulls(FULL) == []
    assert "`feature` was deleted" in world.standin.comments[0]["body"]


async def test_docs_only_push_is_skipped_once_the_config_is_known(world: World):
    seed(world)
    world.push()
    world.local.write("docs/guide.md", "hand-written\n")
    world.local.commit("docs only")
    before = world.local.git("rev-parse", "HEAD~1").strip()
    payload = world.push_payload(before, world.push())
    assert (await world.deliver("push", payload)).status == 202
    await world.settle()
    # the token and one recursive tree read (no config file): the sync then knows docs_dir and stops
    assert [(r.method, r.path.split("/")[-2]) for r in world.standin.requests] == [
        ("POST", "4242"),
        ("GET", "trees"),
    ]


async def test_config_can_turn_the_app_off(world: World):
    world.local.write(".github/repodoc.yml", "enabled: false\n")
    seed(world)
    assert (await world.push_and_deliver()).status == 202
    await world.settle()
    assert world.standin.pulls[FULL] == []
    assert [r.method for r in world.standin.requests if r.method != "GET"] == ["POST"]  # the token only


async def test_other_branches_need_the_config(world: World):
    seed(world)
    head = world.push()
    world.local.git("push", "-q", str(world.store.path), "HEAD:refs/heads/feature")
    payload = world.push_payload("0" * 40, head)
    payload["ref"] = "refs/heads/feature"
    assert (await world.deliver("push", payload)).status == 202
    await world.settle()
    assert world.standin.pulls[FULL] == []


async def test_secrets_never_reach_the_logs(world: World, caplog):
    from tests.standin.server import Fault

    caplog.set_level(logging.DEBUG)
    seed(world)
    world.standin.faults.append(Fault("GET", "/repos/octo-org/demo/git/trees/", 500, times=10))
    await world.push_and_deliver()
    await world.settle()
    assert "failed" in caplog.text
    for token in world.standin.tokens:
        assert token not in caplog.text
    assert "PRIVATE KEY" not in caplog.text


def env(**overrides: str) -> dict[str, str]:
    base = {"GITHUB_APP_ID": APP_ID, "GITHUB_PRIVATE_KEY": app_keys()[0], "GITHUB_WEBHOOK_SECRET": "s"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v}


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"GITHUB_WEBHOOK_SECRET": ""}, "GITHUB_WEBHOOK_SECRET"),
        ({"GITHUB_APP_ID": ""}, "GITHUB_APP_ID"),
        ({"GITHUB_APP_ID": "my-app"}, "GITHUB_APP_ID"),
        ({"GITHUB_PRIVATE_KEY": ""}, "GITHUB_PRIVATE_KEY"),
        ({"GITHUB_PRIVATE_KEY": "not a key"}, "GITHUB_PRIVATE_KEY"),
        ({"GITHUB_PRIVATE_KEY": "", "GITHUB_PRIVATE_KEY_FILE": "/nonexistent/key.pem"}, "GITHUB_PRIVATE_KEY_FILE"),
        ({"GITHUB_API_URL": "ftp://x"}, "GITHUB_API_URL"),
    ],
)
def test_bad_settings_name_the_variable(overrides, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env(**overrides))


def test_settings_repr_hides_secrets():
    settings = Settings.from_env(env())
    assert "PRIVATE" not in repr(settings) and "'s'" not in repr(settings)


def test_serve_refuses_to_start_without_a_secret(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env(GITHUB_WEBHOOK_SECRET="")},
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "repodoc serve: GITHUB_WEBHOOK_SECRET is not set: refusing to accept unsigned webhooks"
    ]


def test_every_missing_setting_is_named_on_its_own_line():
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "repodoc serve: GITHUB_WEBHOOK_SECRET is not set: refusing to accept unsigned webhooks",
        "repodoc serve: GITHUB_APP_ID is not set",
        "repodoc serve: GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_FILE is not set",
    ]


def test_private_key_file(tmp_path):
    key = tmp_path / "key.pem"
    key.write_text(app_keys()[0])
    assert Settings.from_env(env(GITHUB_PRIVATE_KEY="", GITHUB_PRIVATE_KEY_FILE=str(key))).private_key == app_keys()[0]


async def test_a_broken_config_fails_a_check_run_on_the_commit(world: World):
    world.local.write(".github/repodoc.yml", "include: 3\n")
    seed(world)
    assert (await world.push_and_deliver()).status == 202
    await world.settle()
    assert world.standin.pulls[FULL] == []
    [check] = world.standin.check_runs
    assert (check["name"], check["head_sha"], check["conclusion"]) == ("repodoc", world.pushed, "failure")
    assert "key 'include' must be a list" in check["output"]["summary"]
