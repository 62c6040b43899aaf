"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium.

Only the Debian binaries are used: the driver path is given explicitly, so
Selenium Manager never runs and nothing is downloaded. Needs
``apt-get install -y chromium chromium-driver`` and ``pip install selenium``.

::

    with open_browser() as browser:
        browser.open("http://127.0.0.1:8000/")
        assert browser.evaluate("document.title") == "Home"
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or "/usr/bin/chromedriver")
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    "--disable-extensions",
)


def browser_unavailable_reason(chromium: Path = CHROMIUM, chromedriver: Path = CHROMEDRIVER) -> str | None:
    """Why a browser cannot be started here, or ``None`` if it can.

    Browser tests skip with this reason: Chromium, its driver and selenium are all needed, and a
    machine with only one of the two Debian packages skips rather than erroring.
    """
    if not chromium.exists():
        return f"{chromium} missing: apt-get install -y chromium chromium-driver"
    if not chromedriver.exists():
        return f"{chromedriver} missing: apt-get install -y chromium-driver"
    if importlib.util.find_spec("selenium") is None:
        return "selenium not installed: pip install selenium"
    return None


class Browser:
    """One headless Chromium with a fresh profile. Call :meth:`quit` when done."""

    def __init__(self, driver: Any, profile_dir: Path) -> None:
        self.driver = driver
        self.profile_dir = profile_dir

    def open(self, url: str) -> None:
        """Navigate to ``url`` and wait for the load event (page-load timeout applies)."""
        self.driver.get(url)

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page and return its value.

        Uses global ``eval`` so the last expression of a short script is the
        value; a returned Promise is awaited. DOM nodes come back as Selenium
        elements, plain data as Python values.
        """
        return self.driver.execute_script("return (0, eval)(arguments[0]);", expression)

    def execute(self, script: str, *args: Any) -> Any:
        """Run a function body (``return`` for a value); ``arguments[i]`` are ``args``."""
        return self.driver.execute_script(script, *args)

    def wait_for(self, expression: str, timeout: float = 10.0, interval: float = 0.05) -> Any:
        """Poll ``expression`` until it is truthy; return that value or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            last = self.evaluate(expression)
            if last:
                return last
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{expression!r} still {last!r} after {timeout}s")
            time.sleep(interval)

    @property
    def title(self) -> str:
        return str(self.driver.title)

    @property
    def url(self) -> str:
        return str(self.driver.current_url)

    def computed_style(self, selector: str, prop: str) -> str:
        """``getComputedStyle(document.querySelector(selector))[prop]``."""
        value = self.execute(
            "const el = document.querySelector(arguments[0]);"
            "return el ? getComputedStyle(el).getPropertyValue(arguments[1]) : null;",
            selector,
            prop,
        )
        if value is None:
            raise LookupError(f"no element matches {selector!r}")
        return str(value)

    def console_messages(self) -> list[dict[str, Any]]:
        """Browser console entries since the last call (errors such as refused
        stylesheets show up here)."""
        return list(self.driver.get_log("browser"))

    def screenshot(self, path: Path) -> Path:
        self.driver.save_screenshot(str(path))
        return path

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile_dir, ignore_errors=True)


def start_browser(
    *,
    chromium: Path = CHROMIUM,
    chromedriver: Path = CHROMEDRIVER,
    window_size: tuple[int, int] = (1280, 900),
    page_load_timeout: float = 30.0,
    extra_flags: tuple[str, ...] = (),
) -> Browser:
    """Start chromedriver + headless Chromium with a fresh ``--user-data-dir``."""
    reason = browser_unavailable_reason(chromium, chromedriver)
    if reason:
        raise RuntimeError(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in (*CHROMIUM_FLAGS, *extra_flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={window_size[0]},{window_size[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(chromedriver))
    try:
        driver = webdriver.Chrome(options=options, service=service)
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    driver.set_page_load_timeout(page_load_timeout)
    driver.set_script_timeout(page_load_timeout)
    return Browser(driver, profile)


@contextlib.contextmanager
def open_browser(**kwargs: Any) -> Iterator[Browser]:
    """Context manager around :func:`start_browser` that always quits."""
    browser = start_browser(**kwargs)
    try:
        yield browser
    finally:
        browser.quit()
