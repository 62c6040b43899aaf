"""Crash safety against real servers (issue 10): incomplete uploads of a killed publish (16),
SIGTERM (9), throttling (10), a file rewritten while it uploads (20)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import PublishError, Settings, publish
from mkdocs_s3_crossaccount import engine as publish_module
from tests.conftest import BUCKET, EXTERNAL_ID, ROLE_ARN, Accounts, bucket_objects, make_site

pytestmark = pytest.mark.integration


def settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {"bucket": BUCKET, "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID, "prefix": "docs"}
    base.update(kw)
    return Settings(**base)


def _uploads(s3: Any) -> set[str]:
    return {u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", ())}


def test_incomplete_uploads_of_a_killed_publish_are_aborted_by_the_next(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    # what a publish killed during a multipart upload leaves (moto dates every upload 2010: all are stale)
    docs_bucket.create_multipart_upload(Bucket=BUCKET, Key="docs/assets/video.mp4")
    docs_bucket.create_multipart_upload(Bucket=BUCKET, Key="docs/v2/big.bin")  # a nested publisher's
    docs_bucket.put_object(Bucket=BUCKET, Key="docs/v2/.mkdocs-s3-crossaccount/manifest.json", Body=b"{}")
    docs_bucket.create_multipart_upload(Bucket=BUCKET, Key="docs-old/big.bin")  # outside the prefix
    assert _uploads(docs_bucket) == {"docs/assets/video.mp4", "docs/v2/big.bin", "docs-old/big.bin"}
    site = make_site(tmp_path / "site", {"index.html": b"home"})
    publish(site, settings())
    assert _uploads(docs_bucket) == {"docs/v2/big.bin", "docs-old/big.bin"}


def test_a_file_rewritten_while_botocore_sends_it_is_failed_not_recorded(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"home", "page.html": b"page v1", "gone.html": b"x"})
    publish(site, settings())
    manifest_key = "docs/.mkdocs-s3-crossaccount/manifest.json"
    manifest = docs_bucket.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read()
    (site / "page.html").write_bytes(b"page v2")
    (site / "gone.html").unlink()
    real = publish_module.s3_client

    def rewriting(ctx: Any, s: Settings) -> Any:
        client = real(ctx, s)

        def rewrite(params: dict[str, Any], **kwargs: Any) -> None:
            if params.get("Key") == "docs/page.html":  # the bytes are on their way: the build writes again
                (site / "page.html").write_bytes(b"page v3, written while v2 was uploading")

        client.meta.events.register("before-parameter-build.s3.PutObject", rewrite)
        return client

    monkeypatch.setattr(publish_module, "s3_client", rewriting)
    with pytest.raises(PublishError, match=r"page\.html changed while it was being published"):
        publish(site, settings(max_delete_share=1))
    assert "docs/gone.html" in bucket_objects(docs_bucket)  # nothing deleted
    assert docs_bucket.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read() == manifest
    monkeypatch.setattr(publish_module, "s3_client", real)
    again = publish(site, settings(max_delete_share=1))  # the rerun fixes it
    assert [k for k, _, _ in again.uploaded] == ["docs/page.html"]
    body = docs_bucket.get_object(Bucket=BUCKET, Key="docs/page.html")["Body"].read()
    assert body == b"page v3, written while v2 was uploading"
