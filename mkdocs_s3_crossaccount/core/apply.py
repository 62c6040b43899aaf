"""Apply a plan through a Destination: uploads phase by phase, in-place header updates, guarded deletes.

A phase starts only when the previous one fully succeeded, and deletes run only after every
upload and header update succeeded. The first failure stops what has not started yet; the
error says how far the publish got and that nothing was deleted. Which transport carries the
requests is the destination's business; the order and the guarantees live here.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from mkdocs_s3_crossaccount.core.destination import Batch, Destination
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.inventory import changed_since_scan
from mkdocs_s3_crossaccount.core.plan import Plan, Upload
from mkdocs_s3_crossaccount.core.report import human_bytes

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")


@dataclass
class Applied:
    """What applying a plan did."""

    uploaded: list[Upload] = field(default_factory=list)  # in the order they finished
    etags: dict[str, str] = field(default_factory=dict)  # key -> ETag the server gave our write
    copied: dict[str, str] = field(default_factory=dict)  # key -> new ETag of a header update in place
    deleted: list[str] = field(default_factory=list)
    retries: int = 0
    version_ids: dict[str, str] = field(default_factory=dict)  # key -> VersionId of our write (versioning on)


@dataclass(frozen=True)
class ProgressUpdate:
    """How far one stage of the apply is, for an observer (a host's progress display).

    ``action`` is ``"upload"`` or ``"delete"``; ``done == total`` is that stage's last update.
    Deletes carry no byte counts (0).
    """

    action: str
    done: int
    total: int
    done_bytes: int = 0
    total_bytes: int = 0


ProgressObserver = Callable[[ProgressUpdate], None]
"""Called after each finished upload (from transfer threads) and each delete batch; must be quick."""

_observer: contextvars.ContextVar[ProgressObserver | None] = contextvars.ContextVar("s3xa_observer", default=None)


@contextmanager
def observing(observer: ProgressObserver | None) -> Iterator[None]:
    """While inside, every apply in this thread reports its progress to ``observer``.

    The host's seam (the CLI's terminal bar) without a parameter through every stage; the
    periodic log lines (``progress_interval``) are independent of it.
    """
    token = _observer.set(observer)
    try:
        yield
    finally:
        _observer.reset(token)


@dataclass
class Progress:
    """Files and bytes done so far (updated from transfer threads)."""

    total_files: int
    total_bytes: int
    done_files: int = 0
    done_bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    observer: ProgressObserver | None = field(default_factory=_observer.get)  # taken in the applying thread

    def add(self, up: Upload) -> None:
        """Count one finished upload (and tell the observer, if any)."""
        with self.lock:
            self.done_files += 1
            self.done_bytes += up.file.upload_size
            update = ProgressUpdate("upload", self.done_files, self.total_files, self.done_bytes, self.total_bytes)
        if self.observer is not None:
            self.observer(update)


class Ticker:
    """Logs a progress line every ``interval`` seconds while uploads run (CI-friendly)."""

    def __init__(self, progress: Progress, interval: float) -> None:
        self._progress = progress
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="s3xa-progress", daemon=True)

    def __enter__(self) -> Ticker:
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


def apply_plan(
    dest: Destination,
    plan: Plan,
    progress_interval: float = 10.0,
    confirm: Callable[[str], None] | None = None,
) -> Applied:
    """Uploads (assets, pages, indexes), then header updates, then deletes. Raises PublishError.

    ``confirm`` is called before the delete phase (with what is about to happen); it raises to stop
    the publish there (the lock's check that it is still ours).
    """
    applied = Applied()
    upload_all(dest, plan, applied, progress_interval)
    copy_all(dest, plan, applied)
    if plan.deletes and confirm is not None:
        confirm("deleting anything")
    delete_all(dest, plan, applied)
    return applied


def upload_all(dest: Destination, plan: Plan, applied: Applied, progress_interval: float = 10.0) -> None:
    """Every planned upload, phase by phase; the first failing phase raises and nothing more starts."""
    if not plan.uploads:
        return
    progress = Progress(len(plan.uploads), plan.upload_bytes)
    if progress.observer is not None:
        progress.observer(ProgressUpdate("upload", 0, progress.total_files, 0, progress.total_bytes))
    with Ticker(progress, progress_interval):
        for phase in plan.phases():
            batch = dest.upload_many(phase, progress.add)
            fail_rewritten(batch)
            applied.uploaded.extend(batch.done)
            applied.etags.update(batch.etags)
            applied.version_ids.update(batch.version_ids)
            applied.retries += batch.retries
            if batch.errors:
                raise batch_error(batch.errors, len(applied.uploaded), len(plan.uploads), "uploads")
    for up in applied.uploaded:
        log.debug("upload: %s (%s)", up.file.key, up.reason)


def fail_rewritten(batch: Batch) -> None:
    """Move uploads whose file changed while it was hashed or sent from ``done`` to ``errors``.

    The object may hold a mix of old and new bytes, or be truncated; it is not recorded as
    published (no manifest entry, no later phase, no deletes), so the rerun uploads the file again.
    """
    changed = [up for up in batch.done if changed_since_scan(up.file)]
    for up in changed:
        batch.done.remove(up)
        batch.etags.pop(up.file.key, None)
        batch.errors.append(
            (
                up,
                PublishError(
                    f"{up.file.rel} changed while it was being published (its size or modification time differs "
                    "from when it was hashed), so the uploaded object may not match it",
                    "Do not write to the site dir while publishing (is a build still running?), then rerun: "
                    "the rerun uploads the file again.",
                ),
            )
        )


def copy_all(dest: Destination, plan: Plan, applied: Applied) -> None:
    """Header updates in place (no bytes sent)."""
    if not plan.copies:
        return
    batch = dest.copy_in_place(plan.copies)
    applied.copied.update(batch.etags)
    applied.version_ids.update(batch.version_ids)
    applied.retries += batch.retries
    if batch.errors:
        raise batch_error(batch.errors, len(batch.done), len(plan.copies), "header updates")
    for key in sorted(applied.copied):
        log.debug("headers: %s", key)


def delete_all(dest: Destination, plan: Plan, applied: Applied) -> None:
    """The stale objects, after every write succeeded: pages, then indexes, then assets.

    Each group is a separate batch (a batch delete has no order inside it), so no stale page
    is live while an asset it uses is gone; the first failing group stops the rest.
    """
    if not plan.deletes:
        return
    observer = _observer.get()
    if observer is not None:
        observer(ProgressUpdate("delete", 0, len(plan.deletes)))
    for group in plan.delete_phases():
        deleted = dest.delete_many(group)
        applied.deleted.extend(deleted.keys)
        if observer is not None:
            observer(ProgressUpdate("delete", len(applied.deleted), len(plan.deletes)))
        if deleted.error is not None:
            err = deleted.error
            raise PublishError(
                f"{err.message} {len(applied.deleted)} of {len(plan.deletes)} stale objects had been deleted.",
                err.fix,
            )
    for key in applied.deleted:
        log.debug("delete: %s", key)


def batch_error(errors: list[tuple[Upload, PublishError]], n_done: int, n_total: int, noun: str) -> PublishError:
    """The first failure of a parallel batch, with how far the publish got."""
    _, first = errors[0]
    more = f" ({len(errors) - 1} more {noun} failed)" if len(errors) > 1 else ""
    return PublishError(
        f"{first.message.rstrip('.')}{more}. {n_done} of {n_total} {noun} had finished; nothing was deleted.",
        first.fix,
    )
