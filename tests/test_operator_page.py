"""The operator's page (`GET /`) in a real browser: Debian's Chromium driven by Selenium, against `repodoc serve`
after real activity on the GitHub stand-in (a docs pull request opened, a delivery refused, a repository whose
config is broken, a job held running with another pending behind it, a sweep). Without credentials: 401;
with them: what a person sees, at desktop and phone widths, with screenshots. No token set: 404.

REPODOC_UPDATE_SCREENSHOT=1 also writes the screenshots the README shows (`.github/operator-page*.png`)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import jobs
from bot.census import FAILING, PULL, Census, Docs, Repository
from bot.sweep import sweep
from tests import browser
from tests.appworld import FULL, OWNER, SECRET, World
from tests.conftest import APP_ID, app_keys
from webhooks.app import QUEUE, RUNNER, create_app
from webhooks.deliveries import Delivery
from webhooks.page import OPERATOR, Page, authorized, web_url
from webhooks.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "operator-token-0123456789abcdef"  # URL-safe: it goes into http://user:token@host/
BROKEN, BUSY = f"{OWNER}/broken", f"{OWNER}/busy"
HOSTILE_ID = '<img src=x onerror="alert(1)">&amp;'


@pytest.fixture
async def admin_world(tmp_path: Path, standin, aiohttp_client) -> World:
    settings = Settings(APP_ID, app_keys()[0], SECRET, api_url=standin.url, admin_token=TOKEN)
    client = await aiohttp_client(create_app(settings, backoff=0))
    return World(tmp_path, standin, client)


def basic(password: str, user: str = "operator") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def push_other(world: World, full_name: str, files: dict[str, str], delivery: str) -> Any:
    """Commit files on a branch of the local clone, push that commit as `full_name`'s main on the stand-in
    and deliver the push as GitHub would for that repository."""
    head = world.push_feature(f"for-{full_name.split('/')[1]}", files)
    store = world.standin.repos[full_name]
    world.local.git("push", "-q", "--force", str(store.path), f"{head}:refs/heads/main")
    payload = world.push_payload("0" * 40, head)
    payload["repository"].update(name=full_name.split("/")[1], full_name=full_name)
    return await world.deliver("push", payload, delivery)


async def activity(world: World, monkeypatch) -> asyncio.Event:
    """What the page then shows: returns the gate holding a job of BUSY running (set it to let it finish)."""
    world.local.write("pkg/core.py", '"""The core."""\n\ndef run():\n    return 1\n')
    world.local.write("README.md", "# Demo\n")
    world.local.commit("initial")
    assert (await world.push_and_deliver(delivery="push-opens-pr")).status == 202
    await world.settle()
    assert [p["number"] for p in world.standin.open_pulls(FULL)] == [1]

    world.standin.add_repo(BROKEN)
    response = await push_other(world, BROKEN, {".github/repodoc.yml": "max_file_bytes: lots\n"}, "push-broken")
    assert response.status == 202
    await world.settle()  # the sync fails for good: a failed check run on the commit

    bad = await world.deliver("push", world.push_payload("0" * 40, world.pushed), HOSTILE_ID, signature="sha256=00")
    assert bad.status == 401

    found = await sweep(world.client.app[RUNNER], world.client.app[QUEUE], pace=0, census=census(world))
    assert found.queued == [] and found.repositories == 2

    gate = asyncio.Event()
    sync = jobs.RUNS["sync"]

    async def held(gh: Any, job: jobs.Job) -> Any:
        if job.repo == "busy":
            await gate.wait()
        return await sync(gh, job)

    monkeypatch.setitem(jobs.RUNS, "sync", held)
    world.standin.add_repo(BUSY)
    assert (await push_other(world, BUSY, {"busy.py": "X = 1\n"}, "push-busy-1")).status == 202
    assert (await push_other(world, BUSY, {"busy.py": "X = 2\n"}, "push-busy-2")).status == 202
    queue = world.client.app[QUEUE]
    deadline = time.monotonic() + 30
    while not any(w.state == "running" for w in await queue.snapshot()):
        assert time.monotonic() < deadline, "the busy job never started"
        await asyncio.sleep(0.05)
    return gate


def census(world: World) -> Census:
    return world.client.app[OPERATOR].census


@contextlib.contextmanager
def chromium(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium keeping its responses and console logs, without scrollbars (screenshots)."""
    with browser.chromium(tmp_path, "--hide-scrollbars", logs=True) as driver:
        yield driver


