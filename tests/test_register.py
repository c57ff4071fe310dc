"""`repodoc register`: the manifest flow through real HTTP, against the stand-in's "new App" page and
its checked `POST /app-manifests/{code}/conversions`; files of mode 0600; a bad app.yaml refused."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import stat
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from dotenv import dotenv_values

from bot import register
from bot.cli import main
from tests.browser import chromium
from tests.standin import spec

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = "https://docs-bot.example.org"


class Form(HTMLParser):
    """The first form of a page: its action and its inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.action:
            self.action = values.get("action", "")
        if tag == "input":
            self.fields[values.get("name", "")] = values.get("value", "")


@pytest.fixture
async def github_web(standin, aiohttp_server):
    """github.com's "new App" pages, handing codes to the stand-in's conversion endpoint."""
    server = await aiohttp_server(standin.manifests.web_app())
    return str(server.make_url("")).rstrip("/")


def options(tmp_path: Path, github_web: str, standin: Any, **more: Any) -> register.Options:
    return register.Options(PUBLIC, github_url=github_web, api_url=standin.url, directory=tmp_path, **more)


async def start(opts: register.Options) -> tuple[asyncio.Task[register.Registered], str]:
    """Run a registration in the background; returns it and the page's URL."""
    said: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(register.register(opts, said.put_nowait, timeout=30))
    first = await asyncio.wait_for(said.get(), 10)
    return task, first.split()[1]


async def read_form(http: aiohttp.ClientSession, page_url: str) -> Form:
    """The registration page's form, as a browser would read it."""
    async with http.get(page_url) as page:
        form = Form()
        form.feed(await page.text())
    return form


async def press(page_url: str) -> None:
    """Press the page's button: post its form to GitHub, which redirects back to the page's server."""
    async with aiohttp.ClientSession() as http:
        form = await read_form(http, page_url)
        async with http.post(form.action, data={"manifest": form.fields["manifest"]}) as done:
            assert done.status == 200, await done.text()


def test_the_shipped_terms_are_githubs():
    path = ROOT / "tools" / "manifest_terms.py"
    module_spec = importlib.util.spec_from_file_location("manifest_terms", path)
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    shipped = register._terms()
    assert {k: shipped[k] for k in ("permissions", "events")} == module.terms(spec.spec())


def test_app_yaml_is_a_valid_manifest_and_the_package_ships_it():
    assert register.check_manifest(yaml.safe_load((ROOT / "app.yaml").read_text())) == []
    assert register.read_manifest(None) == yaml.safe_load((ROOT / "app.yaml").read_text())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"default_permissions": {"contents": "admin"}}, "contents takes read or write, not 'admin'"),
        ({"default_permissions": {"contnets": "write"}}, "unknown permission 'contnets'"),
        ({"default_events": ["push", "pushes"]}, "unknown event 'pushes'"),
        ({"name": "x" * 35}, "name must be a text of 1 to 34 characters"),
        ({"hook_url": "https://x"}, "unknown key 'hook_url'"),
        ({"default_events": "push"}, "default_events must be a list"),
    ],
)
def test_a_bad_manifest_is_refused_before_anything_is_served(tmp_path: Path, capsys, change, problem):
    manifest = {**yaml.safe_load((ROOT / "app.yaml").read_text()), **change}
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(manifest))
    assert main(["register", "--public-url", PUBLIC, "--manifest", str(path)]) == 2
    assert problem in capsys.readouterr().err
    assert not (tmp_path / ".env").exists()


