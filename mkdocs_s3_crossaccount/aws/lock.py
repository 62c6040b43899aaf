"""One publish at a time per prefix: a lock object taken with a conditional write.

``PutObject`` with ``If-None-Match: *`` succeeds for exactly one writer; a second publish
to the same prefix is refused with who holds the lock and since when. A lock left by a job
that died expires after ``lock_timeout`` seconds and is then taken over. Servers without
conditional writes get a warning and no lock.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mkdocs_s3_crossaccount.aws import diagnose
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR, to_key

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

LOCK_NAME = INTERNAL_DIR + "lock.json"


@dataclass
class Lock:
    """A held lock. While held, a heartbeat rewrites it, so only a dead publisher's lock goes stale."""

    bucket: str
    key: str
    owner: str
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def keep_alive(self, s3: Any, body: bytes, interval: float) -> None:
        def beat() -> None:
            while not self._stop.wait(interval):
                with contextlib.suppress(ClientError, BotoCoreError):
                    s3.put_object(
                        Bucket=self.bucket,
                        Key=self.key,
                        Body=body,
                        ContentType="application/json",
                        CacheControl="no-store",
                        ExpectedBucketOwner=self.owner,
                    )

        self._thread = threading.Thread(target=beat, name="s3xa-lock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def holder_info(identity_arn: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ) if environ is None else environ
    info = {"identity": identity_arn, "started": datetime.datetime.now(datetime.timezone.utc).isoformat()}
    for var in ("CI_JOB_URL", "CI_JOB_ID", "CI_PIPELINE_ID", "CI_COMMIT_SHA", "CI_PROJECT_PATH"):
        if env.get(var):
            info[var] = env[var]
    return info


def acquire(
    s3: Any, bucket: str, prefix: str, owner: str, identity_arn: str, timeout: int, *, _retry: bool = True
) -> Lock | None:
    key = to_key(prefix, LOCK_NAME)
    body = json.dumps(holder_info(identity_arn), indent=1).encode()
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            IfNoneMatch="*",
            ContentType="application/json",
            CacheControl="no-store",
            ExpectedBucketOwner=owner,
        )
        held = Lock(bucket, key, owner)
        # a live publish rewrites its lock well within the timeout, so it never looks stale
        held.keep_alive(s3, body, interval=max(1.0, min(60.0, timeout / 4)))
        return held
    except ClientError as exc:
        code, status = diagnose.code_of(exc), diagnose.status_of(exc)
        if code in ("NotImplemented",) or status == 501:
            log.warning("The S3 endpoint does not support conditional writes; publishing without a lock")
            return None
        if code == "NoSuchBucket":
            raise diagnose.bucket_failed(exc, bucket, owner, identity_arn, "write to") from exc
        if code not in ("PreconditionFailed", "ConditionalRequestConflict") and status not in (409, 412):
            raise diagnose.object_failed(exc, bucket, key, identity_arn, "upload to", owner) from exc
    except BotoCoreError as exc:
        raise diagnose.object_failed(exc, bucket, key, identity_arn, "upload to", owner) from exc

    holder = _read(s3, bucket, key, owner)
    age = holder["age"]
    if age is not None and age > timeout and _retry:
        log.warning(
            "Taking over a stale publish lock (%.0f s old, timeout %d s) left by %s",
            age,
            timeout,
            holder.get("identity", "an unknown publisher"),
        )
        release(s3, Lock(bucket, key, owner))
        return acquire(s3, bucket, prefix, owner, identity_arn, timeout, _retry=False)
    who = holder.get("CI_JOB_URL") or holder.get("identity") or "another publisher"
    since = holder.get("started", "an unknown time")
    raise PublishError(
        f"Another publish to s3://{bucket}/{to_key(prefix, '')} is in progress (lock held by {who} since {since}). "
        "Nothing was changed.",
        f"Wait for it and rerun. If that job died, the lock expires after lock_timeout ({timeout} s), or remove "
        f"it: aws s3api delete-object --bucket {bucket} --key {key}",
    )


def _read(s3: Any, bucket: str, key: str, owner: str) -> dict[str, Any]:
    try:
        obj = s3.get_object(Bucket=bucket, Key=key, ExpectedBucketOwner=owner)
        data = json.loads(obj["Body"].read().decode() or "{}")
        age = (datetime.datetime.now(datetime.timezone.utc) - obj["LastModified"]).total_seconds()
    except (ClientError, BotoCoreError, ValueError):
        return {"age": None}
    result: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
    result["age"] = age
    return result


def release(s3: Any, lock: Lock | None) -> None:
    if lock is None:
        return
    lock.stop()
    try:
        s3.delete_object(Bucket=lock.bucket, Key=lock.key, ExpectedBucketOwner=lock.owner)
    except (ClientError, BotoCoreError) as exc:
        log.warning(
            "Could not remove the publish lock s3://%s/%s (%s); it expires by itself", lock.bucket, lock.key, exc
        )
