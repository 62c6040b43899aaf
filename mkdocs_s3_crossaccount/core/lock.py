"""One publish at a time per prefix: a lock object taken with a conditional write.

- Taking it: ``put`` with ``if_absent`` (If-None-Match: *) succeeds for exactly one writer; a
  second publish to the same prefix is refused with who holds the lock and since when.
- Taking over: a lock older than ``lock_timeout`` seconds (by its LastModified, whatever its
  body says, so a corrupt lock expires too) is replaced with ``if_match`` on the ETag it was
  read with, so of N publishers that find the same stale lock exactly one takes it.
- Holding it: a heartbeat rewrites it with ``if_match`` on the ETag of our own last write, so
  a lock taken over by someone else is never overwritten back. Before the delete phase and
  before the manifest is written, ``confirm`` does one such conditional rewrite (one PutObject):
  if the lock is no longer ours the publish stops there.
- Releasing it: a delete with ``if_match`` on our ETag; someone else's lock is left alone.
- Servers: one that answers 501 to conditional writes gets a warning and no lock. One that
  ignores If-None-Match (rclone's ``serve s3``) is found by a probe, once per process and
  server: right after our lock is written, a second If-None-Match write of it must fail. If it
  succeeds, the server cannot lock: a loud warning, our lock object is removed, and the publish
  goes on without a lock (the mode of ``lock: false``, whose risks the option's doc states).

The lock speaks only to the Destination seam, so the same code runs against S3 and the
in-memory destination of the unit tests.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mkdocs_s3_crossaccount.core.destination import ConditionFailed, ConditionsUnsupported, Destination, Fetched
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

LOCK_NAME = INTERNAL_DIR + "lock.json"
LOCK_HEADERS: Mapping[str, str] = {"ContentType": "application/json", "CacheControl": "no-store"}
ATTEMPTS = 3  # take / take over, re-read when another publisher moved first

# (server, bucket) -> whether the server honours If-None-Match; probed once per process
_honours: dict[tuple[str, str], bool] = {}
_honours_mutex = threading.Lock()


class LockLost(Exception):
    """The lock is no longer ours: another publisher took it over (or removed it)."""


@dataclass
class Lock:
    """A held lock and the ETag of our last write of it. A heartbeat rewrites it while held."""

    dest: Destination
    body: bytes
    etag: str
    took_over: bool = False  # it replaced a stale lock (a publish died holding it)
    lost: bool = False
    _mutex: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def refresh(self) -> None:
        """Rewrite the lock if it is still ours (If-Match: our ETag); LockLost if it is not."""
        with self._mutex:
            if self.lost:
                raise LockLost()
            try:
                self.etag = self.dest.put(LOCK_NAME, self.body, LOCK_HEADERS, if_match=self.etag)
            except ConditionFailed:
                self.lost = True
                raise LockLost() from None
            except ConditionsUnsupported:  # If-None-Match but no If-Match: compare, then write (not atomic)
                current = self.dest.get(LOCK_NAME)
                if current is None or current.etag != self.etag:
                    self.lost = True
                    raise LockLost() from None
                self.etag = self.dest.put(LOCK_NAME, self.body, LOCK_HEADERS)

    def keep_alive(self, interval: float) -> None:
        """Rewrite the lock (conditionally) every ``interval`` seconds until stopped or lost."""

        def beat() -> None:
            while not self._stop.wait(interval):
                try:
                    self.refresh()
                except LockLost:
                    log.warning(
                        "The publish lock %s%s was taken over by another publisher; this publish stops "
                        "before it deletes anything or writes the manifest",
                        self.dest.url,
                        LOCK_NAME,
                    )
                    return
                except PublishError:
                    continue  # a missed beat; the next one (or confirm) tries again

        self._thread = threading.Thread(target=beat, name="s3xa-lock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the heartbeat (the lock object stays until released)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def confirm(lock: Lock | None, before: str) -> None:
    """Check, with one conditional PutObject of the lock, that it is still ours; raise PublishError if not.

    Called before the delete phase and before the manifest write (``before`` names the step).
    """
    if lock is None:
        return
    try:
        lock.refresh()
    except LockLost:
        raise PublishError(
            f"The publish lock on {lock.dest.url} was taken over by another publisher while this publish ran "
            f"(it looked stale: raise lock_timeout if this publish was only slow). Stopped before {before}.",
            "The other publish now owns the prefix; rerun this one after it has finished.",
        ) from None
    except PublishError as exc:
        raise PublishError(
            f"Could not confirm that this publish still holds its lock on {lock.dest.url} ({exc.message}). "
            f"Stopped before {before}.",
            exc.fix or "Rerun the publish.",
        ) from exc


def holder_info(identity_arn: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Who holds the lock: the identity, when, and the CI job if there is one."""
    env = os.environ if environ is None else environ
    info = {"identity": identity_arn, "started": datetime.datetime.now(datetime.timezone.utc).isoformat()}
    for var in ("CI_JOB_URL", "CI_JOB_ID", "CI_PIPELINE_ID", "CI_COMMIT_SHA", "CI_PROJECT_PATH"):
        if env.get(var):
            info[var] = env[var]
    return info


