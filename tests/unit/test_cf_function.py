"""The generated CloudFront viewer-request function, run under Node.js against a table of requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mkdocs_redirects.plugin import HTML_TEMPLATE

from mkdocs_s3_crossaccount.core.cf_function import (
    MAX_FUNCTION_BYTES,
    FunctionInputs,
    FunctionTooLarge,
    collect_redirects,
    compact_target,
    default_version,
    generate,
    render,
)
from mkdocs_s3_crossaccount.core.errors import PublishError
from tests.support.cfjs import outcome, run_function, viewer_event

REDIRECTS = {
    "old/index.html": "/new/",
    "moved/page/index.html": "/guide/page/",
    "legacy.html": "/guide/install/#pip",
    "elsewhere/index.html": "https://example.com/docs/",
}

ROOT_TABLE = [
    # (uri, query, expected)
    ("/", None, "-> /index.html"),
    ("/guide/", None, "-> /guide/index.html"),
    ("/guide", None, "301 /guide/"),
    ("/guide", {"q": "x"}, "301 /guide/?q=x"),
    ("/guide/index.html", None, "-> /guide/index.html"),
    ("/guide/advanced/", None, "-> /guide/advanced/index.html"),
    ("/css/extra.css", None, "-> /css/extra.css"),
    ("/js/extra.js", {"v": "1"}, "-> /js/extra.js"),
    ("/search/search_index.json", None, "-> /search/search_index.json"),
    ("/sitemap.xml.gz", None, "-> /sitemap.xml.gz"),
    ("/caf%C3%A9-cr%C3%A8me/", None, "-> /caf%C3%A9-cr%C3%A8me/index.html"),
    ("/old/", {"utm_source": "mail", "a": "b%20c"}, "301 /new/?utm_source=mail&a=b%20c"),
    ("/old", None, "301 /new/"),
    ("/old/index.html", {"x": "1"}, "301 /new/?x=1"),
    ("/old/", {"tag": ["a", "b"]}, "301 /new/?tag=a&tag=b"),
    ("/moved/page/", None, "301 /guide/page/"),
    ("/legacy.html", {"q": "1"}, "301 /guide/install/?q=1#pip"),
    ("/elsewhere/", None, "301 https://example.com/docs/"),
    ("/constructor", None, "301 /constructor/"),
    ("/toString.x", None, "-> /toString.x"),
    ("/404.html", None, "-> /404.html"),
]


def _table(inputs: FunctionInputs, table: list[tuple[str, dict[str, object] | None, str]]) -> None:
    code = generate(inputs).code
    answers = run_function(code, [viewer_event(uri, query) for uri, query, _ in table])  # type: ignore[arg-type]
    got = [(uri, outcome(a)) for (uri, _, _), a in zip(table, answers, strict=True)]
    assert got == [(uri, expected) for uri, _, expected in table]


def test_root_site_table() -> None:
    _table(FunctionInputs(prefix="", redirects=REDIRECTS), ROOT_TABLE)


def test_redirect_response_is_a_real_301() -> None:
    code = generate(FunctionInputs(redirects=REDIRECTS)).code
    (answer,) = run_function(code, [viewer_event("/old/")])
    assert answer["statusCode"] == 301
    assert answer["statusDescription"] == "Moved Permanently"
    assert answer["headers"]["location"] == {"value": "/new/"}


PREFIXED = {"old/index.html": "/docs/new/", "x.html": "/docs/y/"}


def test_prefixed_site_table() -> None:
    table: list[tuple[str, dict[str, object] | None, str]] = [
        ("/docs", None, "301 /docs/"),
        ("/docs", {"a": "1"}, "301 /docs/?a=1"),
        ("/docs/", None, "-> /docs/index.html"),
        ("/docs/guide/", None, "-> /docs/guide/index.html"),
        ("/docs/guide", None, "301 /docs/guide/"),
        ("/docs/guide/index.html", None, "-> /docs/guide/index.html"),
        ("/docs/css/extra.css", None, "-> /docs/css/extra.css"),
        ("/docs/old/", {"q": "1"}, "301 /docs/new/?q=1"),
        ("/docs/x.html", None, "301 /docs/y/"),
        # outside the prefix: untouched, even where a rule would apply
        ("/", None, "-> /"),
        ("/other/", None, "-> /other/"),
        ("/other", None, "-> /other"),
        ("/docs-old/guide", None, "-> /docs-old/guide"),
        ("/old/", None, "-> /old/"),
    ]
    _table(FunctionInputs(prefix="docs", redirects=PREFIXED), table)


def test_nested_prefix() -> None:
    table: list[tuple[str, dict[str, object] | None, str]] = [
        ("/team/docs", None, "301 /team/docs/"),
        ("/team/docs/a", None, "301 /team/docs/a/"),
        ("/team/", None, "-> /team/"),
    ]
    _table(FunctionInputs(prefix="team/docs"), table)


def test_versioned_root() -> None:
    table: list[tuple[str, dict[str, object] | None, str]] = [
        ("/docs/", None, "301 /docs/1.2/"),
        ("/docs/index.html", None, "301 /docs/1.2/"),
        ("/docs/", {"q": "search"}, "301 /docs/1.2/?q=search"),
        ("/docs", None, "301 /docs/"),
        ("/docs/1.2/", None, "-> /docs/1.2/index.html"),
        ("/docs/1.1/guide", None, "301 /docs/1.1/guide/"),
        ("/docs/versions.json", None, "-> /docs/versions.json"),
    ]
    _table(FunctionInputs(prefix="docs", default_version="1.2"), table)


def test_versioned_root_without_prefix() -> None:
    _table(
        FunctionInputs(default_version="latest"),
        [("/", None, "301 /latest/"), ("/latest/", None, "-> /latest/index.html")],
    )


def test_unusable_version_is_refused() -> None:
    with pytest.raises(PublishError, match="default version"):
        generate(FunctionInputs(default_version="../x"))


def test_redirects_from_a_built_site(tmp_path: Path) -> None:
    """Pages written by mkdocs-redirects' own template are found and resolved like publish does."""
    pages = {"old/index.html": "../new/", "guide/was/index.html": "../is/#top", "plain.html": "page2/"}
    for rel, url in pages.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(HTML_TEMPLATE.format(url=url), encoding="utf-8")
    (tmp_path / "index.html").write_text("<html><head><title>Home</title></head><body>Hi</body></html>")
    found = collect_redirects(tmp_path, "docs")
    assert found == {
        "old/index.html": "/docs/new/",
        "guide/was/index.html": "/docs/guide/is/#top",
        "plain.html": "/docs/page2/",
    }
    code = generate(FunctionInputs(prefix="docs", redirects=found)).code
    answers = run_function(code, [viewer_event("/docs/old", {"a": "1"}), viewer_event("/docs/guide/was/")])
    assert [outcome(a) for a in answers] == ["301 /docs/new/?a=1", "301 /docs/guide/is/#top"]


