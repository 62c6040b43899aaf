"""The `checksums` option on the wire: what a publish sends to a non-AWS endpoint (moto behind the proxy)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import Settings, publish
from tests.conftest import BUCKET, EXTERNAL_ID, ROLE_ARN, Accounts, bucket_objects, make_site
from tests.support.faultproxy import FaultProxy, RequestRecord

pytestmark = pytest.mark.integration

SITE = {
    "index.html": b"<html>home</html>",
    "guide/index.html": b"<html>guide</html>",
    "assets/app.css": b"body{}",
}


def _checksum_headers(record: RequestRecord) -> list[str]:
    return sorted(k.lower() for k, _ in record.headers if k.lower().startswith("x-amz-checksum-"))


def _publish_then_delete(tmp_path: Path, proxy: FaultProxy, **kw: Any) -> tuple[list[RequestRecord], RequestRecord]:
    site = make_site(tmp_path / "site", SITE)
    settings = Settings(bucket=BUCKET, role_arn=ROLE_ARN, external_id=EXTERNAL_ID, endpoint_url=proxy.url, **kw)
    publish(site, settings)
    puts = [r for r in proxy.requests if r.method == "PUT" and r.kind == "object"]
    (site / "assets/app.css").unlink()
    proxy.reset_stats()
    result = publish(site, settings)
    assert result.deleted == ["assets/app.css"]
    deletes = [r for r in proxy.requests if r.method == "POST" and "delete" in r.query_params]
    assert len(deletes) == 1, [f"{r.method} {r.target}" for r in proxy.requests]
    return puts, deletes[0]


def test_auto_against_another_endpoint_sends_only_required_checksums_and_content_md5(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    with FaultProxy(accounts.url) as proxy:
        puts, delete = _publish_then_delete(tmp_path, proxy)
    assert len(puts) >= len(SITE)
    assert [r.key for r in puts if _checksum_headers(r)] == []  # no CRC32 on uploads
    md5 = delete.header("Content-MD5")
    assert md5 is not None and len(base64.b64decode(md5)) == hashlib.md5().digest_size
    assert _checksum_headers(delete) == []  # the MD5 replaces botocore's CRC32
    assert delete.header("x-amz-sdk-checksum-algorithm") is None
    assert "assets/app.css" not in bucket_objects(docs_bucket)


def test_when_supported_keeps_boto3s_crc32_everywhere(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    with FaultProxy(accounts.url) as proxy:
        puts, delete = _publish_then_delete(tmp_path, proxy, checksums="when_supported")
    site_puts = [r for r in puts if not (r.key or "").startswith(".mkdocs-s3-crossaccount/")]
    assert site_puts and all(_checksum_headers(r) == ["x-amz-checksum-crc32"] for r in site_puts)
    assert _checksum_headers(delete) == ["x-amz-checksum-crc32"]
    assert delete.header("Content-MD5") is None


def test_an_explicit_variable_wins_over_auto(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "when_supported")
    with FaultProxy(accounts.url) as proxy:
        puts, delete = _publish_then_delete(tmp_path, proxy)
    assert any(_checksum_headers(r) == ["x-amz-checksum-crc32"] for r in puts)
    assert delete.header("Content-MD5") is None
