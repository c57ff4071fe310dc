"""app.yaml is a GitHub App manifest with the least permissions repodoc needs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.standin.spec import EXAMPLES_FILE

ROOT = Path(__file__).resolve().parents[1]


def test_manifest_permissions_and_events():
    manifest = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert manifest["name"] == "repodoc"
    assert manifest["hook_attributes"]["url"].endswith("/webhooks")
    assert manifest["default_permissions"] == {
        "contents": "write",
        "pull_requests": "write",
        "issues": "write",
        "checks": "write",
        "metadata": "read",
    }
    known = {e["name"] for e in json.loads(EXAMPLES_FILE.read_text())}
    assert "push" in manifest["default_events"] and set(manifest["default_events"]) <= known
