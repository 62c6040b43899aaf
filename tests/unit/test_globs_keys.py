"""Glob semantics and key mapping (odd names included)."""

from __future__ import annotations

import pytest

from mkdocs_s3_crossaccount.core.globs import GlobError, compile_glob, first_match, matches
from mkdocs_s3_crossaccount.core.keys import from_key, list_prefix, rel_path, to_key


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("*.html", "index.html", True),
        ("*.html", "a/b/c.html", True),
        ("*.html", "a/b/c.htmlx", False),
        ("assets/**", "assets/x/y.css", True),
        ("assets/**", "assets", False),
        ("assets/**", "x/assets/y.css", False),
        ("assets/", "assets/y.css", True),
        ("img/*", "img/a.png", True),
        ("img/*", "img/a/b.png", False),
        ("**/*.js", "a.js", True),
        ("**/*.js", "x/y/a.js", True),
        ("search/search_index.json", "search/search_index.json", True),
        ("search/search_index.json", "x/search/search_index.json", False),
        ("/index.html", "index.html", True),
        ("page?.md", "page1.md", True),
        ("page?.md", "page10.md", False),
        ("[ab].txt", "a.txt", True),
        ("[!ab].txt", "a.txt", False),
        ("[!ab].txt", "c.txt", True),
        ("a+b.html", "a+b.html", True),
        ("café/*.html", "café/x.html", True),
    ],
)
def test_glob(pattern: str, path: str, hit: bool) -> None:
    assert matches(path, pattern) is hit


@pytest.mark.parametrize("bad", ["", "  ", "a[b", "!*.html"])
def test_bad_globs_are_rejected(bad: str) -> None:
    with pytest.raises(GlobError):
        compile_glob(bad)


def test_first_match_keeps_order() -> None:
    assert first_match("a.html", {"*.css": 1, "*.html": 2, "*": 3}) == 2
    assert first_match("a.png", {"*.css": 1}) is None


@pytest.mark.parametrize(
    ("prefix", "rel", "key"),
    [
        ("", "index.html", "index.html"),
        ("docs", "index.html", "docs/index.html"),
        ("docs/v2", "a b/c+d#e?f.html", "docs/v2/a b/c+d#e?f.html"),
        ("docs", "café/index.html", "docs/café/index.html"),
    ],
)
def test_key_round_trip(prefix: str, rel: str, key: str) -> None:
    assert to_key(prefix, rel) == key
    assert from_key(prefix, key) == rel


def test_prefix_boundary() -> None:
    assert from_key("docs", "docs-old/index.html") is None
    assert from_key("docs", "docs") is None
    assert from_key("docs", "docs/") is None
    assert list_prefix("docs") == "docs/"
    assert list_prefix("") == ""


def test_rel_path_is_nfc() -> None:
    nfd = "cafe\u0301"  # e + combining acute, as macOS file systems store it
    assert rel_path(["guide", nfd, "index.html"]) == "guide/caf\u00e9/index.html"
