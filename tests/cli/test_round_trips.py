"""The requests an unchanged publish makes (issue 11: one round trip fewer where possible).

Recorded in-process on the clients botocore creates (the ``api_calls`` fixture), against the
moto server: the identity comes from STS's AssumeRole reply, so there is no GetCallerIdentity,
and a publish with nothing to do lists once, reads the manifest once, and takes and releases
the lock; it uploads, copies and deletes nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import Settings, publish
from tests.cli.conftest import Call, write_site
from tests.conftest import BUCKET, EXTERNAL_ID, ROLE_ARN

pytestmark = pytest.mark.integration


def test_an_unchanged_publish_makes_only_its_required_calls(
    tmp_path: Path, docs_bucket: Any, api_calls: list[Call]
) -> None:
    settings = Settings(bucket=BUCKET, prefix="docs", role_arn=ROLE_ARN, external_id=EXTERNAL_ID)
    site = write_site(tmp_path / "site")
    first = publish(site, settings)
    assert len(first.uploaded) > 0
    api_calls.clear()

    result = publish(site, settings)

    assert result.uploaded == [] and result.deleted == []
    ops = Counter(f"{c.service}:{c.operation}" for c in api_calls)
    assert ops["sts:GetCallerIdentity"] == 0, ops  # the AssumeRole reply names the session
    assert ops["sts:AssumeRole"] == 1, ops
    assert ops["s3:ListObjectsV2"] == 1, ops
    assert ops["s3:GetObject"] == 1, ops  # the manifest
    assert ops["s3:DeleteObject"] == 1, ops  # the lock's release
    writes = {op for op in ops if op.startswith("s3:") and op not in {"s3:ListObjectsV2", "s3:GetObject"}}
    assert writes <= {"s3:PutObject", "s3:DeleteObject"}, ops  # lock (and its probe) only
    assert ops["s3:PutObject"] <= 2, ops
    assert all(
        c.params.get("Key", "").startswith("docs/.mkdocs-s3-crossaccount/") for c in api_calls if "Key" in c.params
    )


def test_the_identity_from_the_assume_role_reply_is_the_session(
    tmp_path: Path, docs_bucket: Any, api_calls: list[Call]
) -> None:
    settings = Settings(bucket=BUCKET, prefix="docs", role_arn=ROLE_ARN, external_id=EXTERNAL_ID)
    result = publish(write_site(tmp_path / "site"), settings)
    assumed = next(c for c in api_calls if c.operation == "AssumeRole")
    account, role_name = ROLE_ARN.split(":")[4], ROLE_ARN.rsplit("/", 1)[1]
    assert assumed.params["RoleArn"] == ROLE_ARN
    assert result.account == account
    assert result.identity_arn.startswith(f"arn:aws:sts::{account}:assumed-role/{role_name}/"), result.identity_arn