def test_missing_site_dir_says_build_first(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="mkdocs build"):
        collect_redirects(tmp_path / "nope", "")


def _many(n: int, prefix: str = "docs") -> dict[str, str]:
    base = f"/{prefix}/" if prefix else "/"
    return {
        f"old-section-{i % 12}/topic-number-{i}/index.html": f"{base}guide/section-{i % 12}/topic-number-{i}/"
        for i in range(n)
    }


def test_two_hundred_redirects_fit_and_all_resolve() -> None:
    many = _many(200)
    fn = generate(FunctionInputs(prefix="docs", redirects=many))
    assert fn.size <= MAX_FUNCTION_BYTES
    assert fn.redirect_count == 200
    rels = sorted(many)
    answers = run_function(fn.code, [viewer_event("/docs/" + r[: -len("index.html")], {"s": "1"}) for r in rels])
    assert [outcome(a) for a in answers] == [f"301 {many[r]}?s=1" for r in rels]


def test_too_many_redirects_fail_with_the_size_and_what_to_do() -> None:
    inputs = FunctionInputs(prefix="docs", redirects=_many(2000))
    with pytest.raises(FunctionTooLarge) as caught:
        generate(inputs)
    err = caught.value
    assert err.size > MAX_FUNCTION_BYTES
    assert f"{err.size:,} bytes" in err.message and "10,240" in err.message and "2,000 redirects" in err.message
    assert err.fix and "redirect_maps" in err.fix and "website endpoint" in err.fix
    entries = sorted((k[: -len("index.html")], v) for k, v in inputs.redirects.items())
    assert len(render(inputs, entries[: err.fitting]).encode()) <= MAX_FUNCTION_BYTES
    assert len(render(inputs, entries[: err.fitting + 1]).encode()) > MAX_FUNCTION_BYTES


@pytest.mark.parametrize(
    ("key", "location", "stored"),
    [
        ("old/", "/docs/new/", "new/"),
        ("old/x/", "/docs/guide/x/", "guide|3"),
        ("a/", "/docs/", ""),
        ("topic/", "/elsewhere/topic/", "/elsewhere/|0"),
        ("a/", "/elsewhere/a/", "/elsewhere/a/"),
        ("topic/", "https://e.com/topic/", "https://e.com/|0"),
        ("a/", "/docs/http:/x/", "/docs/http:/x/"),
    ],
)
def test_compact_targets(key: str, location: str, stored: str) -> None:
    assert compact_target(key, "/docs/", location) == stored


def test_compact_targets_expand_back_in_javascript() -> None:
    cases = {
        "a/index.html": "/docs/",
        "b/index.html": "/elsewhere/b/",
        "c/index.html": "https://e.com/c/",
        "d/index.html": "/docs/http:/x/",
    }
    code = generate(FunctionInputs(prefix="docs", redirects=cases)).code
    answers = run_function(code, [viewer_event(f"/docs/{c}/") for c in "abcd"])
    assert [outcome(a) for a in answers] == [f"301 {cases[c + '/index.html']}" for c in "abcd"]


def test_function_is_ascii_and_declares_a_handler() -> None:
    code = generate(FunctionInputs(prefix="caf\u00e9", redirects={"\u00e9t\u00e9/index.html": "/caf%C3%A9/x/"})).code
    assert code.isascii()
    assert "async function handler(event)" in code
    answers = run_function(code, [viewer_event("/caf%C3%A9/%C3%A9t%C3%A9/")])
    assert outcome(answers[0]) == "301 /caf%C3%A9/x/"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (json.dumps({"default": "2.0", "versions": ["2.0", "1.0"]}), "2.0"),
        (
            json.dumps([{"version": "2.0", "title": "2.0", "aliases": ["latest"]}, {"version": "1.0", "aliases": []}]),
            "latest",
        ),
        (json.dumps([{"version": "2.0", "title": "2.0", "aliases": []}]), "2.0"),
        ("[]", None),
        ("{}", None),
        ("not json", None),
        (json.dumps([1, 2]), None),
    ],
)
def test_default_version_from_versions_json(data: str, expected: str | None) -> None:
    assert default_version(data.encode()) == expected
