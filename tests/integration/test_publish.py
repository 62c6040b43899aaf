"""The engine against a real moto server, across the two simulated accounts."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import PublishError, Settings, publish
from mkdocs_s3_crossaccount.core.content_types import guess
from tests.conftest import BUCKET, DOCS_ACCOUNT, EXTERNAL_ID, ROLE_ARN, Accounts, bucket_objects, make_site

pytestmark = pytest.mark.integration


SITE = {
    "index.html": b"<html><body>home</body></html>",
    "guide/index.html": b"<html>guide</html>",
    "assets/app.css": b"body{color:red}",
    "assets/app.js": b"console.log(1)",
    "img/logo.png": b"\x89PNG\r\n\x1a\nfake",
    "search/search_index.json": b'{"docs":[]}',
    "sitemap.xml": b"<urlset/>",
    "sitemap.xml.gz": b"\x1f\x8b\x08\x00fake",
    "odd names/a b+c#d?e.html": b"<html>odd</html>",
    "café/crème.html": b"<html>unicode</html>",
}


def settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {"bucket": BUCKET, "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID}
    base.update(kw)
    return Settings(**base)


def test_publish_across_accounts_sets_types_and_owner(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = make_site(tmp_path / "site", SITE)
    result = publish(site, settings(prefix="docs"))

    assert result.account == DOCS_ACCOUNT
    assert result.identity_arn.startswith(f"arn:aws:sts::{DOCS_ACCOUNT}:assumed-role/docs-publisher/")
    objects = bucket_objects(docs_bucket, prefix="docs/")
    assert set(objects) == {f"docs/{k}" for k in SITE} | {"docs/.mkdocs-s3-crossaccount/manifest.json"}
    for rel, data in SITE.items():
        head = docs_bucket.head_object(Bucket=BUCKET, Key=f"docs/{rel}")
        assert head["ContentType"] == guess(rel), rel
        assert head["ETag"].strip('"') == hashlib.md5(data).hexdigest()
        assert "ContentEncoding" not in head, rel
    assert docs_bucket.head_object(Bucket=BUCKET, Key="docs/sitemap.xml.gz")["ContentType"] == "application/gzip"
    assert sorted(k for k, _, _ in result.uploaded) == sorted(f"docs/{k}" for k in SITE)


def test_second_publish_uploads_nothing_even_with_new_mtimes(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    site = make_site(tmp_path / "site", SITE)
    publish(site, settings())
    for path in site.rglob("*"):
        if path.is_file():
            os.utime(path, (1, 1))
    again = publish(site, settings())
    assert again.uploaded == []
    assert again.unchanged == len(SITE)
    assert again.deleted == []


def test_edit_uploads_only_the_change_and_removal_deletes(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = make_site(tmp_path / "site", SITE)
    publish(site, settings())
    (site / "guide/index.html").write_bytes(b"<html>guide v2</html>")
    (site / "assets/app.js").unlink()
    result = publish(site, settings())
    assert result.uploaded == [("guide/index.html", "content changed", len(b"<html>guide v2</html>"))]
    assert result.deleted == ["assets/app.js"]
    assert "assets/app.js" not in bucket_objects(docs_bucket)


def test_prefix_boundary_leaves_sibling_prefixes_alone(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    for key in ("docs-old/index.html", "docsx", "other/keep.html", "docs"):
        docs_bucket.put_object(Bucket=BUCKET, Key=key, Body=b"keep")
    docs_bucket.put_object(Bucket=BUCKET, Key="docs/stale.html", Body=b"stale")
    site = make_site(tmp_path / "site", {"index.html": b"<html/>"})
    result = publish(site, settings(prefix="docs", delete_unmanaged=True))
    assert result.deleted == ["docs/stale.html"]
    assert set(bucket_objects(docs_bucket)) == {
        "docs-old/index.html",
        "docsx",
        "other/keep.html",
        "docs",
        "docs/index.html",
        "docs/.mkdocs-s3-crossaccount/manifest.json",
    }


def test_listing_is_paginated(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    files = {f"p/{i:04d}.html": b"x" for i in range(1105)}
    files["index.html"] = b"<html/>"
    site = make_site(tmp_path / "site", files)
    publish(site, settings(concurrency=32))
    again = publish(site, settings())
    assert again.uploaded == [] and again.unchanged == 1106


def test_multipart_object_is_not_reuploaded(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    big = os.urandom(9 * 1024 * 1024 + 123)
    site = make_site(tmp_path / "site", {"index.html": b"<html/>", "files/manual.pdf": big})
    publish(site, settings())
    head = docs_bucket.head_object(Bucket=BUCKET, Key="files/manual.pdf")
    assert head["ETag"].strip('"').endswith("-2"), "the big file should have gone up in parts"
    assert head["ContentType"] == "application/pdf", "headers must survive multipart upload"
    again = publish(site, settings())
    assert again.uploaded == []


def test_dry_run_changes_nothing(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    docs_bucket.put_object(Bucket=BUCKET, Key="old.html", Body=b"old")
    site = make_site(tmp_path / "site", SITE)
    result = publish(site, settings(dry_run=True, delete_unmanaged=True))
    assert len(result.plan.uploads) == len(SITE)
    assert [d.key for d in result.plan.deletes] == ["old.html"]
    assert set(bucket_objects(docs_bucket)) == {"old.html"}


def test_delete_cap_refuses_everything(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    for i in range(5):
        docs_bucket.put_object(Bucket=BUCKET, Key=f"stale{i}.html", Body=b"s")
    site = make_site(tmp_path / "site", {"index.html": b"<html>new</html>"})
    with pytest.raises(PublishError, match=r"max_deletes \(3\).*max_deletes: 5"):
        publish(site, settings(max_deletes=3, delete_unmanaged=True))
    # nothing uploaded, nothing deleted
    assert set(bucket_objects(docs_bucket)) == {f"stale{i}.html" for i in range(5)}


def test_share_guard_refuses(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    for i in range(30):
        docs_bucket.put_object(Bucket=BUCKET, Key=f"p{i}.html", Body=b"s")
    site = make_site(tmp_path / "site", {"index.html": b"<html/>", "p0.html": b"s"})
    with pytest.raises(PublishError, match="max_delete_share"):
        publish(site, settings(delete_unmanaged=True))
    assert len(bucket_objects(docs_bucket)) == 30


def test_site_without_index_refuses_to_delete(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    docs_bucket.put_object(Bucket=BUCKET, Key="index.html", Body=b"live")
    site = make_site(tmp_path / "site", {"other.html": b"x"})
    with pytest.raises(PublishError, match=r"no index\.html"):
        publish(site, settings())
    assert set(bucket_objects(docs_bucket)) == {"index.html"}
    # with delete off, it is allowed and deletes nothing
    publish(site, settings(delete=False))
    assert set(bucket_objects(docs_bucket)) == {"index.html", "other.html", ".mkdocs-s3-crossaccount/manifest.json"}


def test_empty_site_refuses(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    docs_bucket.put_object(Bucket=BUCKET, Key="index.html", Body=b"live")
    (tmp_path / "site").mkdir()
    with pytest.raises(PublishError, match="empty"):
        publish(tmp_path / "site", settings())
    assert set(bucket_objects(docs_bucket)) == {"index.html"}


def test_missing_bucket_says_so(tmp_path: Path, accounts: Accounts) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"x"})
    with pytest.raises(PublishError) as info:
        publish(site, settings(bucket="no-such-docs-bucket"))
    assert "does not exist" in str(info.value)
    assert DOCS_ACCOUNT in str(info.value)


def test_without_role_the_dev_account_is_used(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"x"})
    result = publish(site, Settings(bucket=BUCKET, expected_bucket_owner=DOCS_ACCOUNT))
    assert result.account == "123456789012"


def test_unreachable_endpoint_is_a_clear_network_error(tmp_path: Path, accounts: Accounts, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: connection refused
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    site = make_site(tmp_path / "site", {"index.html": b"x"})
    with pytest.raises(PublishError, match="Network failure"):
        publish(site, settings())


def test_a_held_lock_refuses_a_second_publish(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    lock_key = "docs/.mkdocs-s3-crossaccount/lock.json"
    docs_bucket.put_object(
        Bucket=BUCKET, Key=lock_key, Body=b'{"CI_JOB_URL": "https://gitlab.example/jobs/77", "started": "earlier"}'
    )
    site = make_site(tmp_path / "site", SITE)
    with pytest.raises(PublishError) as info:
        publish(site, settings(prefix="docs"))
    assert "in progress" in str(info.value) and "https://gitlab.example/jobs/77" in str(info.value)
    assert lock_key in str(info.value)
    assert set(bucket_objects(docs_bucket)) == {lock_key}
    # a stale lock (older than lock_timeout, a positive number of seconds) is taken over, and released at the end
    time.sleep(2.1)
    result = publish(site, settings(prefix="docs", lock_timeout=1))
    assert len(result.uploaded) == len(SITE)
    assert lock_key not in bucket_objects(docs_bucket)


def test_lock_is_released_after_a_refused_publish(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    for i in range(5):
        docs_bucket.put_object(Bucket=BUCKET, Key=f"stale{i}.html", Body=b"s")
    site = make_site(tmp_path / "site", {"index.html": b"x"})
    with pytest.raises(PublishError, match="max_deletes"):
        publish(site, settings(max_deletes=1, delete_unmanaged=True))
    assert ".mkdocs-s3-crossaccount/lock.json" not in bucket_objects(docs_bucket)
    publish(site, settings(max_deletes=5, max_delete_share=1, delete_unmanaged=True))  # no leftover lock


def test_concurrent_publishes_never_interleave(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    import concurrent.futures

    site_a = make_site(tmp_path / "a", {"index.html": b"A", **{f"p{i}.html": b"A" * 50 for i in range(150)}})
    site_b = make_site(tmp_path / "b", {"index.html": b"B", **{f"q{i}.html": b"B" * 50 for i in range(150)}})
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(publish, s, settings(max_delete_share=1, concurrency=4)) for s in (site_a, site_b)]
        outcomes = []
        for fut in futures:
            try:
                outcomes.append(fut.result())
            except PublishError as exc:
                outcomes.append(exc)
    refused = [o for o in outcomes if isinstance(o, PublishError)]
    assert all("in progress" in str(e) for e in refused)
    keys = set(bucket_objects(docs_bucket))
    manifest = ".mkdocs-s3-crossaccount/manifest.json"
    expected_a = {manifest, "index.html", *(f"p{i}.html" for i in range(150))}
    expected_b = {manifest, "index.html", *(f"q{i}.html" for i in range(150))}
    assert keys in (expected_a, expected_b)
