"""Role credentials refresh themselves before they expire (real STS calls to moto)."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import Settings, publish
from mkdocs_s3_crossaccount.aws.session import connect
from tests.conftest import BUCKET, ROLE_ARN, Accounts

pytestmark = pytest.mark.integration


class JumpingClock:
    """Real time plus an offset the test moves, as if the publish had run for a while."""

    def __init__(self) -> None:
        self.offset = datetime.timedelta(0)
        self.calls = 0
        self.jump_at: int | None = None
        self.jump_for = 0

    def __call__(self) -> datetime.datetime:
        self.calls += 1
        if self.jump_at is not None and self.jump_at <= self.calls < self.jump_at + self.jump_for:
            return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=870)
        return datetime.datetime.now(datetime.timezone.utc) + self.offset


def test_session_near_expiry_is_refreshed_before_use(accounts: Accounts, docs_bucket: Any) -> None:
    clock = JumpingClock()
    ctx = connect(Settings(bucket=BUCKET, role_arn=ROLE_ARN, duration_seconds=900), clock=clock)
    assert len(ctx.refreshes) == 1
    first_key = ctx.session.get_credentials().get_frozen_credentials().access_key
    # 870 s later, a 900 s session has 30 s left: inside the mandatory window, so it refreshes
    clock.offset = datetime.timedelta(seconds=870)
    s3 = ctx.client("s3")
    s3.list_objects_v2(Bucket=BUCKET, ExpectedBucketOwner=ctx.owner)
    assert len(ctx.refreshes) >= 2
    clock.offset = datetime.timedelta(0)
    assert ctx.session.get_credentials().get_frozen_credentials().access_key != first_key
    n = len(ctx.refreshes)
    s3.list_objects_v2(Bucket=BUCKET, ExpectedBucketOwner=ctx.owner)
    assert len(ctx.refreshes) == n, "a fresh session must not refresh on every request"


def test_publish_that_outlives_its_session_succeeds(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html/>")
    for i in range(200):
        (site / f"p{i}.html").write_text(f"<html>{i}</html>")
    clock = JumpingClock()
    clock.jump_at, clock.jump_for = 40, 30  # mid-upload, time runs out for a while
    result = publish(site, Settings(bucket=BUCKET, role_arn=ROLE_ARN, duration_seconds=900, concurrency=4), clock=clock)
    assert len(result.uploaded) == 201
    assert result.role_sessions >= 2


def test_progress_lines_during_long_uploads(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, caplog: pytest.LogCaptureFixture
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html/>")
    for i in range(300):
        (site / f"p{i}.html").write_text(f"<html>{i}</html>")
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.s3_crossaccount"):
        publish(site, Settings(bucket=BUCKET, role_arn=ROLE_ARN, concurrency=2), progress_interval=0.05)
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Uploading: ")]
    assert progress, "expected periodic progress lines"
    assert all("/301 files" in line for line in progress)
    assert not any("p1.html" in r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
