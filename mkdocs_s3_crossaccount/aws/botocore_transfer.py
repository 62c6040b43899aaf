"""The botocore transfer path: one PutObject per small file, s3transfer for multipart.

Small files (nearly all of a docs site) go up with one PutObject each from a plain thread
pool: s3transfer's per-transfer futures, queues and callbacks cost more CPU than the request
itself. Files big enough for multipart stay with s3transfer (headers kept on the
CreateMultipartUpload). The first failure stops new uploads from starting.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig
from s3transfer.futures import TransferFuture
from s3transfer.manager import TransferManager
from s3transfer.subscribers import BaseSubscriber

from mkdocs_s3_crossaccount.core.destination import Batch, Progress
from mkdocs_s3_crossaccount.core.headers import Body
from mkdocs_s3_crossaccount.core.inventory import MULTIPART_CHUNKSIZE, MULTIPART_THRESHOLD, gzipped_body
from mkdocs_s3_crossaccount.core.model import clean_etag

if TYPE_CHECKING:
    from mkdocs_s3_crossaccount.aws.destination import S3Destination
    from mkdocs_s3_crossaccount.core.plan import Upload


class _Skipped(Exception):
    """An upload not started because another one failed."""


def body_of(up: Upload) -> str | IO[bytes]:
    """What to send: the file's path, its gzip-compressed bytes, or nothing (redirect)."""
    if up.file.body == Body.GZIP:
        return gzipped_body(up.file.path)
    if up.file.body == Body.EMPTY:
        return io.BytesIO(b"")
    return up.file.path


class EtagRecorder:
    """Records the ETag S3 returns for each multipart upload s3transfer completes.

    botocore passes the same ``context`` dict to a call's parameter-build and after-call
    events, which carries the key from one to the other.
    """

    _OPS = ("CompleteMultipartUpload",)

    def __init__(self) -> None:
        self.etags: dict[str, str] = {}
        self.version_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def _remember_key(self, params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        context["s3xa_key"] = params.get("Key")

    def _record(self, parsed: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        key = context.get("s3xa_key")
        etag = parsed.get("ETag")
        if key and etag:
            with self._lock:
                self.etags[str(key)] = clean_etag(str(etag))
                if parsed.get("VersionId"):
                    self.version_ids[str(key)] = str(parsed["VersionId"])

    @contextmanager
    def attached(self, s3: Any) -> Iterator[EtagRecorder]:
        """Listen on ``s3``'s events for the duration of the block."""
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


def is_cancel(exc: BaseException) -> bool:
    """A failure that is only the consequence of another (cancelled, skipped)."""
    from s3transfer.exceptions import FatalError

    return type(exc).__name__ == "CancelledError" or isinstance(exc, (FatalError, _Skipped))


class BotocoreTransfer:
    """Uploads through the destination's botocore client."""

    name = "botocore"

    def __init__(self, dest: S3Destination, concurrency: int) -> None:
        self._dest = dest
        self._concurrency = concurrency

    def close(self) -> None:
        """Nothing to release: the pools live for one batch."""
        pass

    def upload_many(self, uploads: Sequence[Upload], on_done: Progress) -> Batch:
        batch = Batch()
        if not uploads:
            return batch
        s3 = self._dest.client
        bucket = self._dest.bucket
        failed = threading.Event()
        manager = TransferManager(
            s3,
            TransferConfig(
                multipart_threshold=MULTIPART_THRESHOLD,
                multipart_chunksize=MULTIPART_CHUNKSIZE,
                max_concurrency=self._concurrency,
                use_threads=True,
            ),
        )
        pool = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="s3xa-put")
        bodies: list[IO[bytes]] = []
        # a few requests queued per worker, not the whole site: memory stays flat at 10,000 files
        in_flight = threading.BoundedSemaphore(4 * self._concurrency)
        recorder = EtagRecorder()
        vid_lock = threading.Lock()

        def put(up: Upload) -> str:
            if failed.is_set():
                raise _Skipped()
            body = body_of(up)
            # bytes, not a file: botocore adds `Expect: 100-continue` (one more round trip per object)
            # to file-like bodies only; these are below the multipart threshold, so memory stays small
            with open(body, "rb") if isinstance(body, str) else body as fh:
                data = fh.read()
            resp = s3.put_object(Bucket=bucket, Key=up.file.key, Body=data, **self._dest.request_params(up))
            if resp.get("VersionId"):
                with vid_lock:
                    recorder.version_ids[up.file.key] = str(resp["VersionId"])
            return clean_etag(str(resp.get("ETag", "")))

        def settled(up: Upload) -> Callable[[Future[str]], None]:
            def note(fut: Future[str]) -> None:
                in_flight.release()
                if fut.cancelled() or fut.exception() is not None:
                    failed.set()
                else:
                    on_done(up)

            return note

        futures: list[tuple[Upload, TransferFuture | Future[str]]] = []
        try:
            with recorder.attached(s3):
                # biggest first, so a large file does not start last and hold up the batch
                for up in sorted(uploads, key=lambda u: -u.file.size):
                    if failed.is_set():
                        break
                    if up.file.upload_size < MULTIPART_THRESHOLD:
                        in_flight.acquire()
                        small = pool.submit(put, up)
                        small.add_done_callback(settled(up))
                        futures.append((up, small))
                        continue
                    body = body_of(up)
                    if not isinstance(body, str):
                        bodies.append(body)
                    big = manager.upload(
                        body,
                        bucket,
                        up.file.key,
                        extra_args=self._dest.request_params(up),
                        subscribers=[_Done(up, on_done, failed.set)],
                    )
                    futures.append((up, big))
                self._collect(futures, failed, batch)
        except BaseException:  # SIGTERM / Ctrl-C in the main thread: start nothing more, cancel multipart
            failed.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            manager.shutdown(cancel=failed.is_set())
            for b in bodies:
                b.close()
        for up in batch.done:
            if up.file.key in recorder.etags:
                batch.etags[up.file.key] = recorder.etags[up.file.key]
            if up.file.key in recorder.version_ids:
                batch.version_ids[up.file.key] = recorder.version_ids[up.file.key]
        return batch

    def _collect(
        self,
        futures: list[tuple[Upload, TransferFuture | Future[str]]],
        failed: threading.Event,
        batch: Batch,
    ) -> None:
        """Wait for every upload; record ETags and translated failures."""
        for up, pending in futures:
            if failed.is_set() and not pending.done():
                pending.cancel()
            try:
                etag = pending.result()
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM arrived in this (the main) thread: unwind
                raise
            except BaseException as exc:
                if not is_cancel(exc):
                    batch.errors.append((up, self._dest.translate(exc, up, "upload to")))
                continue
            batch.done.append(up)
            if isinstance(etag, str) and etag:
                batch.etags[up.file.key] = etag


class _Done(BaseSubscriber):
    """s3transfer subscriber: progress for a finished multipart upload; a failed one stops new uploads."""

    def __init__(self, up: Upload, on_done: Progress, on_fail: Callable[[], None]) -> None:
        self._up = up
        self._on_done = on_done
        self._on_fail = on_fail

    def on_done(self, future: TransferFuture, **kwargs: Any) -> None:
        try:
            future.result()
        except BaseException:
            self._on_fail()
        else:
            self._on_done(self._up)
