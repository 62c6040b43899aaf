"""The inline session policy for ``scope_session: true`` (pure).

AssumeRole's ``Policy`` parameter narrows the role's permissions for one session: the
credentials can then only touch this bucket and prefix (and the configured distribution
and KMS key), whatever else the role may do. The effective permissions are the
intersection of the role's policies and this one, so it never grants more.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import SettingsError

MAX_PACKED = 2048  # STS: the plain-text session policy may not exceed 2,048 characters


def _arn_partition(role_arn: str) -> str:
    return role_arn.split(":", 2)[1]


def build(
    *,
    role_arn: str,
    bucket: str,
    prefix: str,
    distribution_id: str | None = None,
    kms_key_arn: str | None = None,
) -> dict[str, Any]:
    """The policy document: list the prefix, read/write/delete under it, invalidate, use the key."""
    partition = _arn_partition(role_arn)
    account = role_arn.split(":")[4]
    objects = f"arn:{partition}:s3:::{bucket}/{prefix}/*" if prefix else f"arn:{partition}:s3:::{bucket}/*"
    listing: dict[str, Any] = {
        "Sid": "ListPrefix",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:{partition}:s3:::{bucket}",
    }
    if prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}/*"]}}
    statements: list[dict[str, Any]] = [
        listing,
        {
            "Sid": "ObjectsUnderPrefix",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": objects,
        },
    ]
    if distribution_id:
        statements.append(
            {
                "Sid": "Invalidate",
                "Effect": "Allow",
                "Action": ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
                "Resource": f"arn:{partition}:cloudfront::{account}:distribution/{distribution_id}",
            }
        )
    if kms_key_arn:
        statements.append(
            {
                "Sid": "BucketKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": kms_key_arn,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def pack(policy: dict[str, Any]) -> str:
    """Compact JSON, checked against STS's 2,048-character limit (SettingsError if over)."""
    text = json.dumps(policy, separators=(",", ":"), ensure_ascii=True)
    if len(text) > MAX_PACKED:
        raise SettingsError(
            "scope_session",
            f"the session policy for this bucket and prefix is {len(text)} characters packed, over STS's "
            f"limit of {MAX_PACKED}. Shorten the prefix, or set scope_session: false and scope the role's "
            "own permission policy instead.",
        )
    return text


def session_policy(
    *,
    role_arn: str,
    bucket: str,
    prefix: str,
    distribution_id: str | None = None,
    kms_key_arn: str | None = None,
) -> str:
    """The packed policy to pass as AssumeRole's ``Policy``."""
    return pack(
        build(
            role_arn=role_arn,
            bucket=bucket,
            prefix=prefix,
            distribution_id=distribution_id,
            kms_key_arn=kms_key_arn,
        )
    )
