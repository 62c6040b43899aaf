"""The inline session policy for scope_session (pure)."""

from __future__ import annotations

import json

import pytest

from mkdocs_s3_crossaccount import Settings, SettingsError
from mkdocs_s3_crossaccount.core.session_policy import MAX_PACKED, build, pack, session_policy

ROLE = "arn:aws:iam::222222222222:role/docs-publisher"


def test_prefix_scoped_policy() -> None:
    doc = build(role_arn=ROLE, bucket="example-docs", prefix="docs/v2")
    listing, objects, uploads = doc["Statement"]
    assert uploads == {
        "Sid": "FindIncompleteUploads",
        "Effect": "Allow",
        "Action": "s3:ListBucketMultipartUploads",
        "Resource": "arn:aws:s3:::example-docs",
    }
    assert listing["Action"] == "s3:ListBucket"
    assert listing["Resource"] == "arn:aws:s3:::example-docs"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["docs/v2/", "docs/v2/*"]}}
    assert objects["Resource"] == "arn:aws:s3:::example-docs/docs/v2/*"
    assert set(objects["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}


def test_root_prefix_has_no_condition() -> None:
    listing, objects, _ = build(role_arn=ROLE, bucket="example-docs", prefix="")["Statement"]
    assert "Condition" not in listing
    assert objects["Resource"] == "arn:aws:s3:::example-docs/*"


def test_distribution_kms_and_partition() -> None:
    doc = build(
        role_arn="arn:aws-cn:iam::222222222222:role/r",
        bucket="b-docs",
        prefix="p",
        distribution_id="E2ABCDEF123456",
        kms_key_arn="arn:aws-cn:kms:cn-north-1:222222222222:key/k",
    )
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["InvalidateCdn"]["Resource"] == "arn:aws-cn:cloudfront::222222222222:distribution/E2ABCDEF123456"
    assert by_sid["InvalidateCdn"]["Action"] == ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"]
    assert by_sid["UseBucketKey"]["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert by_sid["WriteSiteObjects"]["Resource"].startswith("arn:aws-cn:s3:::")


def test_session_policy_is_the_roles_least_privilege_policy() -> None:
    from mkdocs_s3_crossaccount.core.policy import Grants, permission_policy

    assert build(role_arn=ROLE, bucket="example-docs", prefix="docs") == permission_policy(
        "example-docs", "docs", grants=Grants(account="222222222222")
    )


def test_packed_is_compact_json() -> None:
    text = session_policy(role_arn=ROLE, bucket="example-docs", prefix="docs")
    assert " " not in text and "\n" not in text
    assert json.loads(text) == build(role_arn=ROLE, bucket="example-docs", prefix="docs")


def test_over_the_limit_is_a_settings_error() -> None:
    doc = build(role_arn=ROLE, bucket="example-docs", prefix="p" * 900, distribution_id="E2ABCDEF123456")
    assert len(json.dumps(doc, separators=(",", ":"))) > MAX_PACKED
    with pytest.raises(SettingsError, match="2048"):
        pack(doc)
    with pytest.raises(SettingsError, match="scope_session"):
        Settings(
            bucket="example-docs",
            role_arn=ROLE,
            prefix="p" * 900,
            scope_session=True,
            cloudfront_distribution_id="E2ABCDEF123456",
        )


def test_scope_session_needs_a_role() -> None:
    with pytest.raises(SettingsError, match="needs role_arn"):
        Settings(bucket="example-docs", scope_session=True)
    assert Settings(bucket="example-docs", role_arn=ROLE).session_policy() is None
