"""No secret reaches a log line, even with every logger (botocore's too) at DEBUG."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import AssumeRoleCredentialFetcher

from mkdocs_s3_crossaccount import Settings, publish
from mkdocs_s3_crossaccount.core.redact import MASK, redact
from tests.conftest import BUCKET, DEV_SECRET, EXTERNAL_ID, ROLE_ARN, Accounts

pytestmark = pytest.mark.integration


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("botocore", "boto3", "s3transfer", "urllib3", "mkdocs"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buf
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
        for name in ("botocore", "boto3", "s3transfer", "urllib3"):
            logging.getLogger(name).setLevel(logging.WARNING)


def test_debug_output_of_a_full_publish_has_no_secret(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, debug_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued: list[dict[str, Any]] = []
    real_fetch = AssumeRoleCredentialFetcher.fetch_credentials

    def spy(self: AssumeRoleCredentialFetcher) -> Any:  # records what STS really returned
        creds = real_fetch(self)
        issued.append(creds)
        return creds

    monkeypatch.setattr(AssumeRoleCredentialFetcher, "fetch_credentials", spy)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html/>")
    (site / "a.css").write_text("a{}")
    docs_bucket.put_object(Bucket=BUCKET, Key="stale.html", Body=b"x")
    publish(
        site,
        Settings(bucket=BUCKET, role_arn=ROLE_ARN, external_id=EXTERNAL_ID, max_delete_share=1, delete_unmanaged=True),
    )

    text = debug_log.getvalue()
    assert "AssumeRole" in text and "PutObject" in text and "DeleteObjects" in text, "botocore DEBUG was captured"
    assert issued, "the role was assumed"
    secrets = [DEV_SECRET, EXTERNAL_ID]
    for creds in issued:
        secrets += [creds["secret_key"], creds["token"]]
    for secret in secrets:
        assert secret not in text
    assert MASK in text


@pytest.mark.parametrize(
    "line",
    [
        "<SecretAccessKey>abcDEF123/+=</SecretAccessKey>",
        "<SessionToken>FQoGZXIvYXdzEBYaD8U6q</SessionToken>",
        "headers={'X-Amz-Security-Token': b'FQoGZXIvYXdzEBYaD8U6q'}",
        "x-amz-security-token:FQoGZXIvYXdzEBYaD8U6q",
        "params={'WebIdentityToken': 'eyJhbGciOiJSUzI1NiJ9.e30.sig', 'RoleArn': 'x'}",
        "body: Action=AssumeRole&ExternalId=some-external-id&Version=2011-06-15",
    ],
)
def test_secret_shapes_are_masked_without_being_registered(line: str) -> None:
    out = redact(line)
    assert MASK in out
    for token in ("abcDEF123", "FQoGZXIvYXdzEBYaD8U6q", "eyJhbGciOiJSUzI1NiJ9", "some-external-id"):
        assert token not in out
