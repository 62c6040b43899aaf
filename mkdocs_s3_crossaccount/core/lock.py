"""One publish at a time per prefix: a lock object taken with a conditional write.

``put`` with ``if_absent`` (If-None-Match: *) succeeds for exactly one writer; a second publish
to the same prefix is refused with who holds the lock and since when. A lock left by a job
that died expires after ``lock_timeout`` seconds and is then taken over. Servers without
conditional writes get a warning and no lock.

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

from mkdocs_s3_crossaccount.core.destination import ConditionFailed, ConditionsUnsupported, Destination
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

LOCK_NAME = INTERNAL_DIR + "lock.json"
LOCK_HEADERS: Mapping[str, str] = {"ContentType": "application/json", "CacheControl": "no-store"}


@dataclass
class Lock:
    """A held lock. While held, a heartbeat rewrites it, so only a dead publisher's lock goes stale."""

    dest: Destination
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def keep_alive(self, body: bytes, interval: float) -> None:
        """Rewrite the lock every ``interval`` seconds until stopped."""

        def beat() -> None:
            while not self._stop.wait(interval):
                with contextlib.suppress(PublishError):
                    self.dest.put(LOCK_NAME, body, LOCK_HEADERS)

        self._thread = threading.Thread(target=beat, name="s3xa-lock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the heartbeat (the lock object stays until released)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def holder_info(identity_arn: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Who holds the lock: the identity, when, and the CI job if there is one."""
    env = os.environ if environ is None else environ
    info = {"identity": identity_arn, "started": datetime.datetime.now(datetime.timezone.utc).isoformat()}
    for var in ("CI_JOB_URL", "CI_JOB_ID", "CI_PIPELINE_ID", "CI_COMMIT_SHA", "CI_PROJECT_PATH"):
        if env.get(var):
            info[var] = env[var]
    return info


def acquire(dest: Destination, timeout: int, *, _retry: bool = True) -> Lock | None:
    """Take the prefix's lock, or raise PublishError naming who holds it. None: the server has no conditional writes."""
    body = json.dumps(holder_info(dest.identity_arn), indent=1).encode()
    try:
        dest.put(LOCK_NAME, body, LOCK_HEADERS, if_absent=True)
    except ConditionsUnsupported:
        log.warning("The S3 endpoint does not support conditional writes; publishing without a lock")
        return None
    except ConditionFailed:
        pass
    else:
        held = Lock(dest)
        # a live publish rewrites its lock well within the timeout, so it never looks stale
        held.keep_alive(body, interval=max(1.0, min(60.0, timeout / 4)))
        return held

    holder = _read(dest)
    age = holder["age"]
    if age is not None and age > timeout and _retry:
        log.warning(
            "Taking over a stale publish lock (%.0f s old, timeout %d s) left by %s",
            age,
            timeout,
            holder.get("identity", "an unknown publisher"),
        )
        release(Lock(dest))
        return acquire(dest, timeout, _retry=False)
    who = holder.get("CI_JOB_URL") or holder.get("identity") or "another publisher"
    since = holder.get("started", "an unknown time")
    raise PublishError(
        f"Another publish to {dest.url} is in progress (lock held by {who} since {since}). Nothing was changed.",
        f"Wait for it and rerun. If that job died, the lock expires after lock_timeout ({timeout} s), or remove "
        f"it: aws s3api delete-object --bucket {dest.bucket} --key {dest.key(LOCK_NAME)}",
    )


def _read(dest: Destination) -> dict[str, Any]:
    try:
        obj = dest.get(LOCK_NAME)
        if obj is None or obj.last_modified is None:
            return {"age": None}
        data = json.loads(obj.body.decode() or "{}")
        age = (datetime.datetime.now(datetime.timezone.utc) - obj.last_modified).total_seconds()
    except (PublishError, ValueError):
        return {"age": None}
    result: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
    result["age"] = age
    return result


def release(lock: Lock | None) -> None:
    """Stop the heartbeat and remove the lock (a failure only warns: the lock expires by itself)."""
    if lock is None:
        return
    lock.stop()
    try:
        lock.dest.delete(LOCK_NAME)
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