def test_a_manifest_that_is_not_yaml_names_the_line_only(tmp_path: Path, capsys):
    path = tmp_path / "app.yaml"
    path.write_text("name: repodoc\nsecret-looking: [unclosed\n")
    assert main(["register", "--public-url", PUBLIC, "--manifest", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not valid YAML at line" in err and "secret-looking" not in err


async def test_the_whole_flow_writes_private_files(tmp_path: Path, standin, github_web):
    task, page_url = await start(options(tmp_path, github_web, standin, org="octo-org"))
    async with aiohttp.ClientSession() as http:
        form = await read_form(http, page_url)
        assert form.action.startswith(f"{github_web}/organizations/octo-org/settings/apps/new?state=")
        manifest = json.loads(form.fields["manifest"])
        assert manifest["hook_attributes"]["url"] == f"{PUBLIC}/webhooks" and manifest["url"] == PUBLIC
        assert manifest["redirect_url"].startswith("http://127.0.0.1:")
        assert manifest["default_permissions"] == yaml.safe_load((ROOT / "app.yaml").read_text())["default_permissions"]
        async with http.post(form.action, data={"manifest": form.fields["manifest"]}) as done:
            assert done.status == 200 and "Registered" in await done.text()
    registered = await task
    created = standin.manifests.created[0]["response"]
    assert registered.app_id == created["id"] and registered.install_url.endswith("/installations/new")
    env = dotenv_values(tmp_path / ".env")
    assert env == {
        "GITHUB_APP_ID": str(created["id"]),
        "GITHUB_PRIVATE_KEY_FILE": str(tmp_path / "repodoc.private-key.pem"),
        "GITHUB_WEBHOOK_SECRET": created["webhook_secret"],
        "GITHUB_API_URL": standin.url,
    }
    assert Path(env["GITHUB_PRIVATE_KEY_FILE"] or "").read_text() == created["pem"]
    for path in (tmp_path / ".env", tmp_path / "repodoc.private-key.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_wrong_state_is_refused_and_the_right_one_still_works(tmp_path: Path, standin, github_web):
    task, page_url = await start(options(tmp_path, github_web, standin))
    async with aiohttp.ClientSession() as http:
        form = await read_form(http, page_url)
        forged = form.action.split("?")[0] + "?state=forged"
        async with http.post(forged, data={"manifest": form.fields["manifest"]}) as refused:
            assert refused.status == 400 and "does not match" in await refused.text()
        assert not (tmp_path / ".env").exists() and not task.done()
        async with http.post(form.action, data={"manifest": form.fields["manifest"]}) as done:
            assert done.status == 200
    assert (await task).slug == "repodoc"


async def test_existing_credentials_are_kept_without_force(tmp_path: Path, standin, github_web):
    (tmp_path / ".env").write_text("GITHUB_APP_ID=1\n")
    with pytest.raises(register.UsageProblem, match="pass --force"):
        await register.register(options(tmp_path, github_web, standin), print, timeout=5)
    assert (tmp_path / ".env").read_text() == "GITHUB_APP_ID=1\n"
    task, page_url = await start(options(tmp_path, github_web, standin, force=True))
    await press(page_url)
    await task
    assert dotenv_values(tmp_path / ".env")["GITHUB_APP_ID"] != "1"
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600


async def test_a_used_code_is_not_taken_twice(tmp_path: Path, standin, github_web):
    task, page_url = await start(options(tmp_path, github_web, standin))
    async with aiohttp.ClientSession() as http:
        form = await read_form(http, page_url)
        async with http.post(form.action, data={"manifest": form.fields["manifest"]}, allow_redirects=False) as r:
            callback = r.headers["Location"]
        async with http.get(callback) as first:
            assert first.status == 200
        async with http.get(callback) as again:
            assert "Already registered" in await again.text()
    await task


def test_enterprise_server_urls():
    assert register.api_root("https://github.com") == "https://api.github.com"
    assert register.api_root("https://ghe.example.com/") == "https://ghe.example.com/api/v3"
    assert (
        register.new_app_url("https://ghe.example.com", None, "s")
        == "https://ghe.example.com/settings/apps/new?state=s"
    )


async def test_in_a_real_browser_from_the_command_line(tmp_path: Path, standin, github_web):
    """`repodoc register` as a user runs it; Chromium opens the page and presses the button."""
    env = {"GITHUB_API_URL": standin.url, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "register",
        "--public-url",
        PUBLIC,
        "--github-url",
        github_web,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
    page_url = first.split()[1]
    text = await asyncio.get_running_loop().run_in_executor(None, press_the_button, page_url, tmp_path)
    assert "Registered" in text
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    created = standin.manifests.created[0]["response"]
    printed = first + out.decode() + err.decode()
    assert "/installations/new" in printed and created["webhook_secret"] not in printed
    assert "PRIVATE KEY" not in printed
    assert dotenv_values(tmp_path / ".env")["GITHUB_APP_ID"] == str(created["id"])


def press_the_button(url: str, tmp_path: Path) -> str:
    """Open url in headless Chromium, press the page's button, return the text of where it leads."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(tmp_path) as driver:
        driver.get(url)
        assert driver.find_element(By.TAG_NAME, "h1").text == "Register repodoc"
        driver.find_element(By.TAG_NAME, "button").click()
        # the page navigates twice (to GitHub's page, which redirects back): wait for the last address,
        # then for its heading, ignoring elements that vanish while a page is replaced
        WebDriverWait(driver, 30).until(lambda d: "/callback" in d.current_url)
        wait = WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,))
        wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text not in ("", "Register repodoc"))
        driver.save_screenshot(str(tmp_path / "registered.png"))
        return str(driver.find_element(By.TAG_NAME, "body").text)


def test_the_environment_wins_over_dotenv(tmp_path: Path):
    from webhooks.settings import environment

    (tmp_path / ".env").write_text('GITHUB_APP_ID="1"\nGITHUB_WEBHOOK_SECRET="from file"\n')
    env = environment({"GITHUB_APP_ID": "2"}, tmp_path / ".env")
    assert env == {"GITHUB_APP_ID": "2", "GITHUB_WEBHOOK_SECRET": "from file"}
    assert environment({"X": "1"}, tmp_path / "absent") == {"X": "1"}


async def test_register_then_serve_from_the_dotenv_alone(tmp_path: Path, world, github_web):
    """`repodoc register` then `repodoc serve` in the same folder, with no GITHUB_* variable set."""
    from tests.appworld import sign
    from tests.serving import free_port

    site = tmp_path / "site"
    site.mkdir()
    task, page_url = await start(options(site, github_web, world.standin))
    await press(page_url)
    await task
    secret = dotenv_values(site / ".env")["GITHUB_WEBHOOK_SECRET"] or ""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "REDIS_URL"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port), cwd=site, env=env
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get(base + "/healthz") as health:
                        if health.status == 200:
                            break
                await asyncio.sleep(0.1)
            world.local.write("m.py", '"""A module."""\n')
            world.local.commit("one")
            after = world.push()
            body = json.dumps(world.push_payload("0" * 40, after)).encode()
            headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1", "Content-Type": "application/json"}
            async with http.post(
                base + "/webhooks", data=body, headers={**headers, "X-Hub-Signature-256": "sha256=0"}
            ) as r:
                assert r.status == 401  # the old secret is not the registered App's
            async with http.post(
                base + "/webhooks", data=body, headers={**headers, "X-Hub-Signature-256": sign(body, secret)}
            ) as r:
                assert r.status == 202
            for _ in range(300):
                if world.standin.open_pulls("octo-org/demo"):
                    break
                await asyncio.sleep(0.1)
        assert world.standin.open_pulls("octo-org/demo"), "no pull request: the App could not authenticate"
    finally:
        proc.terminate()
        await proc.wait()
