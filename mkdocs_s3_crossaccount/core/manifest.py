"""The deploy manifest (pure): what this publisher wrote under the prefix, and how.

One JSON object, ``<prefix>/.mkdocs-s3-crossaccount/manifest.json``, written last in every
publish that changed something. For each object it records the MD5 of the site's file (the
uncompressed source), the ETag S3 gave the object, the object's size, a fingerprint of its
headers and what its body is (the file, the file gzipped, or empty for a redirect). Planning
uses it to tell content changes from header changes, to compare multipart and SSE-KMS objects
(whose ETags are not MD5s) by content, and to know which objects this publisher owns.

Format (``format`` 1)::

    {
      "format": 1,
      "generator": "mkdocs-s3-crossaccount",
      "deploy": {"number": 7, "time": "2026-11-28T20:15:00Z", "plugin_version": "0.1.0",
                 "mkdocs_version": "1.6.1", "role_arn": "arn:aws:iam::...:role/...",
                 "identity_arn": "arn:aws:sts::...", "commit_sha": "...", "pipeline_id": "...",
                 "pipeline_url": "..."},
      "pending_invalidation": ["/docs/a/"],            # only after a failed invalidation
      "objects": {
        "index.html": {"md5": "...", "etag": "...", "size": 123,
                       "headers": "sha256:...", "body": "identity"},
        "old/page.html": {..., "removed_at_deploy": 6},  # retained (retain_deploys)
        "assets/app.css": {..., "version_id": "3HL4kqt..."}  # with bucket versioning on
        "old/index.html": {..., "body": "empty", "redirect": "/new/"}  # redirects: true
      }
    }

Object names are relative to the prefix, like the site's paths.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mkdocs_s3_crossaccount.core.headers import Body
from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR

MANIFEST_DIR = INTERNAL_DIR.rstrip("/")  # shared with the lock object
MANIFEST_REL = f"{MANIFEST_DIR}/manifest.json"
FORMAT = 1
GENERATOR = "mkdocs-s3-crossaccount"

_MD5 = re.compile(r"^[0-9a-f]{32}$")
_BODIES = {Body.IDENTITY, Body.GZIP, Body.EMPTY}


class ManifestError(ValueError):
    """The manifest cannot be used; the message says why (shown as a warning)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What the manifest records of one object."""

    md5: str | None  # MD5 of the site file (source); None for objects adopted without knowing it
    etag: str | None  # ETag of the object as S3 returned it after our write; None if unknown
    size: int  # bytes stored
    headers: str | None  # fingerprint of the header set (headers.fingerprint); None if unknown
    body: str = Body.IDENTITY
    removed_at_deploy: int | None = None  # deploy that first left it out of the site (retained)
    version_id: str | None = None  # the object's VersionId after our write (bucket versioning on)
    redirect: str | None = None  # its WebsiteRedirectLocation (S3 does not copy it; aliases and rollback do)

    def to_json(self) -> dict[str, Any]:
        """The entry as the manifest's JSON stores it."""
        out: dict[str, Any] = {
            "md5": self.md5,
            "etag": self.etag,
            "size": self.size,
            "headers": self.headers,
            "body": self.body,
        }
        if self.removed_at_deploy is not None:
            out["removed_at_deploy"] = self.removed_at_deploy
        if self.version_id is not None:
            out["version_id"] = self.version_id
        if self.redirect is not None:
            out["redirect"] = self.redirect
        return out


@dataclass(frozen=True)
class Manifest:
    """The deploy manifest: owned objects, the deploy record, invalidations left to retry."""

    objects: Mapping[str, Entry] = field(default_factory=dict)
    deploy: Mapping[str, Any] = field(default_factory=dict)
    pending_invalidation: tuple[str, ...] = ()

    @property
    def number(self) -> int:
        """The deploy number of the publish that wrote it (0 if unknown)."""
        n = self.deploy.get("number", 0)
        return n if isinstance(n, int) and n >= 0 else 0

    def with_objects(self, objects: Mapping[str, Entry]) -> Manifest:
        """A copy with other objects."""
        return replace(self, objects=dict(objects))


