"""Both upload paths (transfer: crt, the AWS Common Runtime's S3 client; transfer: botocore) against
a real moto server: the same objects, headers, ETags and manifest; auto falls back to botocore
when the server refuses the CRT's first request. The rest of the suite runs on one path, chosen
with ``pytest --transfer`` (CI runs the integration tests on each)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mkdocs_redirects.plugin import HTML_TEMPLATE

from mkdocs_s3_crossaccount import PublishError, Settings, publish
from mkdocs_s3_crossaccount.aws import crt_transfer
from tests.conftest import BUCKET, DOCS_ACCOUNT, EXTERNAL_ID, ROLE_ARN, TRANSFER_ENV, Accounts, bucket_objects
from tests.conftest import make_site as write_site
from tests.support.faultproxy import ErrorResponse, FaultProxy, Match

pytestmark = pytest.mark.integration

needs_crt = pytest.mark.skipif(not crt_transfer.available(), reason="awscrt is not installed")

REDIRECT = HTML_TEMPLATE.format(url="../new/").encode()
SITE = {
    "index.html": b"<html>home</html>",
    "caf\u00e9/cr\u00e8me br\u00fbl\u00e9e+1.html": b"<html>unicode, space and plus</html>",
    "assets/app.css": b"body{color:red}" * 50,
    "assets/app.js": b"console.log(1)",
    "img/logo.png": b"\x89PNG\r\n\x1a\nfake",
    "old/index.html": REDIRECT,
    "empty.txt": b"",
    "search/search_index.json": b'{"docs":[]}',
}
BIG = "downloads/big.bin"
SITE_PUT = Match(method="PUT", kind="object", path=rf"^/{BUCKET}/(?!\.mkdocs-s3-crossaccount)")


def settings(endpoint: str | None = None, **kw: Any) -> Settings:
    return Settings(bucket=BUCKET, role_arn=ROLE_ARN, external_id=EXTERNAL_ID, endpoint_url=endpoint, **kw)


def manifest_etags(s3: Any) -> dict[str, str]:
    for key in bucket_objects(s3):
        if key.startswith(".mkdocs-s3-crossaccount/") and key.endswith(".json") and "lock" not in key:
            doc = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
            objects = doc.get("objects", {})
            return {rel: str(entry.get("etag", "")) for rel, entry in objects.items()}
    return {}


@pytest.mark.parametrize("transfer", [pytest.param("crt", marks=needs_crt), "botocore"])
def test_each_path_writes_the_same_objects_headers_and_etags(
    transfer: str, tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    site = write_site(tmp_path / "site", {**SITE, BIG: bytes(range(256)) * (9 * 4096)})  # 9 MiB: multipart
    options: dict[str, Any] = {
        "transfer": transfer,
        "gzip": ["*.css"],
        "redirects": True,
        "cache_control": {"*.html": "no-cache"},
    }
    with FaultProxy(accounts.url) as proxy:
        proxy.enforce_bucket_owner({BUCKET: DOCS_ACCOUNT})
        result = publish(site, settings(proxy.url, **options))
        violations = proxy.owner_violations
    assert violations == []
    assert len(result.uploaded) == len(SITE) + 1
    for rel, data in SITE.items():
        head = docs_bucket.head_object(Bucket=BUCKET, Key=rel)
        if rel == "old/index.html":
            assert head["WebsiteRedirectLocation"] == "/new/"
            assert head["ContentLength"] == 0
        elif rel == "assets/app.css":
            assert head["ContentEncoding"] == "gzip"
            assert head["ContentType"].startswith("text/css")
        else:
            assert head["ContentLength"] == len(data)
            assert head["ETag"].strip('"') == hashlib.md5(data).hexdigest()
        if rel.endswith(".html") and rel != "old/index.html":
            assert head["CacheControl"] == "no-cache"
            assert head["ContentType"].startswith("text/html")
    big = docs_bucket.head_object(Bucket=BUCKET, Key=BIG)
    assert big["ETag"].strip('"').endswith("-2")  # two 8 MiB-parts: s3transfer's part size, as planned
    # the manifest records what the server answered for every object, on either path
    recorded = manifest_etags(docs_bucket)
    server = {k: v["ETag"].strip('"') for k, v in bucket_objects(docs_bucket).items()}
    for rel in [*SITE, BIG]:
        assert recorded[rel] == server[rel], rel
    # and the next publish finds nothing to do (ETags and headers match the plan)
    again = publish(site, settings(accounts.url, **options))
    assert again.uploaded == []


@needs_crt
def test_auto_falls_back_to_botocore_when_the_server_refuses_the_crt(
    tmp_path: Path,
    accounts: Accounts,
    docs_bucket: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv(TRANSFER_ENV, raising=False)
    site = write_site(tmp_path / "site", SITE)
    refusal = ErrorResponse(400, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
    with FaultProxy(accounts.url) as proxy:
        rule = proxy.add_fault(refusal, SITE_PUT, first=1)
        with caplog.at_level(logging.INFO, logger="mkdocs.plugins.s3_crossaccount"):
            result = publish(site, settings(proxy.url, transfer="auto"))
        injected = rule.injected
    assert injected == 1
    assert len(result.uploaded) == len(SITE)
    assert any("uploading with botocore instead" in r.getMessage() for r in caplog.records)
    assert {k for k in bucket_objects(docs_bucket) if not k.startswith(".mkdocs")} == set(SITE)


@needs_crt
def test_crt_access_denied_names_bucket_key_and_identity(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = write_site(tmp_path / "site", SITE)
    denied = ErrorResponse(403, "AccessDenied", "Access Denied")
    with FaultProxy(accounts.url) as proxy:
        proxy.add_fault(denied, SITE_PUT)
        with pytest.raises(PublishError) as info:
            publish(site, settings(proxy.url, transfer="crt"))
    text = str(info.value)
    assert f"s3://{BUCKET}/" in text
    assert "assumed-role/docs-publisher" in text
    assert "s3:PutObject" in text
    assert "nothing was deleted" in text


@needs_crt
def test_crt_retries_throttling(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = write_site(tmp_path / "site", SITE)
    slow = ErrorResponse(503, "SlowDown", "Please reduce your request rate.")
    with FaultProxy(accounts.url) as proxy:
        rule = proxy.add_fault(slow, SITE_PUT, first=3)
        result = publish(site, settings(proxy.url, transfer="crt"))
        injected = rule.injected
    assert injected == 3
    assert len(result.uploaded) == len(SITE)


def test_crt_without_awscrt_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRANSFER_ENV, raising=False)  # the suite's override (--transfer) would win over "crt"
    monkeypatch.setattr(crt_transfer, "available", lambda: False)
    with pytest.raises(PublishError) as info:
        crt_transfer.choose("crt")
    assert "awscrt" in str(info.value) and "transfer: auto" in str(info.value)
    assert crt_transfer.choose("auto") == "botocore"


@pytest.mark.parametrize("mode", ["auto", "crt"])
def test_awscrt_that_does_not_load(
    mode: str,
    tmp_path: Path,
    accounts: Accounts,
    docs_bucket: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Installed but broken (find_spec finds it, the native library does not load): auto uploads with
    botocore and says so; crt fails before anything is uploaded, saying how to fix it."""
    monkeypatch.delenv(TRANSFER_ENV, raising=False)
    monkeypatch.setattr(crt_transfer, "available", lambda: True)

    def broken(self: Any) -> Any:
        raise ImportError("libaws-c-s3: cannot open shared object file")

    monkeypatch.setattr(crt_transfer.CrtTransfer, "_native", broken)
    site = write_site(tmp_path / "site", SITE)
    if mode == "auto":
        with caplog.at_level(logging.INFO, logger="mkdocs.plugins.s3_crossaccount"):
            result = publish(site, settings(accounts.url, transfer=mode))
        assert len(result.uploaded) == len(SITE)
        assert any("does not load" in r.getMessage() for r in caplog.records)
    else:
        with pytest.raises(PublishError) as info:
            publish(site, settings(accounts.url, transfer=mode))
        assert "awscrt" in str(info.value) and "reinstall" in str(info.value).lower()
        assert {k for k in bucket_objects(docs_bucket) if not k.startswith(".mkdocs")} == set()
