"""Mapping between site-relative paths and S3 keys (pure)."""

from __future__ import annotations

import unicodedata

MAX_KEY_BYTES = 1024
# The publisher's own objects (lock, manifest) live here, under the prefix; never site content.
INTERNAL_DIR = ".mkdocs-s3-crossaccount/"


def rel_path(parts: tuple[str, ...] | list[str]) -> str:
    """Join path segments with '/' in Unicode NFC.

    macOS file systems hand out decomposed (NFD) names; browsers request composed
    (NFC) URLs, so an NFD key would 404 after publishing from a Mac.
    """
    return unicodedata.normalize("NFC", "/".join(parts))


def to_key(prefix: str, rel: str) -> str:
    """The S3 key of a site-relative path under ``prefix``."""
    return f"{prefix}/{rel}" if prefix else rel


def from_key(prefix: str, key: str) -> str | None:
    """The site-relative path of ``key``, or None if it is not under ``prefix`` at a '/' boundary."""
    if not prefix:
        return key
    head = prefix + "/"
    return key[len(head) :] if key.startswith(head) and len(key) > len(head) else None


def list_prefix(prefix: str) -> str:
    """The Prefix to list with: ``docs/`` (never bare ``docs``, which would match ``docs-old/``)."""
    return prefix + "/" if prefix else ""
