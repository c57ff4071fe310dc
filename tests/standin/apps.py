"""GitHub's side of the App manifest flow: the "new GitHub App" web page and the code conversion
(https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import spec

if TYPE_CHECKING:
    from .server import GitHubStandIn

CODE_LIFETIME = 3600


@dataclass
class Pending:
    """A manifest GitHub accepted, waiting for its code to be exchanged."""

    manifest: dict[str, Any]
    owner: str
    made: float


class ManifestFlow:
    """The web page that creates an App from a posted manifest, and the one-use codes it hands out."""

    def __init__(self, standin: GitHubStandIn) -> None:
        self.standin = standin
        self.pending: dict[str, Pending] = {}
        self.created: list[dict[str, Any]] = []

    def web_app(self) -> web.Application:
        """github.com's pages (not the API): the form target for a user and for an organisation."""
        app = web.Application()
        app.router.add_post("/settings/apps/new", self.new_app)
        app.router.add_post("/organizations/{org}/settings/apps/new", self.new_app)
        return app

    async def new_app(self, request: web.Request) -> web.Response:
        """Take the posted manifest, as a person pressing "Create GitHub App" would, and redirect back."""
        form = await request.post()
        try:
            manifest = json.loads(str(form["manifest"]))
            redirect = manifest["redirect_url"]
        except (KeyError, ValueError, TypeError):
            return web.Response(status=422, text="Invalid GitHub App configuration")
        code = secrets.token_hex(10)
        self.pending[code] = Pending(manifest, request.match_info.get("org", "octocat"), time.time())
        query = {"code": code, **({"state": request.query["state"]} if "state" in request.query else {})}
        raise web.HTTPFound(f"{redirect}?{urlencode(query)}")

    async def conversion(self, request: web.Request) -> web.Response:
        """POST /app-manifests/{code}/conversions: one use, within an hour; the App's key becomes the
        stand-in's, so that `repodoc serve` started from the written `.env` can authenticate."""
        pending = self.pending.pop(request.match_info["code"], None)
        if pending is None or time.time() - pending.made > CODE_LIFETIME:
            return web.json_response(
                {"message": "Not Found", "documentation_url": "https://docs.github.com"}, status=404
            )
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode()
        public = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        app_id = 100_000 + len(self.created)
        self.standin.app_id, self.standin.public_key = str(app_id), public
        manifest = pending.manifest
        slug = str(manifest["name"]).lower().replace(" ", "-")
        data = spec.example("integration-from-manifest")
        data.update(
            id=app_id,
            slug=slug,
            name=manifest["name"],
            description=manifest.get("description", ""),
            external_url=manifest.get("url", ""),
            html_url=f"https://github.com/apps/{slug}",
            permissions=manifest.get("default_permissions", {}),
            events=manifest.get("default_events", []),
            webhook_secret=secrets.token_hex(20),
            client_secret=secrets.token_hex(20),
            pem=pem,
        )
        data["owner"]["login"] = pending.owner
        self.created.append({"manifest": manifest, "response": data})
        return web.json_response(data, status=201)
