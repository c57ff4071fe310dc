"""`repodoc register`: create the GitHub App from app.yaml through GitHub's manifest flow and write its
credentials to `.env` (https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest).

The flow: a page on 127.0.0.1 posts the manifest (JSON in the `manifest` field) to GitHub's "new App"
page with a random `state`; GitHub creates the App and redirects back with a `code`; repodoc checks the
state and exchanges the code (`POST /app-manifests/{code}/conversions`, no authentication, valid for an
hour) for the App's id, private key and webhook secret, which go to files of mode 0600, never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import gidgethub
import gidgethub.aiohttp
import yaml
from aiohttp import web

GITHUB = "https://github.com"
GITHUB_API = "https://api.github.com"
CODE_LIFETIME = 3600  # seconds GitHub keeps a manifest code valid
ENV_FILE = ".env"
MANIFEST_KEYS = {
    "name",
    "url",
    "hook_attributes",
    "redirect_url",
    "callback_urls",
    "setup_url",
    "description",
    "public",
    "default_events",
    "default_permissions",
    "request_oauth_on_install",
    "setup_on_update",
}
NAME_MAX = 34  # GitHub refuses longer App names


class RegisterError(Exception):
    """Registration failed on the way; the message says why and what to do (exit 1)."""


class UsageProblem(RegisterError):
    """Bad usage or a bad manifest, found before anything is asked of GitHub (exit 2)."""


@dataclass(frozen=True)
class Options:
    """The command line of `repodoc register`."""

    public_url: str
    org: str | None = None
    github_url: str = GITHUB
    manifest: Path | None = None
    force: bool = False
    directory: Path = Path(".")
    api_url: str | None = None  # GITHUB_API_URL; default derived from github_url


@dataclass(frozen=True)
class Registered:
    """What the conversion gave, minus the secrets."""

    app_id: int
    slug: str
    html_url: str
    key_file: Path
    env_file: Path

    @property
    def install_url(self) -> str:
        return f"{self.html_url}/installations/new"


def _terms() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("bot.github").joinpath("manifest_terms.json").read_text())
    return data


def read_manifest(path: Path | None) -> dict[str, Any]:
    """app.yaml (the packaged copy when path is None), parsed and checked; raises RegisterError."""
    source = resources.files("bot").joinpath("app.yaml") if path is None else path
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"{path}: cannot read the manifest: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageProblem(f"{path or 'app.yaml'}: not valid YAML{where}") from None
    problems = check_manifest(data)
    if problems:
        raise UsageProblem("app.yaml is not a valid GitHub App manifest:\n" + "\n".join(f"  {p}" for p in problems))
    return dict(data)


def check_manifest(data: Any) -> list[str]:
    """Every problem of a manifest, one line each (empty when GitHub would take it)."""
    if not isinstance(data, dict):
        return ["the manifest must be a mapping of keys"]
    terms = _terms()
    problems = [f"unknown key {key!r}" for key in sorted(set(map(str, data)) - MANIFEST_KEYS)]
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        problems.append(f"name must be a text of 1 to {NAME_MAX} characters")
    permissions = data.get("default_permissions", {})
    if not isinstance(permissions, dict):
        problems.append("default_permissions must map permission names to levels")
        permissions = {}
    for perm, level in permissions.items():
        levels = terms["permissions"].get(perm)
        if levels is None:
            problems.append(f"default_permissions: unknown permission {perm!r}")
        elif level not in levels:
            problems.append(f"default_permissions: {perm} takes {' or '.join(levels)}, not {level!r}")
    events = data.get("default_events", [])
    if not isinstance(events, list):
        problems.append("default_events must be a list of event names")
        events = []
    problems += [f"default_events: unknown event {e!r}" for e in events if e not in terms["events"]]
    hook = data.get("hook_attributes", {})
    if not isinstance(hook, dict):
        problems.append("hook_attributes must be a mapping")
    return problems


def filled(manifest: dict[str, Any], public_url: str, redirect_url: str) -> dict[str, Any]:
    """The manifest with this server's addresses: its page, its webhook URL and the loopback redirect."""
    base = public_url.rstrip("/")
    hook = {**(manifest.get("hook_attributes") or {}), "url": f"{base}/webhooks", "active": True}
    return {**manifest, "url": base, "hook_attributes": hook, "redirect_url": redirect_url}


