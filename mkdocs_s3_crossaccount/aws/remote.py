"""Remote walk: bucket + prefix -> RemoteObject records (paginated, '/'-boundary)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mkdocs_s3_crossaccount.aws import diagnose
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.keys import from_key, list_prefix
from mkdocs_s3_crossaccount.core.model import RemoteObject, clean_etag

MANIFEST_MAX_BYTES = 256 * 1024 * 1024  # refuse to read anything bigger as a manifest


def list_remote(s3: Any, bucket: str, prefix: str, owner: str) -> dict[str, RemoteObject]:
    """All objects under ``prefix/`` keyed by site-relative path."""
    paginator = s3.get_paginator("list_objects_v2")
    found: dict[str, RemoteObject] = {}
    pages = paginator.paginate(
        Bucket=bucket,
        Prefix=list_prefix(prefix),
        ExpectedBucketOwner=owner,
        PaginationConfig={"PageSize": 1000},
    )
    for page in pages:
        for item in page.get("Contents", ()):
            key = item["Key"]
            rel = from_key(prefix, key)
            if rel is None:  # belt and braces: the server answered outside the prefix
                continue
            found[rel] = RemoteObject(rel, key, int(item["Size"]), clean_etag(item.get("ETag", "")))
    return found


def get_manifest(s3: Any, bucket: str, key: str, owner: str, identity_arn: str) -> bytes | None:
    """The manifest's bytes, or None if there is none. Other failures raise PublishError."""
    try:
        resp = s3.get_object(Bucket=bucket, Key=key, ExpectedBucketOwner=owner)
    except ClientError as exc:
        if diagnose.code_of(exc) in ("NoSuchKey", "404", "NotFound"):
            return None
        if diagnose.code_of(exc) in ("AccessDenied", "403", "Forbidden"):
            raise PublishError(
                f"Access denied reading the deploy manifest s3://{bucket}/{key} as {identity_arn}.",
                f'The role needs "s3:GetObject" on "arn:aws:s3:::{bucket}/*" (or the prefix) to read the '
                "manifest it writes; without it the publisher cannot tell which objects it owns.",
            ) from exc
        raise diagnose.unexpected(exc, f"reading s3://{bucket}/{key}") from exc
    except BotoCoreError as exc:
        raise diagnose.unexpected(exc, f"reading s3://{bucket}/{key}") from exc
    body = resp["Body"]
    try:
        if int(resp.get("ContentLength", 0)) > MANIFEST_MAX_BYTES:
            return b""  # unusable: parse() reports it, the publish falls back
        return bytes(body.read())
    finally:
        body.close()
