"""The inline session policy for ``scope_session: true`` (pure).

AssumeRole's ``Policy`` parameter narrows the role's permissions for one session: the
credentials can then only touch this bucket and prefix (and the configured distribution
and KMS key), whatever else the role may do. The effective permissions are the
intersection of the role's policies and this one, so it never grants more.
"""

from __future__ import annotations

import json
from typing import Any

from mkdocs_s3_crossaccount.core.errors import SettingsError
from mkdocs_s3_crossaccount.core.policy import Grants, account_of_arn, permission_policy

MAX_PACKED = 2048  # STS: the plain-text session policy may not exceed 2,048 characters


def build(
    *,
    role_arn: str,
    bucket: str,
    prefix: str,
    distribution_id: str | None = None,
    kms_key_arn: str | None = None,
) -> dict[str, Any]:
    """The policy document: the role's least-privilege permission policy for this publish."""
    return permission_policy(
        bucket,
        prefix,
        partition=role_arn.split(":", 2)[1],
        grants=Grants(
            cloudfront_distribution_id=distribution_id, account=account_of_arn(role_arn), kms_key_arn=kms_key_arn
        ),
    )


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
