"""Regenerate bot/github/manifest_terms.json (the permission names and levels, and the webhook events,
that a GitHub App manifest may name) from GitHub's OpenAPI description in node_modules (`npm ci` first).

    python3 tools/manifest_terms.py > bot/github/manifest_terms.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "node_modules" / "@octokit" / "openapi"


def terms(spec: dict[str, Any]) -> dict[str, Any]:
    """Permission name -> levels, and the events, as the description lists them."""
    props = spec["components"]["schemas"]["app-permissions"]["properties"]
    permissions = {name: sorted(p["enum"]) for name, p in sorted(props.items())}
    events = set()
    for hook in spec["x-webhooks"].values():
        for param in hook["post"].get("parameters", []):
            if param["name"].lower() == "x-github-event":
                events.add(param["example"])
    return {"permissions": permissions, "events": sorted(events)}


def main() -> int:
    spec = json.loads((PACKAGE / "generated" / "api.github.com.json").read_text())
    version = json.loads((PACKAGE / "package.json").read_text())["version"]
    data = {"source": f"@octokit/openapi@{version}", **terms(spec)}
    sys.stdout.write(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
