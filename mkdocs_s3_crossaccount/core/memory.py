"""``MemoryDestination``: the Destination seam in process memory, for fast unit tests of our logic.

It behaves like S3 where our code depends on it: ETags (MD5 single-part, MD5-of-parts with our
part size), conditional writes (or, like some S3-compatible servers, none, or ignored), listing
at a '/' boundary, per-key failures. Faults are injected per operation and key, so tests can
drive ordering, partial failure and a flaky destination without any server. It records every
call in order. It talks to no network and is not used by publishing itself.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from mkdocs_s3_crossaccount.core.destination import (
    Batch,
    ConditionFailed,
    ConditionsUnsupported,
    Copied,
    CopyItem,
    Deleted,
    Fetched,
    PendingUpload,
    Progress,
)
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.headers import Body
from mkdocs_s3_crossaccount.core.inventory import etag_of_bytes, gzipped_body
from mkdocs_s3_crossaccount.core.keys import from_key, list_prefix, to_key
from mkdocs_s3_crossaccount.core.model import RemoteObject

_INSTANCES = itertools.count(1)

if TYPE_CHECKING:
    from mkdocs_s3_crossaccount.core.plan import Upload

Conditional = Literal["honour", "ignore", "unsupported"]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass
class Stored:
    """One object in the memory bucket."""

    body: bytes
    headers: dict[str, str]
    etag: str
    last_modified: datetime.datetime
    version_id: str | None = None


@dataclass
class MemoryDestination:
    """A bucket prefix held in a dict. ``conditional`` says how it treats If-None-Match / If-Match."""

    bucket: str = "memory-bucket"
    prefix: str = ""
    owner: str = "222222222222"
    identity_arn: str = "arn:aws:sts::222222222222:assumed-role/docs-publisher/unit-test"
    conditional: Conditional = "honour"
    clock: Callable[[], datetime.datetime] = _now
    objects: dict[str, Stored] = field(default_factory=dict)  # key -> object (the whole bucket)
    # bucket versioning: None (never enabled) or 'Enabled'; with it every write keeps a version
    versioning_status: str | None = None
    history: dict[str, list[Stored]] = field(default_factory=dict)  # key -> its versions, oldest first
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (operation, key), in order
    uploads: list[PendingUpload] = field(default_factory=list)  # incomplete multipart uploads
    server: str = ""  # default: unique to this instance ("memory:<n>", never reused in a process)
    _faults: dict[tuple[str, str], list[PublishError]] = field(default_factory=dict)
    _mutex: threading.Lock = field(default_factory=threading.Lock, repr=False)  # conditional writes are atomic

    def __post_init__(self) -> None:
        if not self.server:  # not id(self): a freed instance's id comes back, and with it its probe result
            self.server = f"memory:{next(_INSTANCES)}"

    # --- test controls -----------------------------------------------------------------

    def fail(self, operation: str, rel: str, times: int = 1, error: PublishError | None = None) -> None:
        """Make the next ``times`` calls of ``operation`` ('put', 'get', 'delete', 'upload', 'copy',
        'delete_many') on ``rel`` fail with ``error`` (default: an access-denied PublishError)."""
        err = error or PublishError(
            f"Access denied to {operation} s3://{self.bucket}/{self.key(rel)} as {self.identity_arn}.",
            "Grant the permission.",
        )
        self._faults.setdefault((operation, self.key(rel)), []).extend([err] * times)

    def _fault(self, operation: str, key: str) -> PublishError | None:
        queue = self._faults.get((operation, key))
        return queue.pop(0) if queue else None

    def start_upload(self, rel: str, initiated: datetime.datetime | None = None) -> PendingUpload:
        """An incomplete multipart upload of ``rel`` (as a killed transfer leaves it)."""
        up = PendingUpload(rel, self.key(rel), f"upload-{len(self.uploads) + 1}", initiated or self.clock())
        self.uploads.append(up)
        return up

    def site(self) -> dict[str, bytes]:
        """The objects under the prefix (bookkeeping included), by site-relative path."""
        out = {}
        for key, obj in self.objects.items():
            rel = from_key(self.prefix, key)
            if rel is not None:
                out[rel] = obj.body
        return out

    def ops(self, operation: str) -> list[str]:
        """The keys ``operation`` was called on, in order."""
        return [key for op, key in self.calls if op == operation]

    # --- the seam ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{list_prefix(self.prefix)}"

    def key(self, rel: str) -> str:
        return to_key(self.prefix, rel)

    def list(self) -> dict[str, RemoteObject]:
        self.calls.append(("list", list_prefix(self.prefix)))
        found = {}
        for key in sorted(self.objects):
            rel = from_key(self.prefix, key)
            if rel is not None:
                obj = self.objects[key]
                found[rel] = RemoteObject(rel, key, len(obj.body), obj.etag)
        return found

    def get(self, rel: str, *, max_bytes: int | None = None) -> Fetched | None:
        key = self.key(rel)
        self.calls.append(("get", key))
        err = self._fault("get", key)
        if err:
            raise err
        obj = self.objects.get(key)
        if obj is None:
            return None
        body = b"" if max_bytes is not None and len(obj.body) > max_bytes else obj.body
        return Fetched(body, obj.etag, obj.last_modified)

    def put(
        self,
        rel: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> str:
        key = self.key(rel)
        self.calls.append(("put", key))
        err = self._fault("put", key)
        if err:
            raise err
        with self._mutex:
            self._check_condition(key, if_absent, if_match)
            return self._store(key, body, dict(headers))

    def delete(self, rel: str, *, if_match: str | None = None) -> None:
        key = self.key(rel)
        self.calls.append(("delete", key))
        err = self._fault("delete", key)
        if err:
            raise err
        with self._mutex:
            self._check_condition(key, False, if_match)
            self.objects.pop(key, None)

    def _check_condition(self, key: str, if_absent: bool, if_match: str | None) -> None:
        if not (if_absent or if_match is not None) or self.conditional == "ignore":
            return
        if self.conditional == "unsupported":
            raise ConditionsUnsupported("NotImplemented")
        current = self.objects.get(key)
        if if_absent and current is not None:
            raise ConditionFailed("PreconditionFailed")
        if if_match is not None and (current is None or current.etag != if_match):
            raise ConditionFailed("PreconditionFailed")

    def _store(self, key: str, body: bytes, headers: dict[str, str]) -> str:
        etag = etag_of_bytes(body)
        self._keep(key, Stored(body, headers, etag, self.clock()))
        return etag

    def _keep(self, key: str, obj: Stored) -> None:
        if self.versioning_status == "Enabled":
            obj.version_id = f"v{next(self._ids):06d}"
            self.history.setdefault(key, []).append(obj)
        self.objects[key] = obj

    def version_of(self, key: str) -> str | None:
        """The VersionId of the object at ``key`` now (None: none, or versioning off)."""
        obj = self.objects.get(key)
        return obj.version_id if obj else None

    def at(self, prefix: str) -> MemoryDestination:
        """The same bucket (objects, history, calls and faults shared) at another prefix."""
        return dataclasses.replace(self, prefix=prefix)

    def versioning(self) -> str | None:
        self.calls.append(("versioning", self.bucket))
        return self.versioning_status

    def copy_many(self, items: Sequence[CopyItem]) -> Copied:
        out = Copied()
        for item in items:
            self.calls.append(("copy_from", item.key))
            err = self._fault("copy_from", item.key)
            source = self._source(item)
            if err or source is None:
                out.error = err or PublishError(
                    f"s3://{self.bucket}/{item.source_key} (version {item.source_version}) is gone (NoSuchKey)"
                )
                return out
            headers = {k: v for k, v in source.headers.items() if k != "WebsiteRedirectLocation"}
            headers.update(item.extra)
            copy = Stored(source.body, headers, source.etag, self.clock())
            self._keep(item.key, copy)
            out.keys.append(item.key)
            out.etags[item.key] = copy.etag
            if copy.version_id:
                out.version_ids[item.key] = copy.version_id
        return out

    def _source(self, item: CopyItem) -> Stored | None:
        if item.source_version is None:
            return self.objects.get(item.source_key)
        return next((o for o in self.history.get(item.source_key, ()) if o.version_id == item.source_version), None)

    def upload_many(self, uploads: Sequence[Upload], on_done: Progress) -> Batch:
        batch = Batch()
        for up in uploads:
            self.calls.append(("upload", up.file.key))
            err = self._fault("upload", up.file.key)
            if err:
                batch.errors.append((up, err))
                break  # like a real transfer: nothing new starts after a failure
            batch.etags[up.file.key] = self._store(up.file.key, _body(up), up.file.header_dict)
            vid = self.version_of(up.file.key)
            if vid:
                batch.version_ids[up.file.key] = vid
            batch.done.append(up)
            on_done(up)
        return batch

    def copy_in_place(self, uploads: Sequence[Upload]) -> Batch:
        batch = Batch()
        for up in uploads:
            self.calls.append(("copy", up.file.key))
            err = self._fault("copy", up.file.key)
            obj = self.objects.get(up.file.key)
            if err or obj is None:
                batch.errors.append((up, err or PublishError(f"s3://{self.bucket}/{up.file.key} is gone (NoSuchKey)")))
                break
            replaced = Stored(obj.body, up.file.header_dict, obj.etag, self.clock())
            self._keep(up.file.key, replaced)
            batch.etags[up.file.key] = obj.etag
            if replaced.version_id:
                batch.version_ids[up.file.key] = replaced.version_id
            batch.done.append(up)
        return batch

    def delete_many(self, objects: Sequence[RemoteObject]) -> Deleted:
        out = Deleted()
        for obj in objects:
            self.calls.append(("delete_many", obj.key))
            err = self._fault("delete_many", obj.key)
            if err:
                out.error = err
                return out
            self.objects.pop(obj.key, None)
            out.keys.append(obj.key)
        return out

    def pending_uploads(self) -> tuple[PendingUpload, ...]:
        self.calls.append(("pending_uploads", list_prefix(self.prefix)))
        err = self._fault("pending_uploads", list_prefix(self.prefix))
        if err:
            raise err
        return tuple(u for u in self.uploads if from_key(self.prefix, u.key) is not None)

    def abort_upload(self, upload: PendingUpload) -> None:
        self.calls.append(("abort_upload", upload.key))
        err = self._fault("abort_upload", upload.key)
        if err:
            raise err
        self.uploads = [u for u in self.uploads if u.upload_id != upload.upload_id]


def _body(up: Upload) -> bytes:
    """The bytes a transfer sends for an upload (the file, gzipped, or nothing)."""
    if up.file.body == Body.EMPTY:
        return b""
    if up.file.body == Body.GZIP:
        with gzipped_body(up.file.path) as fh:
            return fh.read()
    with open(up.file.path, "rb") as fh:
        return fh.read()
