"""A tiny IAM evaluator for tests: does an identity policy's Allow cover an API call?

Enough of IAM for our documents: Allow statements, Action/Resource with `*` and `?`
wildcards (case-insensitive actions, case-sensitive resources), and StringEquals /
StringLike conditions on request keys. A condition key absent from the request fails
the condition, as in IAM. Deny statements and NotAction/NotResource are refused, since
our generated policies never use them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _condition_ok(condition: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, str]) -> bool:
    for operator, tests in (condition or {}).items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            values = _as_list(expected)
            if operator == "StringEquals":
                if actual not in values:
                    return False
            elif operator == "StringLike":
                if not any(wildcard(v, actual) for v in values):
                    return False
            else:
                raise AssertionError(f"condition operator {operator} is not supported by this evaluator")
    return True


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


def allows(policy: Mapping[str, Any], request: Request) -> bool:
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow", "only Allow statements are expected"
        assert "NotAction" not in st and "NotResource" not in st
        if not any(wildcard(a, request.action, ignore_case=True) for a in _as_list(st["Action"])):
            continue
        if not any(wildcard(r, request.resource) for r in _as_list(st["Resource"])):
            continue
        if _condition_ok(st.get("Condition"), request.context):
            return True
    return False


# S3 operation -> IAM action; the resource is the bucket (b) or each object (o).
S3_ACTIONS = {
    "ListObjectsV2": ("s3:ListBucket", "b"),
    "ListObjects": ("s3:ListBucket", "b"),
    "HeadBucket": ("s3:ListBucket", "b"),
    "GetBucketVersioning": ("s3:GetBucketVersioning", "b"),
    "GetObject": ("s3:GetObject", "o"),
    "HeadObject": ("s3:GetObject", "o"),
    "PutObject": ("s3:PutObject", "o"),
    "CreateMultipartUpload": ("s3:PutObject", "o"),
    "UploadPart": ("s3:PutObject", "o"),
    "CompleteMultipartUpload": ("s3:PutObject", "o"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "o"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", "b"),
    "DeleteObject": ("s3:DeleteObject", "o"),
    "DeleteObjects": ("s3:DeleteObject", "o"),
}


def s3_requests(operation: str, params: Mapping[str, Any]) -> list[Request]:
    """The IAM requests one S3 API call is authorised as (DeleteObjects: one per key)."""
    if operation not in S3_ACTIONS:
        raise AssertionError(f"S3 operation {operation} has no IAM mapping here: add it (and to the policy?)")
    action, kind = S3_ACTIONS[operation]
    bucket = params["Bucket"]
    if kind == "b":
        ctx = {"s3:prefix": params["Prefix"]} if "Prefix" in params else {}
        return [Request(action, f"arn:aws:s3:::{bucket}", ctx)]
    if operation == "DeleteObjects":
        return [Request(action, f"arn:aws:s3:::{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]]
    return [Request(action, f"arn:aws:s3:::{bucket}/{params['Key']}")]