def documents(driver: Any) -> list[tuple[int, str]]:
    """The status and WWW-Authenticate of each document the browser received since the last call."""
    found = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived" and message["params"]["type"] == "Document":
            response = message["params"]["response"]
            if "127.0.0.1:" not in response["url"]:
                continue  # the blank page a new window opens
            headers = {k.lower(): v for k, v in response["headers"].items()}
            found.append((int(response["status"]), headers.get("www-authenticate", "")))
    return found


def whole_page(driver: Any, path: Path) -> None:
    """A screenshot of the whole page, below the window's height too (Chromium's own full-page capture)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def look(base: str, tmp_path: Path) -> dict[str, Any]:
    """Open the page as a person would, without then with credentials; what they see, and screenshots."""
    from selenium.webdriver.common.by import By

    seen: dict[str, Any] = {}
    host = base.split("://", 1)[1]
    with chromium(tmp_path) as driver:
        driver.get(base)  # no credentials: Chromium is answered 401 and asks for them (nothing of the page shows)
        seen["anonymous"] = documents(driver)
        seen["anonymous_text"] = driver.find_element(By.TAG_NAME, "body").text
        driver.get_log("browser")  # its console's "401" read and dropped: the page's own console is checked below

        driver.get(f"http://operator:{TOKEN}@{host}")  # credentials in the address: Chromium sends them as Basic
        seen["authorized"] = documents(driver)
        driver.set_window_size(1280, 900)
        seen["title"] = driver.title
        seen["heading"] = driver.find_element(By.TAG_NAME, "h1").text
        seen["summary"] = driver.find_element(By.CSS_SELECTOR, "header .summary").text
        seen["installations"] = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#repositories h3")]
        seen["repositories"] = [
            [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "#repositories tbody tr")
        ]
        seen["failing_rows"] = [
            tr.text for tr in driver.find_elements(By.CSS_SELECTOR, "#repositories tr.failing") if tr.is_displayed()
        ]
        seen["links"] = {
            a.text: a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#repositories a")
        }
        seen["queue"] = driver.find_element(By.ID, "queue").text
        seen["queue_rows"] = [
            [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
        ]
        seen["jobs"] = [
            [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "#jobs tbody tr")
        ]
        seen["deliveries"] = [
            [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "#deliveries tbody tr")
        ]
        seen["images"] = len(driver.find_elements(By.TAG_NAME, "img"))
        seen["scripts"] = len(driver.find_elements(By.TAG_NAME, "script"))
        seen["console"] = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        whole_page(driver, tmp_path / "operator-page.png")

        driver.set_window_size(390, 844)  # a phone
        driver.refresh()
        seen["phone"] = driver.execute_script(
            "return {inner: window.innerWidth, body: document.body.scrollWidth,"
            " doc: document.documentElement.scrollWidth, client: document.documentElement.clientWidth}"
        )
        seen["phone_failing"] = [
            tr.text for tr in driver.find_elements(By.CSS_SELECTOR, "#repositories tr.failing") if tr.is_displayed()
        ]
        whole_page(driver, tmp_path / "operator-page-phone.png")
    return seen


async def test_the_page_in_chromium_with_and_without_credentials(admin_world: World, tmp_path: Path, monkeypatch):
    world = admin_world
    gate = await activity(world, monkeypatch)
    try:
        async with aiohttp.ClientSession() as http:  # what the browser gets, checked at the HTTP level
            base = str(world.client.make_url("/"))
            async with http.get(base) as anonymous:
                assert anonymous.status == 401
                assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="repodoc"'
                assert TOKEN not in await anonymous.text()
            for wrong in (basic(TOKEN[:-1]), basic(TOKEN + "x"), {"Authorization": "Bearer " + TOKEN}):
                async with http.get(base, headers=wrong) as refused:
                    assert refused.status == 401
            async with http.get(base, headers=basic(TOKEN, user="")) as page:
                assert page.status == 200 and page.content_type == "text/html"
                assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none': no script
                assert page.headers["Cache-Control"] == "no-store"
                text = await page.text()
        for secret in (TOKEN, SECRET, app_keys()[0].splitlines()[1]):
            assert secret not in text
        assert "<script" not in text.lower() and "http://" not in text.split("<body>")[0]  # nothing external

        seen = await asyncio.get_running_loop().run_in_executor(None, look, base, tmp_path)
    finally:
        gate.set()
    await world.settle()

    assert seen["anonymous"] == [(401, 'Basic realm="repodoc"')] and seen["anonymous_text"] == ""
    assert seen["authorized"] == [(200, "")]
    assert seen["heading"] == "repodoc" and seen["title"].startswith("repodoc: 1 failing")
    assert "2 repositories (1 failing, 1 PR open)" in seen["summary"] and "last complete sweep" in seen["summary"]
    assert seen["installations"] == ["Installation 4242 · octocat"]

    rows = {(r[0], r[1]): r for r in seen["repositories"]}
    broken = rows[(BROKEN, "main default")]
    assert broken[2] == FAILING and "max_file_bytes" in broken[3] and "check run" in broken[3]
    assert seen["repositories"][0] == broken  # the worst first
    assert seen["failing_rows"] and all(BROKEN in row for row in seen["failing_rows"])
    demo = rows[(FULL, "main default")]
    assert demo[2] == PULL and "PR #1" in demo[3]
    assert seen["links"]["PR #1"].endswith("/octo-org/demo/pull/1")

    assert re.search(r"\b[1-9]\d* running, \d+ retrying, \d+ pending\.", seen["queue"]), seen["queue"]
    held = {r[3]: (r[0], r[1]) for r in seen["queue_rows"]}
    assert held["push-busy-1"] == ("running", BUSY)  # the default branch works under the repository's key
    # the second push waits behind it, or (coalesced, or run beside it) is shown as its key's follow-up
    assert {state for state, _ in held.values()} <= {"running", "pending", "retrying"}
    assert all(key == BUSY for _, key in held.values())
    outcomes = {r[6]: r[3] for r in seen["jobs"]}
    assert outcomes["push-opens-pr"] == "opened PR #1" and outcomes["push-broken"] == "failed"

    deliveries = {r[1]: r for r in seen["deliveries"]}
    assert [r[1] for r in seen["deliveries"][:3]] == ["push-busy-2", "push-busy-1", HOSTILE_ID]  # newest first
    assert deliveries["push-opens-pr"][2:5] == ["push", "", "queued 202"]
    assert deliveries[HOSTILE_ID][4] == "refused 401" and deliveries[HOSTILE_ID][5] == "signature does not match"
    assert seen["images"] == 0 and seen["scripts"] == 0 and seen["console"] == []  # the hostile id stayed text

    phone = seen["phone"]
    assert phone["inner"] <= 400, phone  # the window really is phone-sized
    assert phone["body"] <= phone["client"] and phone["doc"] <= phone["client"], phone  # no sideways scrolling
    assert seen["phone_failing"] and BROKEN in seen["phone_failing"][0]

    for name in ("operator-page.png", "operator-page-phone.png"):
        assert (tmp_path / name).stat().st_size > 10_000
        if os.environ.get("REPODOC_UPDATE_SCREENSHOT"):
            shutil.copyfile(tmp_path / name, ROOT / ".github" / name)

    jobs_now = await world.client.app[QUEUE].recent()
    assert {j.delivery for j in jobs_now} >= {"push-busy-1", "push-busy-2"}  # the held jobs then ran


async def test_no_token_no_page(world: World):
    for method in ("GET", "HEAD"):
        response = await world.client.request(method, "/", headers=basic(""))
        assert response.status == 404
    assert (await world.client.get("/healthz")).status == 200


def test_the_token_setting():
    env = {"GITHUB_APP_ID": APP_ID, "GITHUB_PRIVATE_KEY": app_keys()[0], "GITHUB_WEBHOOK_SECRET": SECRET}
    assert Settings.from_env(env).admin_token is None
    assert Settings.from_env({**env, "REPODOC_ADMIN_TOKEN": TOKEN}).admin_token == TOKEN
    assert TOKEN not in repr(Settings.from_env({**env, "REPODOC_ADMIN_TOKEN": TOKEN}))
    with pytest.raises(SettingsError, match="REPODOC_ADMIN_TOKEN must be at least 16"):
        Settings.from_env({**env, "REPODOC_ADMIN_TOKEN": "short"})


def test_basic_credentials():
    assert authorized(basic(TOKEN)["Authorization"], TOKEN)
    assert authorized(basic(TOKEN, user="")["Authorization"], TOKEN)
    assert authorized(basic("pässwörd-ünicode-1")["Authorization"], "pässwörd-ünicode-1")
    for header in (
        None,
        "",
        "Basic",
        "Basic !!!",
        "Basic " + base64.b64encode(TOKEN.encode()).decode(),  # no colon
        basic(TOKEN)["Authorization"].replace("Basic", "Digest"),
        basic(TOKEN.upper())["Authorization"],
    ):
        assert not authorized(header, TOKEN), header
    assert web_url("https://api.github.com") == "https://github.com"
    assert web_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com"


def test_hostile_names_are_text():
    """Every name from GitHub or a sender is escaped; invisible and reordering characters shown as such."""
    evil = "<script>alert(1)</script>\"'&\u202e\x1b"
    census = Census()
    census.start()
    census.installation(7, evil)
    docs = Docs(evil, FAILING, 3, "javascript:alert(1)", evil, "0" * 40, time.time())
    census.repository(Repository(7, evil, evil, evil, (docs,), evil, time.time()))
    census.end()
    delivery = Delivery(evil, evil, evil, 401, "refused", evil, time.time(), 0.001)
    html = Page("https://github.com", census, [delivery], [], [], evil, time.time()).render()
    assert "<script" not in html and "javascript:" not in html and "\u202e" not in html and "\x1b" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;" in html
    assert 'href="https://github.com/%3Cscript%3Ealert%281%29%3C%2Fscript%3E' in html


def test_the_newer_of_the_sweep_and_the_jobs_decides():
    from bot.census import CURRENT, STALE, docs_states
    from bot.jobs import Finished

    census = Census()
    census.start()
    census.installation(1, "org")
    census.repository(Repository(1, "org", "a", "main", (Docs("main", CURRENT, at=100.0),), at=100.0))
    census.repository(Repository(1, "org", "b", "main", (Docs("main", STALE, at=100.0), Docs("gone", STALE, at=100.0))))
    census.end()
    finished = [  # newest first
        Finished("d5", "close", "org/b:gone", 1, "org", "b", "closed", "branch deleted", 150.0, 1.0),
        Finished("d4", "sync", "org/b:main", 1, "org", "b", "opened", "", 140.0, 1.0, pull=7),
        Finished("d3", "sync", "org/a:main", 1, "org", "a", "failed", "GitHub answered 404", 90.0, 1.0),
        Finished("d2", "bootstrap", "org/c:", 2, "org", "c", "failed", "an error in repodoc", 80.0, 1.0),
        Finished("d1", "pull", "org/c#3", 2, "org", "c", "reported", "docs stale", 70.0, 1.0, pull=9),
    ]
    rows = {row.name: row for row in docs_states(census, finished)}
    assert [(d.target, d.state) for d in rows["a"].docs] == [("main", CURRENT)]  # the sweep came after the failure
    assert [(d.target, d.state, d.pull) for d in rows["b"].docs] == [("main", PULL, 7)]  # gone: deleted since
    assert [(d.target, d.state, d.reason) for d in rows["c"].docs] == [
        ("", FAILING, "an error in repodoc"),
        ("#3", STALE, "docs stale"),
    ]
    assert [row.name for row in docs_states(census, finished)] == ["c", "b", "a"]  # the worst first
    census.start()
    census.end()  # a complete sweep that saw nothing: the repositories are gone, the jobs' remain
    assert [(row.name, row.state) for row in docs_states(census, finished)] == [
        ("a", FAILING),
        ("c", FAILING),
        ("b", PULL),
    ]
    assert [row.name for row in docs_states(census, [])] == []
