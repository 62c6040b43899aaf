"""Apply a plan: parallel uploads phase by phase, in-place header updates, guarded deletes, the manifest.

Uploads go through s3transfer (multipart for big files, headers kept on every part's
CreateMultipartUpload). A phase starts only when the previous one fully succeeded, and
deletes run only after every upload succeeded. The first failure cancels what has not
started yet, and nothing is deleted.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.futures import TransferFuture
from s3transfer.manager import TransferManager
from s3transfer.subscribers import BaseSubscriber

from mkdocs_s3_crossaccount.aws import diagnose
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.headers import Body
from mkdocs_s3_crossaccount.core.inventory import MULTIPART_CHUNKSIZE, MULTIPART_THRESHOLD, gzipped_body
from mkdocs_s3_crossaccount.core.model import RemoteObject, clean_etag
from mkdocs_s3_crossaccount.core.plan import Plan, Upload
from mkdocs_s3_crossaccount.core.report import human_bytes

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

DELETE_BATCH = 1000


@dataclass
class Progress:
    total_files: int
    total_bytes: int
    done_files: int = 0
    done_bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, nbytes: int) -> None:
        with self.lock:
            self.done_files += 1
            self.done_bytes += nbytes


class _Done(BaseSubscriber):
    def __init__(self, progress: Progress, size: int, on_fail: Callable[[], None]) -> None:
        self._progress = progress
        self._size = size
        self._on_fail = on_fail

    def on_done(self, future: TransferFuture, **kwargs: Any) -> None:
        try:
            future.result()
        except BaseException:
            self._on_fail()
        else:
            self._progress.add(self._size)


def upload_args(upload: Upload, owner: str) -> dict[str, Any]:
    """The PutObject/CreateMultipartUpload/CopyObject headers for one file (one place for all of them).

    The object's headers come from headers.HeaderRules (Content-Type, Cache-Control,
    Content-Encoding, WebsiteRedirectLocation, SSE-KMS); the manifest fingerprints the same set.
    """
    return {**upload.file.header_dict, "ExpectedBucketOwner": owner}


class EtagRecorder:
    """Records the ETag S3 returns for each object we write (PutObject, multipart, CopyObject).

    SSE-KMS objects get ETags that are not MD5s; the manifest stores what S3 said, so the
    next publish can tell our object from one changed behind our back. botocore passes the
    same ``context`` dict to a call's parameter-build and after-call events, which carries
    the key from one to the other.
    """

    _OPS = ("PutObject", "CompleteMultipartUpload", "CopyObject")

    def __init__(self) -> None:
        self.etags: dict[str, str] = {}
        self._lock = threading.Lock()

    def _remember_key(self, params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        context["s3xa_key"] = params.get("Key")

    def _record(self, parsed: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        key = context.get("s3xa_key")
        etag = parsed.get("ETag") or (parsed.get("CopyObjectResult") or {}).get("ETag")
        if key and etag:
            with self._lock:
                self.etags[str(key)] = clean_etag(str(etag))

    @contextmanager
    def attached(self, s3: Any) -> Iterator[EtagRecorder]:
        events = s3.meta.events
        for op in self._OPS:
            events.register(f"before-parameter-build.s3.{op}", self._remember_key, unique_id=f"s3xa-key-{op}")
            events.register(f"after-call.s3.{op}", self._record, unique_id=f"s3xa-etag-{op}")
        try:
            yield self
        finally:
            for op in self._OPS:
                events.unregister(f"before-parameter-build.s3.{op}", unique_id=f"s3xa-key-{op}")
                events.unregister(f"after-call.s3.{op}", unique_id=f"s3xa-etag-{op}")


def _body(up: Upload) -> str | IO[bytes]:
    """What to send: the file's path, its gzip-compressed bytes, or nothing (redirect)."""
    if up.file.body == Body.GZIP:
        return gzipped_body(up.file.path)
    if up.file.body == Body.EMPTY:
        return io.BytesIO(b"")
    return up.file.path


class _Ticker:
    """Logs a progress line every ``interval`` seconds while uploads run (CI-friendly)."""

    def __init__(self, progress: Progress, interval: float) -> None:
        self._progress = progress
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="s3xa-progress", daemon=True)

    def __enter__(self) -> _Ticker:
        if self._interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(self._interval):
            p = self._progress
            log.info(
                "Uploading: %d/%d files, %s of %s, %.0f s",
                p.done_files,
                p.total_files,
                human_bytes(p.done_bytes),
                human_bytes(p.total_bytes),
                time.monotonic() - start,
            )


