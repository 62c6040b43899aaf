"""The manifest's home in the bucket: read it out of a listing, write it back (through the Destination)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mkdocs_s3_crossaccount.core.destination import Destination
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.manifest import MANIFEST_DIR, MANIFEST_REL, Manifest, ManifestError, parse
from mkdocs_s3_crossaccount.core.model import RemoteObject

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

MANIFEST_MAX_BYTES = 256 * 1024 * 1024  # refuse to read anything bigger as a manifest


@dataclass(frozen=True)
class Listing:
    """The bucket under the prefix, without our bookkeeping objects, and the manifest (None: none usable)."""

    remote: dict[str, RemoteObject]
    manifest: Manifest | None


def read_listing(dest: Destination) -> Listing:
    """List the prefix, take the manifest (and anything else under its folder) out, and read the manifest."""
    remote = dest.list()
    listed = remote.pop(MANIFEST_REL, None)
    for rel in [r for r in remote if r.startswith(MANIFEST_DIR + "/")]:
        del remote[rel]
    if listed is None:
        return Listing(remote, None)
    fetched = dest.get(MANIFEST_REL, max_bytes=MANIFEST_MAX_BYTES)
    if fetched is None:
        return Listing(remote, None)
    try:
        return Listing(remote, parse(fetched.body))
    except ManifestError as exc:
        log.warning(
            "The deploy manifest s3://%s/%s is unusable (%s). This publish compares objects by ETag, "
            "re-applies headers, deletes only with delete_unmanaged, and writes a new manifest.",
            dest.bucket,
            dest.key(MANIFEST_REL),
            exc,
        )
        return Listing(remote, None)


def save_manifest(dest: Destination, body: bytes, kms_key_arn: str | None = None) -> str:
    """Write the manifest (last, after deletes). Returns its ETag."""
    headers = {"ContentType": "application/json; charset=utf-8", "CacheControl": "no-store"}
    if kms_key_arn:
        headers.update({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_arn})
    try:
        return dest.put(MANIFEST_REL, body, headers)
    except PublishError as base:
        raise PublishError(
            f"The site was published, but writing the deploy manifest failed: {base.message}",
            (base.fix + " " if base.fix else "")
            + "Until a manifest is written, the next publish compares by ETag and deletes nothing it "
            "does not own.",
        ) from base
