"""Apply a plan: parallel uploads phase by phase, then guarded deletes.

Uploads go through s3transfer (multipart for big files, headers kept on every part's
CreateMultipartUpload). A phase starts only when the previous one fully succeeded, and
deletes run only after every upload succeeded. The first failure cancels what has not
started yet, and nothing is deleted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.futures import TransferFuture
from s3transfer.manager import TransferManager
from s3transfer.subscribers import BaseSubscriber

from . import diagnose
from .errors import PublishError
from .inventory import MULTIPART_CHUNKSIZE, MULTIPART_THRESHOLD
from .plan import Plan, Upload
from .remote import RemoteObject

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
    """The PutObject/CreateMultipartUpload headers for one file (one place for all of them)."""
    return {"ContentType": upload.file.content_type, "ExpectedBucketOwner": owner}


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


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
    try:
        with _Ticker(progress, progress_interval):
            for phase in plan.phases():
                futures: list[tuple[Upload, TransferFuture]] = []
                # biggest first, so a large file does not start last and hold up the phase
                for up in sorted(phase, key=lambda u: -u.file.size):
                    if failed.is_set():
                        break
                    fut = manager.upload(
                        up.file.path,
                        bucket,
                        up.file.key,
                        extra_args=upload_args(up, owner),
                        subscribers=[_Done(progress, up.file.size, failed.set)],
                    )
                    futures.append((up, fut))
                errors: list[tuple[Upload, BaseException]] = []
                for up, fut in futures:
                    if failed.is_set() and not fut.done():
                        fut.cancel()
                    try:
                        fut.result()
                        done.append(up)
                    except BaseException as exc:
                        errors.append((up, exc))
                if errors:
                    raise _upload_error(errors, bucket, identity_arn, len(done), len(plan.uploads))
    finally:
        manager.shutdown(cancel=failed.is_set())
    return done


def _upload_error(
    errors: list[tuple[Upload, BaseException]], bucket: str, identity_arn: str, n_done: int, n_total: int
) -> PublishError:
    real = [(u, e) for u, e in errors if not _is_cancel(e)] or errors
    up, exc = real[0]
    if isinstance(exc, (ClientError, BotoCoreError)):
        base = diagnose.object_failed(exc, bucket, up.file.key, identity_arn, "upload to")
    else:
        base = diagnose.unexpected(exc, f"uploading {up.file.rel}")
    more = f" ({len(real) - 1} more uploads failed)" if len(real) > 1 else ""
    return PublishError(
        f"{base.message}{more}. {n_done} of {n_total} uploads had finished; nothing was deleted.",
        base.fix,
    )


def _is_cancel(exc: BaseException) -> bool:
    from s3transfer.exceptions import FatalError

    return type(exc).__name__ == "CancelledError" or isinstance(exc, FatalError)


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
