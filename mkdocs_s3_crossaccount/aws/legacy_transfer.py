"""Interim: today's ``apply.upload_all`` behind the Transfer protocol, until ``aws.botocore_transfer`` lands.

The CRT transfer hands files at or above the multipart threshold to it (s3transfer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mkdocs_s3_crossaccount.aws.apply import EtagRecorder, upload_all
from mkdocs_s3_crossaccount.core.destination import Batch, Progress
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.plan import Plan, Upload


class UploadAllTransfer:
    name = "botocore"

    def __init__(self, s3: Any, bucket: str, owner: str, identity_arn: str, concurrency: int) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._owner = owner
        self._identity_arn = identity_arn
        self._concurrency = concurrency

    def upload_many(self, uploads: Sequence[Upload], on_done: Progress) -> Batch:
        batch = Batch()
        if not uploads:
            return batch
        recorder = EtagRecorder()
        try:
            with recorder.attached(self._s3):
                done = upload_all(
                    self._s3,
                    self._bucket,
                    self._owner,
                    Plan(list(uploads), [], []),
                    self._identity_arn,
                    self._concurrency,
                    progress_interval=0,
                )
        except PublishError as exc:
            batch.errors.append((uploads[0], exc))
            return batch
        for up in done:
            on_done(up)
        batch.done.extend(done)
        batch.etags.update(recorder.etags)
        return batch

    def close(self) -> None:
        pass
