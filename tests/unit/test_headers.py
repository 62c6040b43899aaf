"""Header rules: Cache-Control matching, gzip selection, fingerprints (pure)."""

from __future__ import annotations

import pytest

from mkdocs_s3_crossaccount.core.headers import (
    Body,
    HeaderRules,
    cache_control_for,
    cache_control_rules,
    fingerprint,
    gzip_applies,
    gzip_globs,
)

IMMUTABLE = "public, max-age=31536000, immutable"
HOUR = "public, max-age=3600"


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("index.html", "no-cache"),
        ("guide/deep/page.html", "no-cache"),
        ("sitemap.xml", "no-cache"),
        ("sitemap.xml.gz", "no-cache"),
        ("search/search_index.json", "no-cache"),
        ("assets/javascripts/bundle.f55a23d4.min.js", IMMUTABLE),
        ("assets/stylesheets/main.6f8fc17f.min.css", IMMUTABLE),
        ("assets/javascripts/bundle.f55a23d4.min.js.map", IMMUTABLE),
        ("assets/javascripts/workers/search.973d3a69.min.js", IMMUTABLE),
        # not fingerprinted: a change must show within the hour
        ("assets/javascripts/lunr/tinyseg.js", HOUR),
        ("assets/images/favicon.png", HOUR),
        ("assets/extra.css", HOUR),
        ("assets/stylesheets/main.NOTHEX12.min.css", HOUR),
        ("img/logo.png", HOUR),
        ("other/search/search_index.json", HOUR),  # anchored: only the site's own index
    ],
)
def test_default_cache_control(rel: str, expected: str) -> None:
    assert cache_control_for(rel, cache_control_rules({})) == expected


@pytest.mark.parametrize(
    ("user", "rel", "expected"),
    [
        ({"*.html": "max-age=60"}, "a/b.html", "max-age=60"),  # user rule wins over the default
        ({"*.html": "max-age=60"}, "img/x.png", HOUR),  # defaults still apply to the rest
        ({"assets/**": IMMUTABLE}, "assets/extra.css", IMMUTABLE),  # broaden the immutable rule
        ({"**": ""}, "index.html", None),  # '' = send no Cache-Control
        ({"img/": "max-age=5", "*.png": "max-age=9"}, "img/x.png", "max-age=5"),  # first match wins
    ],
)
def test_user_rules_come_first(user: dict[str, str], rel: str, expected: str | None) -> None:
    assert cache_control_for(rel, cache_control_rules(user)) == expected


@pytest.mark.parametrize(
    ("option", "rel", "expected"),
    [
        (True, "index.html", True),
        (True, "assets/app.css", True),
        (True, "assets/app.js", True),
        (True, "search/search_index.json", True),
        (True, "sitemap.xml", True),
        (True, "sitemap.xml.gz", False),  # never compress a .gz again
        (True, "img/logo.png", False),
        (True, "img/logo.svg", True),
        (False, "index.html", False),
        (["*.html"], "index.html", True),
        (["*.html"], "a.css", False),
        (["**"], "archive.tgz", False),
        (["**"], "x.bin", True),
    ],
)
def test_gzip_selection(option: bool | list[str], rel: str, expected: bool) -> None:
    assert gzip_applies(rel, gzip_globs(option)) is expected


def test_header_set_is_complete_and_fingerprint_tracks_every_header() -> None:
    rules = HeaderRules.from_options({}, True, None)
    plain = rules.headers("a.html", "text/html; charset=utf-8", Body.IDENTITY)
    assert plain == {"CacheControl": "no-cache", "ContentType": "text/html; charset=utf-8"}
    gz = rules.headers("a.html", "text/html; charset=utf-8", Body.GZIP)
    assert gz["ContentEncoding"] == "gzip"
    redirect = rules.headers("a.html", "text/html; charset=utf-8", Body.EMPTY, "/new/")
    assert redirect["WebsiteRedirectLocation"] == "/new/"
    kms = HeaderRules.from_options({}, False, "arn:aws:kms:us-east-1:222222222222:key/k").headers(
        "a.html", "text/html", Body.IDENTITY
    )
    assert kms["ServerSideEncryption"] == "aws:kms"
    assert kms["SSEKMSKeyId"].endswith("key/k")
    prints = {fingerprint(h) for h in (plain, gz, redirect, kms)}
    assert len(prints) == 4
    # order of the mapping does not matter
    assert fingerprint(dict(reversed(list(plain.items())))) == fingerprint(plain)
