"""The destination seam: one handle for "this bucket, this prefix, this owner, these credentials".

Every stage that touches the bucket (lock, manifest store, apply, check, remove) goes through
a ``Destination``; nothing else calls S3. An implementation adds the expected bucket owner to
every request, maps site-relative paths to keys, and translates failures into ``PublishError``
with its own context (bucket, key, identity), so callers never see a transport's exceptions.

Implementations: ``aws.destination.S3Destination`` (botocore, optionally the AWS Common
Runtime for uploads) and ``core.memory.MemoryDestination`` (in-process, for unit tests).

Headers use botocore's parameter names as our vocabulary: ContentType, CacheControl,
ContentEncoding, WebsiteRedirectLocation, ServerSideEncryption, SSEKMSKeyId.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.model import RemoteObject

if TYPE_CHECKING:
    from mkdocs_s3_crossaccount.core.plan import Upload


class ConditionFailed(Exception):
    """A conditional write's condition did not hold (If-None-Match: * found the key; If-Match a newer ETag)."""


class ConditionsUnsupported(Exception):
    """The server answered that it does not implement conditional writes (HTTP 501)."""


@dataclass(frozen=True)
class Fetched:
    """An object read back: its bytes, ETag and modification time."""

    body: bytes
    etag: str
    last_modified: datetime.datetime | None = None


@dataclass
class Batch:
    """What a parallel batch (uploads or in-place copies) did.

    ``done`` lists the uploads that finished; ``etags`` maps their keys to the ETag the server
    returned; ``errors`` holds each failed upload with its translated error. Uploads not
    started because an earlier one failed are in neither list.
    """

    done: list[Upload] = field(default_factory=list)
    etags: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[Upload, PublishError]] = field(default_factory=list)
    retries: int = 0  # requests the transport repeated (throttling, transient faults)
    version_ids: dict[str, str] = field(default_factory=dict)  # key -> VersionId (bucket versioning on)


@dataclass
class Deleted:
    """What a batch delete did: the keys removed, and the first failure (then the rest was not tried)."""

    keys: list[str] = field(default_factory=list)
    error: PublishError | None = None


@dataclass(frozen=True)
class PendingUpload:
    """An incomplete multipart upload under the prefix (a transfer that never completed or aborted)."""

    rel: str
    key: str
    upload_id: str
    initiated: datetime.datetime | None


@dataclass(frozen=True)
class CopyItem:
    """One server-side copy inside the bucket: ``source_key`` (at ``source_version``, or its latest) to ``key``.

    The source's headers are copied with it (MetadataDirective COPY); ``extra`` adds what S3 does
    not copy (WebsiteRedirectLocation) and the encryption to apply (ServerSideEncryption, SSEKMSKeyId).
    """

    key: str
    source_key: str
    source_version: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Copied:
    """What a batch of server-side copies did: keys done (with their ETag and VersionId), the first failure."""

    keys: list[str] = field(default_factory=list)
    etags: dict[str, str] = field(default_factory=dict)
    version_ids: dict[str, str] = field(default_factory=dict)
    error: PublishError | None = None


Progress = Callable[["Upload"], None]


class Destination(Protocol):
    """The one handle on the bucket prefix a publish writes to."""

    @property
    def bucket(self) -> str:
        """The bucket's name."""
        ...

    @property
    def prefix(self) -> str:
        """The folder in the bucket ('' for the root)."""
        ...

    @property
    def owner(self) -> str:
        """Account id sent as ExpectedBucketOwner on every request."""
        ...

    @property
    def identity_arn(self) -> str:
        """Who writes (named in messages)."""
        ...

    @property
    def url(self) -> str:
        """``s3://bucket/prefix/``."""
        ...

    @property
    def server(self) -> str:
        """The server's address (endpoint URL): what a process learns about a server is kept under it."""
        ...

    def key(self, rel: str) -> str:
        """The object key of a site-relative path."""
        ...

    def list(self) -> dict[str, RemoteObject]:
        """Every object under the prefix (at a '/' boundary), by site-relative path."""
        ...

    def get(self, rel: str, *, max_bytes: int | None = None) -> Fetched | None:
        """The object at ``rel``, or None if there is none. Bodies over ``max_bytes`` come back empty."""
        ...

    def put(
        self,
        rel: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write one small object; returns its ETag.

        ``if_absent`` (If-None-Match: *) and ``if_match`` (If-Match: ETag) make it conditional:
        ConditionFailed when the condition does not hold (``if_match`` on a missing key included),
        ConditionsUnsupported when the server does not implement it.
        """
        ...

    def delete(self, rel: str, *, if_match: str | None = None) -> None:
        """Delete one object (conditional with ``if_match``; ConditionFailed if it changed)."""
        ...

    def upload_many(self, uploads: Sequence[Upload], on_done: Progress) -> Batch:
        """Upload files in parallel; stop starting new ones after the first failure."""
        ...

    def copy_in_place(self, uploads: Sequence[Upload]) -> Batch:
        """Replace objects' headers in place (server-side copy onto itself); no bytes sent."""
        ...

    def delete_many(self, objects: Sequence[RemoteObject]) -> Deleted:
        """Delete objects in batches; per-key failures count as failures."""
        ...

    def pending_uploads(self) -> tuple[PendingUpload, ...]:
        """Incomplete multipart uploads under the prefix (ListMultipartUploads, s3:ListBucketMultipartUploads)."""
        ...

    def abort_upload(self, upload: PendingUpload) -> None:
        """Abort one incomplete multipart upload, freeing its parts (s3:AbortMultipartUpload)."""

    def at(self, prefix: str) -> Destination:
        """The same bucket, owner and credentials at another prefix (a version's or an alias's folder)."""
        ...

    def copy_many(self, items: Sequence[CopyItem]) -> Copied:
        """Server-side copies inside the bucket (no bytes sent); stops starting new ones after a failure."""
        ...

    def versioning(self) -> str | None:
        """The bucket's versioning status: 'Enabled', 'Suspended', or None (never enabled)."""
        ...
