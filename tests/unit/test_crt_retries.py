"""What the native (CRT) transfer path retries, and how long it waits: the same classes as
botocore's standard mode (the integration tests run the retry loop against a throttling proxy)."""

from __future__ import annotations

import pytest

from mkdocs_s3_crossaccount.aws.crt_transfer import MAX_BACKOFF, _Outcome, _retryable, backoff
from mkdocs_s3_crossaccount.core.headers import Body
from mkdocs_s3_crossaccount.core.inventory import LocalFile
from mkdocs_s3_crossaccount.core.plan import Reason, Upload


def _outcome(status: int | None, code: str = "") -> _Outcome:
    f = LocalFile("a.html", "docs/a.html", "/nowhere/a.html", 1, "m", "m", "text/html", Body.IDENTITY)
    out = _Outcome(Upload(f, Reason.NEW))
    out.status = status
    out.error = None if status is None or status < 400 else RuntimeError("failed")
    if code:
        out.error_body = f"<Error><Code>{code}</Code><Message>m</Message></Error>".encode()
    return out


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "SlowDown"), (500, "InternalError"), (502, ""), (504, ""), (429, ""), (400, "RequestTimeout"), (None, "")],
)
def test_throttling_transient_faults_and_no_answer_are_retried(status: int | None, code: str) -> None:
    assert _retryable(_outcome(status, code))


@pytest.mark.parametrize(
    ("status", "code"),
    [(403, "AccessDenied"), (404, "NoSuchBucket"), (400, "InvalidArgument"), (412, "PreconditionFailed")],
)
def test_refusals_are_not_retried(status: int, code: str) -> None:
    assert not _retryable(_outcome(status, code))


def test_backoff_is_full_jitter_doubling_up_to_the_cap() -> None:
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (10, MAX_BACKOFF)):
        waits = [backoff(attempt) for _ in range(300)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 2  # jittered over the range, not a constant
