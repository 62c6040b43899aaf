"""Crash safety against real servers (issue 10): incomplete uploads of a killed publish (16),
SIGTERM (9), throttling (10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import Settings, publish
from tests.conftest import BUCKET, EXTERNAL_ID, ROLE_ARN, Accounts, make_site

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
