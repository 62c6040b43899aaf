"""ExpectedBucketOwner on every bucket request, checked by a FaultProxy that enforces it
(moto itself ignores the header)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import PublishError, Settings, publish
from tests.conftest import BUCKET, DOCS_ACCOUNT, EXTERNAL_ID, ROLE_ARN, Accounts, bucket_objects
from tests.conftest import make_site as write_site
from tests.support.faultproxy import FaultProxy, Match

pytestmark = pytest.mark.integration

SITE = {
    "index.html": b"<html>home</html>",
    "guide/index.html": b"<html>guide</html>",
    "assets/app.css": b"body{}",
    "img/logo.png": b"\x89PNG\r\n\x1a\nfake",
}


def settings(endpoint: str, **kw: Any) -> Settings:
    return Settings(bucket=BUCKET, role_arn=ROLE_ARN, external_id=EXTERNAL_ID, endpoint_url=endpoint, **kw)


def test_every_bucket_request_carries_expected_owner(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = write_site(tmp_path / "site", SITE)
    docs_bucket.put_object(Bucket=BUCKET, Key="stale.html", Body=b"old")
    with FaultProxy(accounts.url) as proxy:
        proxy.enforce_bucket_owner({BUCKET: DOCS_ACCOUNT})
        publish(site, settings(proxy.url))
        (site / "guide/index.html").write_bytes(b"<html>guide v2</html>")
        (site / "assets/app.css").unlink()
        result = publish(site, settings(proxy.url, delete_unmanaged=True, max_delete_share=1))
        violations = proxy.owner_violations
        bucket_requests = proxy.count(match=Match(kind=("bucket", "object")))
    assert violations == [], [f"{v}" for v in violations]
    assert bucket_requests > 10  # list, lock, puts, deletes, manifest all went through the proxy
    assert sorted(result.deleted) == ["assets/app.css", "stale.html"]
    keys = {k for k in bucket_objects(docs_bucket) if not k.startswith(".mkdocs-s3-crossaccount/")}
    assert keys == {"index.html", "guide/index.html", "img/logo.png"}


def test_wrong_expected_owner_fails_and_writes_nothing(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = write_site(tmp_path / "site", SITE)
    with FaultProxy(accounts.url) as proxy:
        proxy.enforce_bucket_owner({BUCKET: DOCS_ACCOUNT})
        with pytest.raises(PublishError) as info:
            publish(site, settings(proxy.url, expected_bucket_owner="333333333333"))
        writes = [r for r in proxy.requests if r.method in ("PUT", "POST", "DELETE") and r.kind == "object"]
    text = str(info.value)
    assert "owner" in text.lower() or "ExpectedBucketOwner" in text, text
    assert "Traceback" not in text
    assert writes == [] or all(r.header("x-amz-expected-bucket-owner") == "333333333333" for r in writes)
    assert bucket_objects(docs_bucket) == {}