@dataclass(frozen=True)
class Holder:
    """The lock as read back: the object (None: there is none), its age, and what its body says."""

    fetched: Fetched | None
    age: float | None  # seconds since LastModified; None if unknown
    info: Mapping[str, Any]
    readable: bool = True  # the body is a JSON object


def read_holder(dest: Destination) -> Holder:
    """Read the lock. Its age comes from LastModified, so an unreadable body still ages and expires."""
    try:
        obj = dest.get(LOCK_NAME)
    except PublishError:
        return Holder(None, None, {}, readable=False)
    if obj is None:
        return Holder(None, None, {})
    age = None
    if obj.last_modified is not None:
        age = (datetime.datetime.now(datetime.timezone.utc) - obj.last_modified).total_seconds()
    try:
        data = json.loads(obj.body.decode() or "{}")
    except ValueError:
        return Holder(obj, age, {}, readable=False)
    if not isinstance(data, dict):
        return Holder(obj, age, {}, readable=False)
    return Holder(obj, age, data)


def acquire(dest: Destination, timeout: int) -> Lock | None:
    """Take the prefix's lock, or raise PublishError naming who holds it. None: the server cannot lock."""
    body = json.dumps(holder_info(dest.identity_arn), indent=1).encode()
    interval = max(1.0, min(60.0, timeout / 4))  # a live publish rewrites its lock well within the timeout
    holder = Holder(None, None, {})
    for _ in range(ATTEMPTS):
        try:
            etag = dest.put(LOCK_NAME, body, LOCK_HEADERS, if_absent=True)
        except ConditionsUnsupported:
            log.warning("The S3 endpoint does not support conditional writes; publishing without a lock")
            return None
        except ConditionFailed:
            pass
        else:
            if not _server_honours_conditions(dest, body):
                return None
            return _start(Lock(dest, body, etag), interval)

        holder = read_holder(dest)
        if holder.fetched is None and holder.readable:
            continue  # released between our write and the read: try again
        if holder.fetched is None or holder.age is None or holder.age <= timeout:
            break
        taken = _take_over(dest, body, holder, timeout)
        if taken is not None:
            return _start(taken, interval)
    raise _busy(dest, holder, timeout)


def _take_over(dest: Destination, body: bytes, holder: Holder, timeout: int) -> Lock | None:
    """Replace a stale lock, conditional on the ETag it was read with. None: another publisher moved first."""
    assert holder.fetched is not None and holder.age is not None
    who = holder.info.get("identity") or ("an unreadable lock" if not holder.readable else "an unknown publisher")
    log.warning("Taking over a stale publish lock (%.0f s old, timeout %d s) left by %s", holder.age, timeout, who)
    try:
        etag = dest.put(LOCK_NAME, body, LOCK_HEADERS, if_match=holder.fetched.etag)
    except ConditionFailed:
        return None  # another publisher took it over first, or its holder wrote or removed it: look again
    except ConditionsUnsupported:
        # the server has If-None-Match but not If-Match: remove and retake (a race here is not excluded)
        with contextlib.suppress(PublishError):
            dest.delete(LOCK_NAME)
        return None
    return Lock(dest, body, etag, took_over=True)


