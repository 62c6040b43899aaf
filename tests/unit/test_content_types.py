"""Content types come from our table, identically on every OS."""

from __future__ import annotations

import mimetypes

import pytest

from mkdocs_s3_crossaccount.core.content_types import OCTET_STREAM, content_type, guess, known_extensions

U = "; charset=utf-8"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("index.html", "text/html" + U),
        ("a/b/page.HTM", "text/html" + U),
        ("assets/stylesheets/main.8c3ca2c6.min.css", "text/css" + U),
        ("assets/javascripts/bundle.f1ef6a5b.min.js", "text/javascript" + U),
        ("worker.mjs", "text/javascript" + U),
        ("search/search_index.json", "application/json" + U),
        ("assets/javascripts/bundle.js.map", "application/json" + U),
        ("sitemap.xml", "application/xml" + U),
        ("sitemap.xml.gz", "application/gzip"),
        ("img/logo.svg", "image/svg+xml" + U),
        ("fonts/a.woff", "font/woff"),
        ("fonts/a.woff2", "font/woff2"),
        ("fonts/a.ttf", "font/ttf"),
        ("fonts/a.eot", "application/vnd.ms-fontobject"),
        ("img/a.png", "image/png"),
        ("img/a.jpg", "image/jpeg"),
        ("img/a.JPEG", "image/jpeg"),
        ("img/a.gif", "image/gif"),
        ("img/a.webp", "image/webp"),
        ("img/a.avif", "image/avif"),
        ("favicon.ico", "image/vnd.microsoft.icon"),
        ("robots.txt", "text/plain" + U),
        ("notes.md", "text/markdown" + U),
        ("site.webmanifest", "application/manifest+json" + U),
        ("lib.wasm", "application/wasm"),
        ("manual.pdf", "application/pdf"),
        ("conf.yaml", "application/yaml" + U),
        ("conf.yml", "application/yaml" + U),
        ("data.csv", "text/csv" + U),
        ("nb/analysis.ipynb", "application/x-ipynb+json" + U),
        ("download/site.zip", "application/zip"),
        ("README", OCTET_STREAM),
        (".hidden", OCTET_STREAM),
        ("weird.unknownext", OCTET_STREAM),
        ("dir.with.dots/file", OCTET_STREAM),
    ],
)
def test_table(key: str, expected: str) -> None:
    assert guess(key) == expected


def test_table_does_not_depend_on_the_machine() -> None:
    # Poison the stdlib's registry: our answers must not move.
    mimetypes.add_type("application/x-poison", ".js")
    mimetypes.add_type("application/x-poison", ".woff2")
    assert guess("a.js") == "text/javascript" + U
    assert guess("a.woff2") == "font/woff2"


def test_overrides_win_first_match_in_order() -> None:
    rules = {"*.txt": "text/x-special", "docs/**": "application/x-docs", "*": "application/x-any"}
    assert content_type("a/b/notes.txt", rules) == "text/x-special"
    assert content_type("docs/x.html", rules) == "application/x-docs"
    assert content_type("other.html", rules) == "application/x-any"
    assert content_type("other.html", {}) == "text/html" + U


def test_table_covers_what_mkdocs_and_material_emit() -> None:
    needed = {
        "html",
        "css",
        "js",
        "mjs",
        "json",
        "xml",
        "svg",
        "woff",
        "woff2",
        "ttf",
        "eot",
        "png",
        "jpg",
        "gif",
        "webp",
        "avif",
        "ico",
        "map",
        "txt",
        "md",
        "webmanifest",
        "wasm",
        "pdf",
        "yaml",
        "yml",
        "csv",
        "ipynb",
        "zip",
        "gz",
    }
    assert needed <= known_extensions()
