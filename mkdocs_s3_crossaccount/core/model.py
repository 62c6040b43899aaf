"""Records shared by every stage: what is in the bucket (pure data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RemoteObject:
    """One object under the prefix, as a listing reports it."""

    rel: str  # path relative to the prefix
    key: str
    size: int
    etag: str  # without quotes, lower case


def clean_etag(raw: str) -> str:
    """An ETag as listings and responses send it ('"ABC"') in our one form ('abc')."""
    return raw.strip().strip('"').lower()
