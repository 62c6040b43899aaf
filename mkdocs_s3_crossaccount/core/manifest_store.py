"""The manifest's home in the bucket: read it out of a listing, write it back (through the Destination)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mkdocs_s3_crossaccount.core.destination import Destination
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.keys import bookkeeping_root
from mkdocs_s3_crossaccount.core.manifest import MANIFEST_REL, Manifest, ManifestError, parse
from mkdocs_s3_crossaccount.core.model import RemoteObject

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

MANIFEST_MAX_BYTES = 256 * 1024 * 1024  # refuse to read anything bigger as a manifest


@dataclass(frozen=True)
class Listing:
    """The bucket under the prefix, without any publisher's bookkeeping objects, and the manifest (None: none usable).

    ``nested`` lists the folders below the prefix (``"v2/"``) holding another publisher's
    bookkeeping (its manifest or lock): that publisher owns them, so ``delete_unmanaged`` leaves
    their objects alone, and its manifest and lock are never deletion candidates.
    """

    remote: dict[str, RemoteObject]
    manifest: Manifest | None
    nested: tuple[str, ...] = ()


def read_listing(dest: Destination) -> Listing:
    """List the prefix, take the manifest (and anything else under its folder) out, and read the manifest."""
    remote = dest.list()
    listed = remote.pop(MANIFEST_REL, None)
    nested: set[str] = set()
    for rel in list(remote):
        root = bookkeeping_root(rel)
        if root is not None:  # ours (root "") or a nested publisher's: never site content
            del remote[rel]
            if root:
                nested.add(root)
    if nested:
        log.info(
            "Leaving alone the folder(s) %s under %s: another publisher's manifest or lock is there.",
            ", ".join(sorted(nested)),
            dest.url,
        )
    if listed is None:
        return Listing(remote, None, tuple(sorted(nested)))
    fetched = dest.get(MANIFEST_REL, max_bytes=MANIFEST_MAX_BYTES)
    if fetched is None:
        return Listing(remote, None, tuple(sorted(nested)))
    try:
        return Listing(remote, parse(fetched.body), tuple(sorted(nested)))
    except ManifestError as exc:
        log.warning(
            "The deploy manifest s3://%s/%s is unusable (%s). This publish compares objects by ETag, "
            "re-applies headers, deletes only with delete_unmanaged, and writes a new manifest.",
            dest.bucket,
            dest.key(MANIFEST_REL),
            exc,
        )
        return Listing(remote, None, tuple(sorted(nested)))


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
