"""Versioned docs against a real moto server, and versions.json compared with what mike 2.x writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import Settings, publish
from tests.conftest import BUCKET, EXTERNAL_ID, ROLE_ARN, Accounts, bucket_objects, make_site

pytestmark = pytest.mark.integration

SITE = {
    "index.html": b"<html>home</html>",
    "guide/index.html": b"<html>guide</html>",
    "assets/app.css": b"body{}",
    "sitemap.xml": b"<urlset/>",
}


def settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {"bucket": BUCKET, "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID, "prefix": "docs"}
    base.update(kw)
    return Settings(**base)


def body(s3: Any, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_two_versions_alias_default_then_alias_move(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    v1 = make_site(tmp_path / "v1", SITE)
    publish(v1, settings(version="1.0", aliases=["latest"], default_version="latest"))
    v2 = make_site(tmp_path / "v2", {**SITE, "guide/index.html": b"<html>guide 2</html>", "new/index.html": b"n"})
    (v2 / "assets/app.css").unlink()
    before = {k: v["ETag"] for k, v in bucket_objects(docs_bucket, prefix="docs/1.0/").items()}
    publish(v2, settings(version="2.0", aliases=["latest"]))

    objects = bucket_objects(docs_bucket, prefix="docs/")
    # 1.0 untouched by the publish of 2.0
    assert {k: v["ETag"] for k, v in bucket_objects(docs_bucket, prefix="docs/1.0/").items()} == before
    assert body(docs_bucket, "docs/2.0/guide/index.html") == b"<html>guide 2</html>"
    # latest moved to 2.0: same keys and bytes, the stale asset gone, its own manifest
    assert body(docs_bucket, "docs/latest/guide/index.html") == b"<html>guide 2</html>"
    assert body(docs_bucket, "docs/latest/new/index.html") == b"n"
    assert "docs/latest/assets/app.css" not in objects
    assert "docs/latest/.mkdocs-s3-crossaccount/manifest.json" in objects
    head = docs_bucket.head_object(Bucket=BUCKET, Key="docs/latest/guide/index.html")
    assert head["ContentType"].startswith("text/html")
    assert body(docs_bucket, "docs/versions.json") == (
        b'[\n  {\n    "version": "2.0",\n    "title": "2.0",\n    "aliases": [\n      "latest"\n    ]\n  },\n'
        b'  {\n    "version": "1.0",\n    "title": "1.0",\n    "aliases": []\n  }\n]\n'
    )
    assert b'window.location.replace("latest/"' in body(docs_bucket, "docs/index.html")


def test_copy_keeps_website_redirects(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    page = (
        b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Redirecting...</title>'
        b'<link rel="canonical" href="../guide/"><script>var anchor=window.location.hash.substr(1);'
        b'location.href="../guide/"+(anchor?"#"+anchor:"");</script>'
        b'<meta http-equiv="refresh" content="0; url=../guide/"></head><body>Redirecting...</body></html>'
    )
    site = make_site(tmp_path / "v1", {**SITE, "old/index.html": page})
    publish(site, settings(version="1.0", aliases=["latest"], redirects=True))
    version = docs_bucket.head_object(Bucket=BUCKET, Key="docs/1.0/old/index.html")
    alias = docs_bucket.head_object(Bucket=BUCKET, Key="docs/latest/old/index.html")
    assert version["WebsiteRedirectLocation"] == "/docs/1.0/guide/"
    assert alias["WebsiteRedirectLocation"] == version["WebsiteRedirectLocation"]


# --- mike compatibility -----------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _mike(repo: Path, *args: str) -> None:
    mike = Path(sys.executable).with_name("mike")
    env = {
        **os.environ,
        "PATH": f"{mike.parent}{os.pathsep}{os.environ.get('PATH', '')}",  # mike runs mkdocs (or properdocs)
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run([str(mike), *args], cwd=repo, env=env, check=True, capture_output=True, text=True)


@pytest.fixture
def mike_repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None or not Path(sys.executable).with_name("mike").exists():
        pytest.skip("git or mike is not installed (mike is in the test extra)")
    repo = tmp_path / "mike-repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs/index.html").write_text("x")
    (repo / "docs/index.md").write_text("# Home\n")
    (repo / "mkdocs.yml").write_text("site_name: t\ntheme:\n  name: material\nplugins:\n  - mike\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "init")
    return repo


def test_versions_json_is_byte_compatible_with_mike(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, mike_repo: Path
) -> None:
    site = make_site(tmp_path / "site", SITE)
    steps: list[tuple[list[str], dict[str, Any]]] = [
        (["deploy", "1.0", "latest", "-u"], {"version": "1.0", "aliases": ["latest"]}),
        (
            ["deploy", "2.0", "latest", "-u", "-t", "Two ✓"],
            {"version": "2.0", "aliases": ["latest"], "version_title": "Two ✓"},
        ),
        (["deploy", "dev"], {"version": "dev"}),
        (["deploy", "1.10", "stable", "-u"], {"version": "1.10", "aliases": ["stable"]}),
        (["set-default", "latest"], {"version": "dev", "default_version": "latest"}),
    ]
    for mike_args, ours in steps:
        _mike(mike_repo, *mike_args)
        publish(site, settings(**ours))
        theirs = _git(mike_repo, "show", "gh-pages:versions.json").encode("utf-8")
        assert body(docs_bucket, "docs/versions.json") == theirs, mike_args
