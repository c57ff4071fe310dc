"""Every event the App subscribes to has a route, and every route is for an event that reaches the App."""

from __future__ import annotations

from pathlib import Path

import yaml

from webhooks.app import ROUTER

ALWAYS = {"installation", "installation_repositories"}  # delivered to every App without subscribing
BY_PERMISSION = {"check_suite"}  # `checks: write` subscribes the App to it


def routed() -> set[str]:
    return set(ROUTER._shallow_routes) | set(ROUTER._deep_routes)


def test_app_yaml_subscribes_to_exactly_the_routed_events():
    manifest = yaml.safe_load((Path(__file__).parent.parent / "app.yaml").read_text())
    subscribed = set(manifest["default_events"])
    assert subscribed <= routed(), f"subscribed without a route: {subscribed - routed()}"
    assert routed() - subscribed == ALWAYS | BY_PERMISSION
    assert manifest["default_permissions"]["checks"] == "write"


def test_every_action_the_contract_names_is_routed():
    wanted = {
        "pull_request": {"opened", "synchronize", "reopened", "edited", "closed"},
        "issue_comment": {"created"},
        "check_run": {"rerequested"},
        "check_suite": {"rerequested"},
        "installation": {"created", "deleted"},
        "installation_repositories": {"added", "removed"},
    }
    for event, actions in wanted.items():
        assert actions <= set(ROUTER._deep_routes[event]["action"]), event
