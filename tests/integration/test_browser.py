"""The published example-site works in a real browser: `mkdocs build` publishes it to moto,
a WebFront serves the bucket and headless Chromium loads it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUCKET, EXAMPLE_SITE, Accounts
from tests.integration.test_mkdocs_e2e import build, job_env
from tests.support.browser import Browser, start_browser
from tests.support.fixtures import skip_without_browser
from tests.support.webfront import WebFront

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    skip_without_browser()
    instance = start_browser()
    try:
        yield instance
    finally:
        instance.quit()


@pytest.fixture
def front(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> Iterator[WebFront]:
    site = tmp_path / "example-site"
    shutil.copytree(EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("site"))
    proc = build(site, job_env(accounts))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Published to s3://" in proc.stdout + proc.stderr
    with WebFront(docs_bucket, BUCKET) as web:
        yield web


def test_published_site_renders_in_chromium(front: WebFront, chromium: Browser) -> None:
    chromium.open(front.url)
    assert "Example Docs" in chromium.title

    # The stylesheet from docs/css/extra.css applied.
    assert chromium.computed_style("h1", "color") == "rgb(12, 34, 56)"

    # The site's JavaScript ran.
    assert chromium.wait_for("document.documentElement.dataset.exampleJs") == "ran"

    # The logo image decoded.
    width = chromium.wait_for(
        "(() => { const i = document.querySelector('img[src$=\"logo.png\"]');"
        " return i && i.complete ? i.naturalWidth : 0; })()"
    )
    assert width > 0

    # The search index is served as JSON and contains the unicode page.
    index = chromium.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(new URL('search/search_index.json', document.baseURI))"
        ".then(r => r.json().then(j => done({status: r.status, type: r.headers.get('content-type'),"
        " titles: j.docs.map(d => d.title), text: JSON.stringify(j)})))"
        ".catch(e => done({error: String(e)}));"
    )
    assert "error" not in index, index
    assert index["status"] == 200
    assert "json" in index["type"]
    assert "Café crème" in index["text"]


def test_theme_search_finds_a_page(front: WebFront, chromium: Browser) -> None:
    # The mkdocs theme runs a search for ?q= on load (lunr in a web worker) and lists hits.
    chromium.open(front.url + "?q=install")
    hits = chromium.wait_for(
        "Array.from(document.querySelectorAll('#mkdocs-search-results a')).map(a => a.getAttribute('href'))",
        timeout=15,
    )
    assert any("guide/install" in h for h in hits), hits
