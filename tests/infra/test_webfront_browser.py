"""The web front over moto, and headless Chromium reading pages through it."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from tests.support.browser import Browser, browser_unavailable_reason
from tests.support.motoserver import DOCS_ACCOUNT_ID, MotoServer, docs_client
from tests.support.webfront import WebFront

BUCKET = "front-docs-bucket"
PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%(title)s</title>
<link rel="stylesheet" href="%(css)s">
<script src="%(js)s"></script></head>
<body><h1 class="headline">%(title)s</h1></body></html>
"""
CSS = b".headline { color: rgb(12, 34, 56); font-size: 31px; }\n"
JS = b"window.appLoaded = 'yes'; console.warn('app.js loaded');\n"


def page(title: str, css: str = "/assets/app.css", js: str = "/assets/app.js") -> bytes:
    return PAGE % {b"title": title.encode(), b"css": css.encode(), b"js": js.encode()}


@pytest.fixture
def site(moto: MotoServer, aws_env: None) -> Any:
    """A small site in the docs account's bucket, under the prefix ``docs/``."""
    s3 = docs_client("s3", moto.url)
    s3.create_bucket(Bucket=BUCKET)

    def put(key: str, body: bytes, content_type: str, **extra: Any) -> None:
        s3.put_object(Bucket=BUCKET, Key=f"docs/{key}", Body=body, ContentType=content_type, **extra)

    put("index.html", page("Home"), "text/html; charset=utf-8")
    put("guide/index.html", page("Guide"), "text/html; charset=utf-8")
    put("assets/app.css", CSS, "text/css")
    put("assets/app.js", JS, "application/javascript")
    put("assets/plain.css", CSS, "text/plain")
    put("wrong-type/index.html", page("Wrong", css="/assets/plain.css"), "text/html")
    put("zipped/index.html", gzip.compress(page("Zipped")), "text/html", ContentEncoding="gzip")
    put("café/crème.html", page("Crème"), "text/html; charset=utf-8")
    return s3


@pytest.fixture
def front(site: Any) -> Iterator[WebFront]:
    with WebFront(site, BUCKET, prefix="docs/", expected_bucket_owner=DOCS_ACCOUNT_ID) as web:
        yield web


def fetch(front: WebFront, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    port = urlsplit(front.url).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_front_maps_directories_and_passes_headers(front: WebFront) -> None:
    status, headers, body = fetch(front, "/")
    assert status == 200 and b"<title>Home</title>" in body
    assert headers["content-type"] == "text/html; charset=utf-8"
    status, headers, body = fetch(front, "/guide/")
    assert status == 200 and b"<title>Guide</title>" in body
    status, headers, _ = fetch(front, "/guide")
    assert status == 302 and headers["location"] == "/guide/"
    status, headers, body = fetch(front, "/assets/app.css")
    assert (status, headers["content-type"], body) == (200, "text/css", CSS)
    assert "content-encoding" not in headers
    status, headers, body = fetch(front, "/zipped/")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == page("Zipped"), "the body must stay compressed, as stored"
    status, headers, body = fetch(front, "/" + quote("café/crème.html"))
    assert status == 200 and b"Cr\xc3\xa8me" in body
    status, headers, body = fetch(front, "/assets/app.css", method="HEAD")
    assert status == 200 and body == b"" and headers["content-length"] == str(len(CSS))
    assert fetch(front, "/missing.html")[0] == 404
    assert [r.key for r in front.requests][:2] == ["docs/index.html", "docs/guide/index.html"]


@pytest.mark.browser
def test_browser_reads_title_and_computed_style(browser: Browser, front: WebFront) -> None:
    browser.open(front.url)
    assert browser.title == "Home"
    assert browser.evaluate("document.title") == "Home"
    assert browser.wait_for("window.appLoaded") == "yes"
    assert browser.computed_style(".headline", "color") == "rgb(12, 34, 56)"
    assert browser.computed_style(".headline", "font-size") == "31px"
    assert browser.evaluate("1 + 2") == 3
    assert browser.evaluate("Promise.resolve(document.title + '!')") == "Home!"
    assert any("app.js loaded" in m["message"] for m in browser.console_messages())

    browser.open(front.url + "guide/")
    assert browser.evaluate("document.title") == "Guide"
    browser.open(front.url + "guide")  # redirected to the directory URL
    assert browser.url.endswith("/guide/")

    browser.open(front.url + "zipped/")
    assert browser.title == "Zipped"

    browser.open(front.url + "café/crème.html")
    assert browser.title == "Crème"


@pytest.mark.browser
def test_browser_refuses_a_stylesheet_served_as_text_plain(browser: Browser, front: WebFront) -> None:
    rules = "document.querySelector('link[rel=stylesheet]').sheet.cssRules.length"
    browser.open(front.url)
    assert browser.evaluate(rules) == 1
    browser.open(front.url + "wrong-type/")
    assert browser.title == "Wrong"
    assert browser.evaluate(rules) == 0
    assert browser.computed_style(".headline", "color") == "rgb(0, 0, 0)"


@pytest.mark.browser
def test_wait_for_times_out(browser: Browser, front: WebFront) -> None:
    browser.open(front.url)
    with pytest.raises(TimeoutError):
        browser.wait_for("window.neverSet", timeout=0.3)


def test_browser_tests_skip_when_the_driver_or_the_browser_is_missing(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    driver = tmp_path / "chromedriver"
    reason = browser_unavailable_reason(chromium, driver)
    assert reason is not None and "chromedriver" in reason and "apt-get install" in reason
    reason = browser_unavailable_reason(tmp_path / "no-chromium", driver)
    assert reason is not None and "chromium" in reason
    with pytest.raises(pytest.skip.Exception, match="chromedriver"):
        _skip_for(chromium, driver)


def _skip_for(chromium: Path, driver: Path) -> None:
    reason = browser_unavailable_reason(chromium, driver)
    if reason:
        pytest.skip(reason)


def test_front_serves_the_error_document_and_passes_cache_control(site: Any) -> None:
    site.put_object(Bucket=BUCKET, Key="docs/404.html", Body=page("Lost"), ContentType="text/html; charset=utf-8")
    site.put_object(
        Bucket=BUCKET,
        Key="docs/assets/cached.css",
        Body=CSS,
        ContentType="text/css",
        CacheControl="public, max-age=31536000, immutable",
    )
    with WebFront(site, BUCKET, prefix="docs/") as web:
        status, headers, body = fetch(web, "/no/such/page/")
        assert status == 404 and b"<title>Lost</title>" in body
        assert headers["content-type"] == "text/html; charset=utf-8"
        status, headers, _ = fetch(web, "/assets/cached.css")
        assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
