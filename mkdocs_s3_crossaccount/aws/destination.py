"""``S3Destination``: the one object that calls S3.

Bucket, prefix, expected owner and the role session live inside it. Every request it makes
carries ``ExpectedBucketOwner`` (added in ``_call``, the single place requests leave from),
keys come from ``core.keys``, and every failure is translated by ``aws.diagnose`` with this
destination's bucket, key and identity, so callers only ever see ``PublishError`` (or the
seam's ``ConditionFailed`` / ``ConditionsUnsupported``).

Bulk uploads go to a ``Transfer`` (botocore's, or the AWS Common Runtime's); single-object
calls, copies and deletes stay here.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from mkdocs_s3_crossaccount.aws import diagnose
from mkdocs_s3_crossaccount.aws.transfer import Transfer
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
from mkdocs_s3_crossaccount.core.keys import from_key, list_prefix, to_key
from mkdocs_s3_crossaccount.core.manifest import MANIFEST_REL
from mkdocs_s3_crossaccount.core.model import RemoteObject, clean_etag

if TYPE_CHECKING:
    from mkdocs_s3_crossaccount.aws.session import AwsContext
    from mkdocs_s3_crossaccount.core.plan import Upload

DELETE_BATCH = 1000
_PRECONDITION = ("PreconditionFailed", "ConditionalRequestConflict")


class S3Destination:
    """``s3://bucket/prefix/`` in the target account, through one role session."""

    def __init__(self, s3: Any, bucket: str, prefix: str, ctx: AwsContext, *, concurrency: int = 16) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix
        self._ctx = ctx
        self._owner = ctx.owner
        self._identity = ctx.identity.arn
        self._concurrency = concurrency
        self._transfer: Transfer | None = None
        self._retries = 0
        self._retries_mutex = threading.Lock()
        s3.meta.events.register("after-call.s3", self._count_retries, unique_id=f"s3xa-retries-{id(self)}")

    def _count_retries(self, http_response: Any = None, parsed: Any = None, **kwargs: Any) -> None:
        """Requests botocore repeated before this answer (throttling, transient faults)."""
        meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
        again = int(meta.get("RetryAttempts", 0) or 0)
        if again:
            with self._retries_mutex:
                self._retries += again

    @property
    def max_attempts(self) -> int:
        """Attempts per request in all (the first included): AWS_MAX_ATTEMPTS, the profile's, or our default."""
        return int(self._ctx.retries.get("total_max_attempts", 1))

    @property
    def retries(self) -> int:
        """Requests repeated so far through this destination's botocore client."""
        with self._retries_mutex:
            return self._retries

    def at(self, prefix: str) -> S3Destination:
        """The same client and session at another prefix (its own transfer, closed with this one's)."""
        return S3Destination(self._s3, self._bucket, prefix, self._ctx, concurrency=self._concurrency)

    # --- identity of the destination ------------------------------------------------

    @property
    def bucket(self) -> str:
        """The bucket's name."""
        return self._bucket

    @property
    def prefix(self) -> str:
        """The folder in the bucket ('' for the root)."""
        return self._prefix

    @property
    def owner(self) -> str:
        return self._owner

    @property
    def identity_arn(self) -> str:
        return self._identity

    @property
    def url(self) -> str:
        return f"s3://{self._bucket}/{list_prefix(self._prefix)}"

    @property
    def server(self) -> str:
        return str(self._s3.meta.endpoint_url)

    @property
    def client(self) -> Any:
        """The botocore S3 client (for a Transfer implementation; nothing else calls it)."""
        return self._s3

    def key(self, rel: str) -> str:
        return to_key(self._prefix, rel)

    def use_transfer(self, transfer: Transfer) -> None:
        """Send bulk uploads through ``transfer`` (botocore's by default)."""
        self._transfer = transfer

    @property
    def transfer_name(self) -> str:
        """The transfer path in use, for reports."""
        return self._transfer.name if self._transfer else "botocore"

    def close(self) -> None:
        """Release the transfer path's resources."""
        if self._transfer is not None:
            self._transfer.close()

    # --- the one exit for requests ----------------------------------------------------

    def _call(self, operation: str, **params: Any) -> Any:
        """Call S3 with the bucket and ExpectedBucketOwner on every request."""
        params.setdefault("Bucket", self._bucket)
        params["ExpectedBucketOwner"] = self._owner
        return getattr(self._s3, operation)(**params)

    def request_params(self, upload: Upload) -> dict[str, Any]:
        """A file's headers plus ExpectedBucketOwner (for PutObject, multipart and copies)."""
        return {**upload.file.header_dict, "ExpectedBucketOwner": self._owner}

    # --- reads -------------------------------------------------------------------------

    def list(self) -> dict[str, RemoteObject]:
        found: dict[str, RemoteObject] = {}
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket,
                Prefix=list_prefix(self._prefix),
                ExpectedBucketOwner=self._owner,
                PaginationConfig={"PageSize": 1000},
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    key = item["Key"]
                    rel = from_key(self._prefix, key)
                    if rel is None:  # belt and braces: the server answered outside the prefix
                        continue
                    found[rel] = RemoteObject(rel, key, int(item["Size"]), clean_etag(item.get("ETag", "")))
        except (ClientError, BotoCoreError) as exc:
            raise diagnose.bucket_failed(exc, self._bucket, self._owner, self._identity, "list") from exc
        return found

    def probe(self, *, with_owner: bool = True) -> Mapping[str, Any]:
        """One ListObjectsV2 of at most one key (what ``check`` asks); raises botocore's errors as they are."""
        params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": list_prefix(self._prefix), "MaxKeys": 1}
        if with_owner:
            return dict(self._call("list_objects_v2", **params))
        return dict(self._s3.list_objects_v2(**params))

    def get(self, rel: str, *, max_bytes: int | None = None) -> Fetched | None:
        key = self.key(rel)
        try:
            resp = self._call("get_object", Key=key)
        except ClientError as exc:
            if diagnose.code_of(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            what = "the deploy manifest" if rel == MANIFEST_REL else ""
            raise diagnose.read_failed(exc, self._bucket, key, self._identity, what) from exc
        except BotoCoreError as exc:
            raise diagnose.unexpected(exc, f"reading s3://{self._bucket}/{key}") from exc
        body = resp["Body"]
        try:
            too_big = max_bytes is not None and int(resp.get("ContentLength", 0)) > max_bytes
            data = b"" if too_big else bytes(body.read())
        except (BotoCoreError, OSError) as exc:
            raise diagnose.unexpected(exc, f"reading s3://{self._bucket}/{key}") from exc
        finally:
            body.close()
        return Fetched(data, clean_etag(str(resp.get("ETag", ""))), resp.get("LastModified"))

    # --- single writes ---------------------------------------------------------------

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
        conditions: dict[str, str] = {}
        if if_absent:
            conditions["IfNoneMatch"] = "*"
        if if_match is not None:
            conditions["IfMatch"] = f'"{if_match}"'
        try:
            resp = self._call("put_object", Key=key, Body=body, **headers, **conditions)
        except ClientError as exc:
            if conditions:
                self._raise_condition(exc, if_match is not None)
            if diagnose.code_of(exc) == "NoSuchBucket":
                raise diagnose.bucket_failed(exc, self._bucket, self._owner, self._identity, "write to") from exc
            raise diagnose.object_failed(exc, self._bucket, key, self._identity, "upload to", self._owner) from exc
        except BotoCoreError as exc:
            raise diagnose.object_failed(exc, self._bucket, key, self._identity, "upload to", self._owner) from exc
        return clean_etag(str(resp.get("ETag", "")))

    def delete(self, rel: str, *, if_match: str | None = None) -> None:
        key = self.key(rel)
        conditions = {"IfMatch": f'"{if_match}"'} if if_match is not None else {}
        try:
            self._call("delete_object", Key=key, **conditions)
        except ClientError as exc:
            if conditions:
                self._raise_condition(exc, True)
            raise diagnose.object_failed(exc, self._bucket, key, self._identity, "delete", self._owner) from exc
        except BotoCoreError as exc:
            raise diagnose.object_failed(exc, self._bucket, key, self._identity, "delete", self._owner) from exc

    @staticmethod
    def _raise_condition(exc: ClientError, if_match: bool) -> None:
        code, status = diagnose.code_of(exc), diagnose.status_of(exc)
        if code == "NotImplemented" or status == 501:
            raise ConditionsUnsupported(code or str(status)) from exc
        if code in _PRECONDITION or status in (409, 412):
            raise ConditionFailed(code or str(status)) from exc
        if if_match and (code == "NoSuchKey" or (status == 404 and code in ("", "404", "NotFound"))):
            raise ConditionFailed(code or str(status)) from exc  # If-Match on a key that is gone

    # --- batches -------------------------------------------------------------------------

    def upload_many(self, uploads: Sequence[Upload], on_done: Progress) -> Batch:
        if self._transfer is None:
            from mkdocs_s3_crossaccount.aws.botocore_transfer import BotocoreTransfer

            self._transfer = BotocoreTransfer(self, self._concurrency)
        before = self.retries
        batch = self._transfer.upload_many(uploads, on_done)
        batch.retries += self.retries - before  # the botocore client's; a transfer may count its own
        return batch

    def copy_in_place(self, uploads: Sequence[Upload]) -> Batch:
        """CopyObject onto itself with MetadataDirective REPLACE: S3 copies inside the bucket."""
        batch = Batch()
        if not uploads:
            return batch
        failed = threading.Event()
        lock = threading.Lock()

        def one(up: Upload) -> None:
            if failed.is_set():
                return
            try:
                resp = self._call(
                    "copy_object",
                    Key=up.file.key,
                    CopySource={"Bucket": self._bucket, "Key": up.file.key},
                    MetadataDirective="REPLACE",
                    ExpectedSourceBucketOwner=self._owner,
                    **up.file.header_dict,
                )
            except (ClientError, BotoCoreError) as exc:
                failed.set()
                err = self.translate(exc, up, "update the headers of")
                with lock:
                    batch.errors.append((up, err))
                return
            etag = clean_etag(str(resp.get("CopyObjectResult", {}).get("ETag", "")))
            with lock:
                batch.done.append(up)
                batch.etags[up.file.key] = etag
                if resp.get("VersionId"):
                    batch.version_ids[up.file.key] = str(resp["VersionId"])

        before = self.retries
        with ThreadPoolExecutor(max_workers=max(1, self._concurrency), thread_name_prefix="s3xa-copy") as pool:
            list(pool.map(one, uploads))
        batch.retries = self.retries - before
        return batch

    def copy_many(self, items: Sequence[CopyItem]) -> Copied:
        """CopyObject (MetadataDirective COPY) from a key, or one of its versions, to another key."""
        out = Copied()
        if not items:
            return out
        failed = threading.Event()
        lock = threading.Lock()

        def one(item: CopyItem) -> None:
            if failed.is_set():
                return
            source: dict[str, str] = {"Bucket": self._bucket, "Key": item.source_key}
            if item.source_version:
                source["VersionId"] = item.source_version
            try:
                resp = self._call(
                    "copy_object",
                    Key=item.key,
                    CopySource=source,
                    MetadataDirective="COPY",
                    ExpectedSourceBucketOwner=self._owner,
                    **item.extra,
                )
            except (ClientError, BotoCoreError) as exc:
                failed.set()
                what = f"copy s3://{self._bucket}/{item.source_key} to"
                err = diagnose.object_failed(exc, self._bucket, item.key, self._identity, what, self._owner)
                with lock:
                    out.error = out.error or err
                return
            with lock:
                out.keys.append(item.key)
                out.etags[item.key] = clean_etag(str(resp.get("CopyObjectResult", {}).get("ETag", "")))
                if resp.get("VersionId"):
                    out.version_ids[item.key] = str(resp["VersionId"])

        with ThreadPoolExecutor(max_workers=max(1, self._concurrency), thread_name_prefix="s3xa-copy") as pool:
            list(pool.map(one, items))
        return out

    def versioning(self) -> str | None:
        try:
            resp = self._call("get_bucket_versioning")
        except (ClientError, BotoCoreError) as exc:
            if diagnose.code_of(exc) in ("AccessDenied", "403", "Forbidden"):
                raise PublishError(
                    f"Access denied to read the versioning status of s3://{self._bucket} as {self._identity}.",
                    f'Add {{"Effect": "Allow", "Action": "s3:GetBucketVersioning", "Resource": '
                    f'"arn:aws:s3:::{self._bucket}"}} to the role\'s permission policy '
                    "(`mkdocs-s3-crossaccount policy --rollback` prints it).",
                ) from exc
            raise diagnose.bucket_failed(
                exc, self._bucket, self._owner, self._identity, "read the versioning status of"
            ) from exc
        status = resp.get("Status")
        return str(status) if status else None

    def delete_many(self, objects: Sequence[RemoteObject]) -> Deleted:
        """Delete in batches of 1,000; any per-key error inside a 200 response is a failure."""
        out = Deleted()
        for start in range(0, len(objects), DELETE_BATCH):
            batch = objects[start : start + DELETE_BATCH]
            try:
                resp = self._call("delete_objects", Delete={"Objects": [{"Key": o.key} for o in batch], "Quiet": True})
            except (ClientError, BotoCoreError) as exc:
                out.error = diagnose.object_failed(exc, self._bucket, batch[0].key, self._identity, "delete")
                return out
            errors = resp.get("Errors") or []
            failed_keys = {e.get("Key") for e in errors}
            out.keys.extend(o.key for o in batch if o.key not in failed_keys)
            if errors:
                first = errors[0]
                code = str(first.get("Code", "InternalError"))
                ref = diagnose.ObjectRef(self._bucket, str(first.get("Key")), self._identity)
                base = diagnose.object_code_failed(
                    code, f"{code}: {first.get('Message', '')}", ref, "delete"
                ) or PublishError(f"Deleting s3://{self._bucket}/{first.get('Key')} failed ({code})")
                out.error = PublishError(f"{base.message} ({len(errors)} keys in the batch failed)", base.fix)
                return out
        return out

    def pending_uploads(self) -> tuple[PendingUpload, ...]:
        found: builtins.list[PendingUpload] = []
        try:
            pages = self._s3.get_paginator("list_multipart_uploads").paginate(
                Bucket=self._bucket, Prefix=list_prefix(self._prefix), ExpectedBucketOwner=self._owner
            )
            for page in pages:
                for item in page.get("Uploads", ()):
                    key = str(item["Key"])
                    rel = from_key(self._prefix, key)
                    if rel is not None:
                        found.append(PendingUpload(rel, key, str(item["UploadId"]), item.get("Initiated")))
        except (ClientError, BotoCoreError) as exc:
            raise diagnose.bucket_failed(
                exc, self._bucket, self._owner, self._identity, "list the incomplete uploads of"
            ) from exc
        return tuple(found)

    def abort_upload(self, upload: PendingUpload) -> None:
        try:
            self._call("abort_multipart_upload", Key=upload.key, UploadId=upload.upload_id)
        except (ClientError, BotoCoreError) as exc:
            if diagnose.code_of(exc) == "NoSuchUpload":
                return  # completed or aborted meanwhile
            raise diagnose.object_failed(
                exc, self._bucket, upload.key, self._identity, "abort the incomplete upload of", self._owner
            ) from exc

    def translate(self, exc: BaseException, up: Upload, action: str) -> PublishError:
        """One file's failure as a PublishError naming the bucket, key and identity."""
        if isinstance(exc, PublishError):
            return exc
        if isinstance(exc, (ClientError, BotoCoreError)):
            return diagnose.object_failed(exc, self._bucket, up.file.key, self._identity, action, self._owner)
        return diagnose.unexpected(exc, f"trying to {action} {up.file.rel}")