def serialise(manifest: Manifest) -> bytes:
    """The manifest's bytes (compact JSON, keys sorted)."""
    doc = {
        "format": FORMAT,
        "generator": GENERATOR,
        "deploy": dict(manifest.deploy),
        "objects": {rel: manifest.objects[rel].to_json() for rel in sorted(manifest.objects)},
    }
    if manifest.pending_invalidation:
        doc["pending_invalidation"] = sorted(set(manifest.pending_invalidation))
    # compact: at 10,000 objects indentation alone would add a third to the bytes read and written
    return (json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def _opt_str(value: object, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ManifestError(f"{what} is not a string")


def _interned(value: str | None) -> str | None:
    """Header fingerprints repeat across thousands of entries: keep one copy of each."""
    return sys.intern(value) if value is not None else None


def _entry(rel: str, raw: object) -> Entry:
    if not isinstance(raw, dict):
        raise ManifestError(f"entry {rel!r} is not an object")
    md5 = _opt_str(raw.get("md5"), f"{rel!r}: md5")
    if md5 is not None and not _MD5.match(md5):
        raise ManifestError(f"{rel!r}: md5 {md5!r} is not a hex MD5")
    size = raw.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"{rel!r}: size is not a non-negative integer")
    body = raw.get("body", Body.IDENTITY)
    if body not in _BODIES:
        raise ManifestError(f"{rel!r}: unknown body {body!r}")
    removed = raw.get("removed_at_deploy")
    if removed is not None and (not isinstance(removed, int) or isinstance(removed, bool) or removed < 0):
        raise ManifestError(f"{rel!r}: removed_at_deploy is not a non-negative integer")
    etag = _opt_str(raw.get("etag"), f"{rel!r}: etag")
    return Entry(
        md5=md5,
        etag=etag.strip('"').lower() if etag else None,
        size=size,
        headers=_interned(_opt_str(raw.get("headers"), f"{rel!r}: headers")),
        body=str(body),
        removed_at_deploy=removed,
        version_id=_opt_str(raw.get("version_id"), f"{rel!r}: version_id"),
        redirect=_opt_str(raw.get("redirect"), f"{rel!r}: redirect"),
    )


def parse(data: bytes) -> Manifest:
    """The manifest in ``data``; raises ManifestError saying what is wrong with it."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except RecursionError as exc:  # e.g. 100,000 nested arrays: the decoder gives up
        raise ManifestError("nested too deeply to be a manifest") from exc
    except ValueError as exc:  # bad UTF-8, bad JSON, an integer of more than 4,300 digits
        raise ManifestError(f"not valid JSON ({str(exc)[:200]})") from exc
    try:
        return _document(doc)
    except ManifestError:
        raise
    except RecursionError as exc:
        raise ManifestError("nested too deeply to be a manifest") from exc
    except (ValueError, TypeError) as exc:  # anything else that makes it unusable, never a crash
        raise ManifestError(f"unusable ({str(exc)[:200]})") from exc


def _document(doc: object) -> Manifest:
    """The Manifest of a decoded JSON document (ManifestError says what is wrong)."""
    if not isinstance(doc, dict):
        raise ManifestError("not a JSON object")
    if doc.get("generator") != GENERATOR:
        raise ManifestError("not written by mkdocs-s3-crossaccount")
    fmt = doc.get("format")
    if fmt != FORMAT:
        if isinstance(fmt, int) and fmt > FORMAT:
            raise ManifestError(f"written in format {fmt} by a newer version of mkdocs-s3-crossaccount")
        raise ManifestError(f"unknown format {fmt!r}")
    objects = doc.get("objects")
    if not isinstance(objects, dict):
        raise ManifestError("'objects' is missing or not an object")
    deploy = doc.get("deploy", {})
    if not isinstance(deploy, dict):
        raise ManifestError("'deploy' is not an object")
    pending = doc.get("pending_invalidation", [])
    if not isinstance(pending, list) or not all(isinstance(p, str) for p in pending):
        raise ManifestError("'pending_invalidation' is not a list of paths")
    return Manifest(
        objects={str(rel): _entry(str(rel), raw) for rel, raw in objects.items()},
        deploy=deploy,
        pending_invalidation=tuple(pending),
    )


@dataclass(frozen=True)
class Publisher:
    """Who publishes with what: recorded in each deploy."""

    plugin_version: str
    mkdocs_version: str | None  # the site generator's version (MkDocs or ProperDocs)
    role_arn: str | None
    identity_arn: str


def deploy_info(number: int, time_iso: str, publisher: Publisher, environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``deploy`` record: who published what, from where (CI variables if present)."""
    info: dict[str, Any] = {
        "number": number,
        "time": time_iso,
        "plugin_version": publisher.plugin_version,
        "mkdocs_version": publisher.mkdocs_version,
        "role_arn": publisher.role_arn,
        "identity_arn": publisher.identity_arn,
    }
    sha = environ.get("CI_COMMIT_SHA") or environ.get("GITHUB_SHA")
    pipeline = environ.get("CI_PIPELINE_ID") or environ.get("GITHUB_RUN_ID")
    url = environ.get("CI_PIPELINE_URL")
    if not url and environ.get("GITHUB_RUN_ID") and environ.get("GITHUB_REPOSITORY"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        url = f"{server}/{environ['GITHUB_REPOSITORY']}/actions/runs/{environ['GITHUB_RUN_ID']}"
    for name, value in (("commit_sha", sha), ("pipeline_id", pipeline), ("pipeline_url", url)):
        if value:
            info[name] = value
    return info
