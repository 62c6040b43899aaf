"""Detection of mkdocs-redirects pages and the redirect location (pure)."""

from __future__ import annotations

import pytest
from mkdocs_redirects.plugin import HTML_TEMPLATE

from mkdocs_s3_crossaccount.core.redirects import detect, location, page_url


def page(url: str) -> bytes:
    return HTML_TEMPLATE.format(url=url).encode()


@pytest.mark.parametrize("url", ["../new/", "new.html#part", "https://example.com/x/", "../caf%C3%A9/"])
def test_plugin_pages_are_detected(url: str) -> None:
    assert detect(page(url)) == url


LOOKALIKES = {
    "ordinary page": b"<!doctype html><html><head><title>Home</title></head><body>Hi</body></html>",
    "refresh with extra content": page("../x/").replace(b"new destination</a>.", b"new destination</a>. <p>More</p>"),
    "urls disagree": page("../x/").replace(
        b'<link rel="canonical" href="../x/">', b'<link rel="canonical" href="../y/">'
    ),
    "delayed refresh": page("../x/").replace(b'content="0; url=', b'content="5; url='),
    "other title": page("../x/").replace(b"Redirecting...", b"Moved"),
    "two refreshes": page("../x/").replace(b"</head>", b'<meta http-equiv="refresh" content="0; url=../x/"></head>'),
    "other script": page("../x/").replace(b"var anchor", b"fetch('/track');var anchor"),
    "too big": page("../x/") + b"<!--" + b"x" * 5000 + b"-->",
    "stylesheet": page("../x/").replace(b"<head>", b'<head><link rel="stylesheet" href="../x/">'),
    "not utf-8": page("../x/").replace(b"Redirecting...", b"Redirecting...\xff"),
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_lookalikes_are_not_redirects(name: str) -> None:
    assert detect(LOOKALIKES[name]) is None


@pytest.mark.parametrize(
    ("prefix", "rel", "expected"),
    [
        ("", "index.html", "/"),
        ("docs", "index.html", "/docs/"),
        ("docs", "old/index.html", "/docs/old/"),
        ("docs", "old.html", "/docs/old.html"),
    ],
)
def test_page_url(prefix: str, rel: str, expected: str) -> None:
    assert page_url(prefix, rel) == expected


@pytest.mark.parametrize(
    ("prefix", "rel", "target", "expected"),
    [
        ("docs", "old/index.html", "../new/", "/docs/new/"),
        ("docs", "old/index.html", "../new/#part", "/docs/new/#part"),
        ("docs", "a/b/old/index.html", "../../c/", "/docs/a/c/"),
        ("", "old/index.html", "../new/", "/new/"),
        ("docs", "old.html", "new.html", "/docs/new.html"),
        ("docs", "old/index.html", "../café/", "/docs/caf%C3%A9/"),
        ("docs", "old/index.html", "../a b/", "/docs/a%20b/"),
        ("docs", "old/index.html", "https://example.com/x", "https://example.com/x"),
        ("docs", "old/index.html", "/elsewhere/", "/elsewhere/"),
        ("docs", "old/index.html", "../../../../up/", "/up/"),
        ("docs", "old/index.html", "javascript:alert(1)", None),
        ("docs", "old/index.html", "//evil.example/", None),
    ],
)
def test_location(prefix: str, rel: str, target: str, expected: str | None) -> None:
    assert location(prefix, rel, target) == expected