def api_root(github_url: str) -> str:
    """REST API root of a GitHub: api.github.com, or `/api/v3` on Enterprise Server."""
    base = github_url.rstrip("/")
    return GITHUB_API if base == GITHUB else f"{base}/api/v3"


def new_app_url(github_url: str, org: str | None, state: str) -> str:
    """GitHub's page that creates an App from a posted manifest, for a user or an organisation."""
    base = github_url.rstrip("/")
    where = f"/organizations/{quote(org, safe='')}" if org else ""
    return f"{base}{where}/settings/apps/new?{urlencode({'state': state})}"


def check_url(name: str, url: str) -> str:
    """The URL without a trailing slash; RegisterError unless it is http(s) with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageProblem(f"{name} must be an http(s) URL with a host, not {url!r}")
    return url.rstrip("/")


def env_text(app_id: int, key_file: Path, secret: str, api_url: str | None) -> str:
    """The `.env` lines (double-quoted values, as python-dotenv reads them)."""
    values = {"GITHUB_APP_ID": str(app_id), "GITHUB_PRIVATE_KEY_FILE": str(key_file), "GITHUB_WEBHOOK_SECRET": secret}
    if api_url:
        values["GITHUB_API_URL"] = api_url
    quoted = {k: '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for k, v in values.items()}
    return "# written by `repodoc register`; `repodoc serve` and `repodoc worker` read it\n" + "".join(
        f"{k}={v}\n" for k, v in quoted.items()
    )


def write_private(path: Path, text: str, force: bool) -> None:
    """Write a file readable by its owner only (0600 from its creation), refusing to replace one without force."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    target = path.with_name(path.name + ".tmp") if force else path
    with contextlib.suppress(FileNotFoundError):
        if force:
            target.unlink()
    fd = os.open(target, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    if force:
        os.replace(target, path)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;max-width:40em;"
        "margin:2em auto;padding:0 1em;line-height:1.5}button{font-size:1.1em;padding:.5em 1em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=text, content_type="text/html", status=status)


class Flow:
    """The loopback server of one registration: the button page and the redirect GitHub sends back."""

    def __init__(self, opts: Options, manifest: dict[str, Any], session: aiohttp.ClientSession) -> None:
        self.opts = opts
        self.manifest = manifest
        self.session = session
        self.state = secrets.token_urlsafe(32)
        self.redirect_url = ""
        self.done: asyncio.Future[Registered] = asyncio.get_running_loop().create_future()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.start)
        app.router.add_get("/callback", self.callback)
        return app

    async def start(self, request: web.Request) -> web.Response:
        """The page with one button: a form that posts the manifest to GitHub."""
        manifest = json.dumps(filled(self.manifest, self.opts.public_url, self.redirect_url))
        action = new_app_url(self.opts.github_url, self.opts.org, self.state)
        owner = f"the organisation {html.escape(self.opts.org)}" if self.opts.org else "your account"
        form = (
            f"<p>This creates the GitHub App <b>{html.escape(str(self.manifest['name']))}</b> for {owner} on "
            f"{html.escape(self.opts.github_url)}, sending its webhooks to "
            f"<code>{html.escape(self.opts.public_url)}/webhooks</code>.</p>"
            f"<form method='post' action='{html.escape(action, quote=True)}'>"
            f"<input type='hidden' name='manifest' value='{html.escape(manifest, quote=True)}'>"
            "<button type='submit'>Register GitHub App</button></form>"
        )
        return _page("Register repodoc", form)

    async def callback(self, request: web.Request) -> web.Response:
        """GitHub's redirect: check the state, exchange the code, write the files."""
        code, state = request.query.get("code", ""), request.query.get("state", "")
        if not secrets.compare_digest(state.encode(), self.state.encode()):
            return _page("Not registered", "<p>The state does not match this registration: ignored.</p>", 400)
        if self.done.done():
            return _page("Already registered", "<p>This registration is complete.</p>")
        try:
            registered = await self.convert(code)
        except (RegisterError, gidgethub.GitHubException, aiohttp.ClientError, KeyError, TypeError) as exc:
            message = str(exc) if isinstance(exc, RegisterError) else f"the code exchange failed: {exc!r}"
            self.done.set_exception(RegisterError(message))
            return _page("Not registered", f"<p>{html.escape(message)}</p>", 502)
        self.done.set_result(registered)
        install = html.escape(registered.install_url, quote=True)
        return _page(
            "Registered",
            f"<p>The App <a href='{html.escape(registered.html_url, quote=True)}'>{html.escape(registered.slug)}</a>"
            f" exists. Its credentials are in <code>{html.escape(str(registered.env_file))}</code>.</p>"
            f"<p>Next: <a href='{install}'>install it on a repository</a>, then run <code>repodoc serve</code>.</p>",
        )

    async def convert(self, code: str) -> Registered:
        """POST /app-manifests/{code}/conversions, then the key and `.env` files."""
        # https://docs.github.com/en/rest/apps/apps#create-a-github-app-from-a-manifest (no authentication)
        api = self.opts.api_url or api_root(self.opts.github_url)
        gh = gidgethub.aiohttp.GitHubAPI(self.session, "repodoc", base_url=api)
        app = await gh.post("/app-manifests/{code}/conversions", {"code": code}, data=b"")
        directory = self.opts.directory.resolve()
        key_file = directory / f"{app['slug']}.private-key.pem"
        env_file = directory / ENV_FILE
        write_private(key_file, app["pem"], self.opts.force)
        custom_api = None if api == GITHUB_API else api
        write_private(env_file, env_text(int(app["id"]), key_file, app["webhook_secret"], custom_api), self.opts.force)
        return Registered(int(app["id"]), app["slug"], app["html_url"], key_file, env_file)