def upload_all(
    s3: Any,
    bucket: str,
    owner: str,
    plan: Plan,
    identity_arn: str,
    concurrency: int,
    progress_interval: float = 10.0,
) -> list[Upload]:
    """Upload every planned file, phase by phase. Returns the uploads done, in order."""
    if not plan.uploads:
        return []
    config = TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD,
        multipart_chunksize=MULTIPART_CHUNKSIZE,
        max_concurrency=concurrency,
        use_threads=True,
    )
    progress = Progress(len(plan.uploads), plan.upload_bytes)
    failed = threading.Event()
    done: list[Upload] = []
    manager = TransferManager(s3, config)
    # Small files (nearly all of a docs site) go up with one PutObject each from a plain
    # thread pool: s3transfer's per-transfer futures, queues and callbacks cost more CPU
    # than the request itself. Files big enough for multipart stay with s3transfer.
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="s3xa-put")
    bodies: list[IO[bytes]] = []

    def put(up: Upload) -> None:
        if failed.is_set():
            raise _Skipped()
        body = _body(up)
        # bytes, not a file: botocore adds `Expect: 100-continue` (one more round trip per
        # object) to file-like bodies only; these are below the multipart threshold
        with open(body, "rb") if isinstance(body, str) else body as fh:
            data = fh.read()
        s3.put_object(Bucket=bucket, Key=up.file.key, Body=data, **upload_args(up, owner))

    # a few requests queued per worker, not the whole site: memory stays flat at 10,000 files
    in_flight = threading.BoundedSemaphore(4 * concurrency)

    def settled(size: int) -> Callable[[Future[None]], None]:
        def note(fut: Future[None]) -> None:
            in_flight.release()
            if fut.cancelled() or fut.exception() is not None:
                failed.set()
            else:
                progress.add(size)

        return note

    try:
        with _Ticker(progress, progress_interval):
            for phase in plan.phases():
                futures: list[tuple[Upload, TransferFuture | Future[None]]] = []
                # biggest first, so a large file does not start last and hold up the phase
                for up in sorted(phase, key=lambda u: -u.file.size):
                    if failed.is_set():
                        break
                    if up.file.upload_size < MULTIPART_THRESHOLD:
                        in_flight.acquire()
                        small = pool.submit(put, up)
                        small.add_done_callback(settled(up.file.upload_size))
                        futures.append((up, small))
                        continue
                    body = _body(up)
                    if not isinstance(body, str):
                        bodies.append(body)
                    big = manager.upload(
                        body,
                        bucket,
                        up.file.key,
                        extra_args=upload_args(up, owner),
                        subscribers=[_Done(progress, up.file.upload_size, failed.set)],
                    )
                    futures.append((up, big))
                errors: list[tuple[Upload, BaseException]] = []
                for up, pending in futures:
                    if failed.is_set() and not pending.done():
                        pending.cancel()
                    try:
                        pending.result()
                        done.append(up)
                    except BaseException as exc:
                        errors.append((up, exc))
                if errors:
                    raise _batch_error(
                        errors, bucket, owner, identity_arn, len(done), len(plan.uploads), "upload to", "uploads"
                    )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        manager.shutdown(cancel=failed.is_set())
        for b in bodies:
            b.close()
    return done


def copy_all(
    s3: Any, bucket: str, owner: str, copies: list[Upload], identity_arn: str, concurrency: int
) -> dict[str, str]:
    """Replace the headers of objects in place: CopyObject onto itself with MetadataDirective REPLACE.

    No bytes are sent; S3 copies inside the bucket. Returns key -> the new ETag.
    """
    if not copies:
        return {}
    failed = threading.Event()

    def one(up: Upload) -> tuple[str, str]:
        if failed.is_set():
            raise _Skipped()
        try:
            resp = s3.copy_object(
                Bucket=bucket,
                Key=up.file.key,
                CopySource={"Bucket": bucket, "Key": up.file.key},
                MetadataDirective="REPLACE",
                ExpectedSourceBucketOwner=owner,
                **upload_args(up, owner),
            )
        except BaseException:
            failed.set()
            raise
        return up.file.key, clean_etag(str(resp.get("CopyObjectResult", {}).get("ETag", "")))

    done: dict[str, str] = {}
    errors: list[tuple[Upload, BaseException]] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="s3xa-copy") as pool:
        futures = [(up, pool.submit(one, up)) for up in copies]
        for up, fut in futures:
            try:
                key, etag = fut.result()
                done[key] = etag
            except _Skipped:
                continue
            except BaseException as exc:
                errors.append((up, exc))
    if errors:
        raise _batch_error(
            errors, bucket, owner, identity_arn, len(done), len(copies), "update the headers of", "header updates"
        )
    return done


