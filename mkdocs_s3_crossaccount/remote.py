"""Remote walk: bucket + prefix -> RemoteObject records (paginated, '/'-boundary)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .keys import INTERNAL_DIR, from_key, list_prefix


@dataclass(frozen=True)
class RemoteObject:
    rel: str  # path relative to the prefix
    key: str
    size: int
    etag: str  # without quotes, lower case


def clean_etag(raw: str) -> str:
    return raw.strip().strip('"').lower()


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
            if rel is None or rel.startswith(INTERNAL_DIR):  # outside the prefix, or our own objects
                continue
            found[rel] = RemoteObject(rel, key, int(item["Size"]), clean_etag(item.get("ETag", "")))
    return found