def _refuse_overwrite(opts: Options) -> None:
    env = opts.directory / ENV_FILE
    if (env.exists() or env.is_symlink()) and not opts.force:
        raise UsageProblem(f"{env} exists: pass --force to replace it (and the key file it names)")


async def register(
    opts: Options,
    say: Callable[[str], None],
    timeout: float = CODE_LIFETIME,
    open_page: Callable[[str], object] | None = None,
) -> Registered:
    """Serve the registration page on loopback until GitHub's redirect completes it (or timeout)."""
    opts = Options(
        check_url("--public-url", opts.public_url),
        opts.org,
        check_url("--github-url", opts.github_url),
        opts.manifest,
        opts.force,
        opts.directory,
        opts.api_url,
    )
    manifest = read_manifest(opts.manifest)
    _refuse_overwrite(opts)
    async with aiohttp.ClientSession() as session:
        flow = Flow(opts, manifest, session)
        runner = web.AppRunner(flow.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        local = f"http://127.0.0.1:{port}/"
        flow.redirect_url = f"{local}callback"
        say(f"Open {local} in a browser on this machine and press the button.")
        say(f"On a server over SSH, tunnel it first: ssh -L {port}:127.0.0.1:{port} <this host>, then open {local}")
        if open_page is not None:
            open_page(local)
        try:
            return await asyncio.wait_for(asyncio.shield(flow.done), timeout)
        except TimeoutError:
            raise RegisterError(f"no answer from GitHub within {timeout:.0f} s: run `repodoc register` again") from None
        finally:
            await asyncio.sleep(0.2)  # let the last page reach the browser
            await runner.cleanup()


def _open_browser(url: str) -> None:
    """Open url in the desktop's browser when there is a desktop (never a text browser in the terminal)."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform in ("darwin", "win32"):
        import webbrowser

        with contextlib.suppress(webbrowser.Error):
            webbrowser.open(url)


def main(opts: Options) -> int:
    """Run a registration from the command line; 0 registered, 1 failed, 2 bad usage or manifest."""
    try:
        done = asyncio.run(register(opts, lambda line: print(line, flush=True), open_page=_open_browser))
    except RegisterError as exc:
        print(f"repodoc register: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageProblem) else 1
    print(f"Registered the GitHub App {done.slug} (id {done.app_id}): {done.html_url}")
    print(f"Credentials written to {done.env_file} and {done.key_file} (mode 0600).")
    print(f"Install it on a repository: {done.install_url}")
    print("Then start the server in this folder: repodoc serve")
    return 0