class _Skipped(Exception):
    """A copy not started because another one failed."""


def put_manifest(
    s3: Any, bucket: str, key: str, owner: str, body: bytes, identity_arn: str, kms_key_arn: str | None = None
) -> str:
    """Write the manifest (last, after deletes). Returns its ETag."""
    sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_arn} if kms_key_arn else {}
    try:
        resp = s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/json; charset=utf-8",
            CacheControl="no-store",
            ExpectedBucketOwner=owner,
            **sse,
        )
    except (ClientError, BotoCoreError) as exc:
        base = diagnose.object_failed(exc, bucket, key, identity_arn, "upload to")
        raise PublishError(
            f"The site was published, but writing the deploy manifest failed: {base.message}",
            (base.fix + " " if base.fix else "")
            + "Until a manifest is written, the next publish compares by ETag and deletes nothing it "
            "does not own.",
        ) from exc
    return clean_etag(str(resp.get("ETag", "")))


def _batch_error(
    errors: list[tuple[Upload, BaseException]],
    bucket: str,
    owner: str,
    identity_arn: str,
    n_done: int,
    n_total: int,
    action: str,
    noun: str,
) -> PublishError:
    """The first real failure of a parallel batch (cancellations are its consequences)."""
    real = [(u, e) for u, e in errors if not _is_cancel(e)] or errors
    up, exc = real[0]
    if isinstance(exc, (ClientError, BotoCoreError)):
        base = diagnose.object_failed(exc, bucket, up.file.key, identity_arn, action, owner)
    else:
        base = diagnose.unexpected(exc, f"trying to {action} {up.file.rel}")
    more = f" ({len(real) - 1} more {noun} failed)" if len(real) > 1 else ""
    return PublishError(
        f"{base.message.rstrip('.')}{more}. {n_done} of {n_total} {noun} had finished; nothing was deleted.",
        base.fix,
    )


def _is_cancel(exc: BaseException) -> bool:
    from s3transfer.exceptions import FatalError

    return type(exc).__name__ == "CancelledError" or isinstance(exc, (FatalError, _Skipped))


def delete_all(s3: Any, bucket: str, owner: str, objects: list[RemoteObject], identity_arn: str) -> list[str]:
    """Delete in batches of 1,000; any per-key error inside a 200 response is a failure."""
    deleted: list[str] = []
    for start in range(0, len(objects), DELETE_BATCH):
        batch = objects[start : start + DELETE_BATCH]
        try:
            resp = s3.delete_objects(
                Bucket=bucket,
                ExpectedBucketOwner=owner,
                Delete={"Objects": [{"Key": o.key} for o in batch], "Quiet": True},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _with_progress(
                diagnose.object_failed(exc, bucket, batch[0].key, identity_arn, "delete"), deleted, len(objects)
            ) from exc
        errors = resp.get("Errors") or []
        failed_keys = {e.get("Key") for e in errors}
        deleted.extend(o.key for o in batch if o.key not in failed_keys)
        if errors:
            first = errors[0]
            code = str(first.get("Code", "InternalError"))
            base = diagnose.object_code_failed(
                code, f"{code}: {first.get('Message', '')}", bucket, str(first.get("Key")), identity_arn, "delete"
            ) or PublishError(f"Deleting s3://{bucket}/{first.get('Key')} failed ({code})")
            raise _with_progress(
                PublishError(f"{base.message} ({len(errors)} keys in the batch failed)", base.fix),
                deleted,
                len(objects),
            )
    return deleted


def _with_progress(err: PublishError, deleted: list[str], total: int) -> PublishError:
    return PublishError(f"{err.message} {len(deleted)} of {total} stale objects had been deleted.", err.fix)