def _start(held_lock: Lock, interval: float) -> Lock:
    held_lock.keep_alive(interval)
    return held_lock


def _server_honours_conditions(dest: Destination, body: bytes) -> bool:
    """Probe once per process and server: a second If-None-Match write of the lock we just wrote must fail.

    Costs one PutObject (answered 412) the first time a process locks a bucket on a server.
    """
    key = (dest.server, dest.bucket)
    with _honours_mutex:
        known = _honours.get(key)
        if known is None:
            try:
                dest.put(LOCK_NAME, body, LOCK_HEADERS, if_absent=True)
            except ConditionFailed:
                known = True
            except ConditionsUnsupported:
                known = False
            else:
                known = False  # it rewrote our own lock with the same bytes: harmless
            _honours[key] = known
    if known:
        return True
    log.warning(
        "NO PUBLISH LOCK: the S3 server at %s accepted a conditional write (If-None-Match: *) over an existing "
        "object, so it ignores conditional writes and a lock cannot work there. Publishing to %s WITHOUT a lock: "
        "a publish running at the same time can delete pages this one uploads, or the reverse. Make sure only one "
        "job publishes to this prefix at a time (e.g. a GitLab resource_group), then set `lock: false` to say so.",
        dest.server,
        dest.url,
    )
    with contextlib.suppress(PublishError):
        dest.delete(LOCK_NAME)
    return False


def _busy(dest: Destination, holder: Holder, timeout: int) -> PublishError:
    info = holder.info
    if not holder.readable and holder.fetched is not None:
        who = "a publisher (the lock object is not readable JSON)"
    else:
        who = str(info.get("CI_JOB_URL") or info.get("identity") or "another publisher")
    since = info.get("started")
    if not since and holder.fetched is not None and holder.fetched.last_modified is not None:
        since = holder.fetched.last_modified.isoformat()
    return PublishError(
        f"Another publish to {dest.url} is in progress (lock held by {who} since {since or 'an unknown time'}). "
        "Nothing was changed.",
        f"Wait for it and rerun. If that job died, the lock expires {timeout} s (lock_timeout) after it was last "
        f"written, or remove it: aws s3api delete-object --bucket {dest.bucket} --key {dest.key(LOCK_NAME)}",
    )


def release(lock: Lock | None) -> None:
    """Stop the heartbeat and remove the lock if it is still ours (a failure only warns: it expires by itself)."""
    if lock is None:
        return
    lock.stop()
    with lock._mutex:
        if lock.lost:
            log.warning("Left the publish lock %s%s alone: another publisher holds it now", lock.dest.url, LOCK_NAME)
            return
        try:
            try:
                lock.dest.delete(LOCK_NAME, if_match=lock.etag)
            except ConditionsUnsupported:  # no conditional delete: compare, then delete (not atomic)
                current = lock.dest.get(LOCK_NAME)
                if current is None or current.etag != lock.etag:
                    raise ConditionFailed("changed") from None
                lock.dest.delete(LOCK_NAME)
        except ConditionFailed:
            log.warning("Left the publish lock %s%s alone: another publisher holds it now", lock.dest.url, LOCK_NAME)
        except PublishError as exc:
            log.warning(
                "Could not remove the publish lock %s%s (%s); it expires by itself",
                lock.dest.url,
                LOCK_NAME,
                exc.message,
            )


@contextlib.contextmanager
def held(dest: Destination, timeout: int, enabled: bool = True) -> Iterator[Lock | None]:
    """The lock for the duration of a block (none when ``enabled`` is false)."""
    lock = acquire(dest, timeout) if enabled else None
    try:
        yield lock
    finally:
        release(lock)
