"""Material's version selector in headless Chromium reads the versions.json the plugin wrote:
it lists the versions, and switching lands on the same page in the other version."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUCKET, EXAMPLE_SITE, Accounts
from tests.integration.test_mkdocs_e2e import build, job_env
from tests.support.browser import Browser, browser_unavailable_reason, start_browser
from tests.support.webfront import WebFront

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    reason = browser_unavailable_reason()
    if reason and "chromium missing" in reason.lower():
        pytest.skip(reason)
    instance = start_browser()
    try:
        yield instance
    finally:
        instance.quit()


@pytest.fixture
def versioned_front(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> Iterator[WebFront]:
    if importlib.util.find_spec("material") is None:
        pytest.fail("mkdocs-material is in the test extra; install it: pip install -e '.[test]'")
    site = tmp_path / "example-site"
    shutil.copytree(EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("site"))
    with WebFront(docs_bucket, BUCKET) as web:
        for version in ("1.0", "2.0"):
            env = job_env(
                accounts,
                DOCS_VERSION=version,
                DOCS_COPYRIGHT=f"Example Docs {version}",
                DOCS_SITE_URL=f"{web.url}{version}/",
            )
            proc = build(site, env, "-f", "mkdocs-versions.yml")
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert f"Published to s3://{BUCKET}/{version}/" in proc.stdout + proc.stderr
        yield web


def test_version_selector_lists_versions_and_switches_to_the_same_page(
    versioned_front: WebFront, chromium: Browser
) -> None:
    chromium.open(versioned_front.url + "1.0/guide/install/")
    assert chromium.wait_for("(document.querySelector('.md-version__current') || {}).textContent", timeout=15) == "1.0"
    listed = chromium.wait_for(
        "Array.from(document.querySelectorAll('.md-version__link')).map(a => a.textContent.trim())"
    )
    assert listed[:2] == ["2.0", "1.0"], listed
    chromium.execute(
        "Array.from(document.querySelectorAll('.md-version__link')).find(a => a.textContent.trim() === '2.0').click()"
    )
    path = chromium.wait_for("location.pathname === '/2.0/guide/install/' ? location.pathname : null", timeout=15)
    assert path == "/2.0/guide/install/"
    assert "Example Docs 2.0" in chromium.evaluate("document.body.textContent")

    # the root redirects to the default (latest), whose selector names the version it is an alias of
    chromium.open(versioned_front.url)
    assert chromium.wait_for("location.pathname === '/latest/' ? location.pathname : null", timeout=15) == "/latest/"
    assert "Example Docs 2.0" in chromium.evaluate("document.body.textContent")
