"""Headless Chromium for the tests that look at a page as a person does: Debian's chromium and chromium-driver
(installed by .ci/test) driven through Selenium."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@contextlib.contextmanager
def chromium(tmp_path: Path, *flags: str, logs: bool = False) -> Iterator[Any]:
    """A Chromium driver with its own profile under tmp_path (more `flags` added); logs: keep the performance
    (responses) and browser (console) logs."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*FLAGS, *flags, f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    if logs:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()
