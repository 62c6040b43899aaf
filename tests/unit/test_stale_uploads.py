"""Incomplete multipart uploads a killed publish left are aborted by a later publish (issue 10, item 16)."""

from __future__ import annotations

import datetime
from pathlib import Path

from mkdocs_s3_crossaccount.core.memory import MemoryDestination
from mkdocs_s3_crossaccount.core.uploads import abort_stale_uploads, foreign_roots
from tests.conftest import make_site
from tests.unit.test_memory_engine import SITE, publish_mem

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)


def ago(seconds: float) -> datetime.datetime:
    return NOW - datetime.timedelta(seconds=seconds)


def test_only_this_prefixs_uploads_older_than_the_lock_timeout_are_aborted() -> None:
    dest = MemoryDestination(prefix="docs")
    dead = dest.start_upload("big.pdf", ago(3600))
    dest.start_upload("live.pdf", ago(30))  # younger than the timeout: a live publish may own it
    dest.start_upload("v2/big.pdf", ago(3600))  # under a nested publisher's prefix
    elsewhere = MemoryDestination(prefix="other", uploads=dest.uploads)
    elsewhere.start_upload("big.pdf", ago(3600))
    listed = ["index.html", "v2/.mkdocs-s3-crossaccount/manifest.json"]
    aborted = abort_stale_uploads(dest, 600, listed, now=NOW)
    assert aborted == [dead.key]
    assert sorted(u.key for u in dest.uploads) == ["docs/live.pdf", "docs/v2/big.pdf", "other/big.pdf"]


def test_nested_publishers_are_found_by_their_bookkeeping_folder() -> None:
    assert foreign_roots(["a.html", "v2/.mkdocs-s3-crossaccount/lock.json", "x/y/.mkdocs-s3-crossaccount/m"]) == {
        "v2/",
        "x/y/",
    }


def test_a_publish_that_uploads_aborts_a_killed_publishs_upload(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE)
    dest = MemoryDestination(prefix="docs")
    dest.start_upload("assets/video.mp4", datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    publish_mem(dest, site)
    assert dest.uploads == []
    assert dest.ops("abort_upload") == ["docs/assets/video.mp4"]


def test_a_publish_that_uploads_nothing_does_not_look(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE)
    dest = MemoryDestination(prefix="docs")
    publish_mem(dest, site)
    dest.calls.clear()
    publish_mem(dest, site)
    assert dest.ops("pending_uploads") == []


def test_a_failure_to_list_or_abort_only_warns(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE)
    dest = MemoryDestination(prefix="docs")
    up = dest.start_upload("big.pdf", datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    dest.fail("abort_upload", "big.pdf")
    result = publish_mem(dest, site)
    assert len(result.uploaded) == len(SITE)
    assert dest.uploads == [up]
