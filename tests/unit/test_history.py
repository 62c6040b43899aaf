"""Deploy records (bounded) and the out-of-order guard, against the in-memory destination."""

from __future__ import annotations

from pathlib import Path

import pytest

from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.history import Commit, current_commit, read_records, summary
from mkdocs_s3_crossaccount.core.memory import MemoryDestination
from mkdocs_s3_crossaccount.core.report import PublishResult
from mkdocs_s3_crossaccount.engine import Run, inventory, publish_to
from tests.conftest import make_site

OLD = Commit("a" * 40, 1_700_000_000)
NEW = Commit("b" * 40, 1_700_000_600)


def publish_mem(dest: MemoryDestination, root: Path, commit: Commit | None = NEW, **options: object) -> PublishResult:
    settings = Settings(bucket="memory-bucket", prefix="docs", **options)  # type: ignore[arg-type]
    run = Run(str(root), settings, "222222222222", "us-east-1", progress_interval=0, commit=commit)
    return publish_to(dest, lambda: inventory(str(root), settings), run, None)


@pytest.fixture
def dest() -> MemoryDestination:
    return MemoryDestination(prefix="docs")


def test_history_is_bounded_and_newest_first(tmp_path: Path, dest: MemoryDestination) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"0"})
    for n in range(5):
        (site / "index.html").write_bytes(f"<p>{n}</p>".encode())
        (site / f"page{n}.html").write_bytes(b"x")
        publish_mem(dest, site, history_limit=3)
    records = read_records(dest)
    assert [r.number for r in records] == [5, 4, 3]
    latest = summary(records[0])
    assert latest["commit"] == NEW.sha and latest["commit_time"] == "2023-11-14T22:23:20Z"
    assert latest["uploaded"] == 2 and latest["objects"] == 6
    # an unchanged publish is no deploy: no record
    publish_mem(dest, site, history_limit=3)
    assert [r.number for r in read_records(dest)] == [5, 4, 3]


def test_older_commit_is_refused_before_anything_changes(tmp_path: Path, dest: MemoryDestination) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"new"})
    publish_mem(dest, site, NEW)
    before = dest.site()
    (site / "index.html").write_bytes(b"old")
    with pytest.raises(PublishError) as caught:
        publish_mem(dest, site, OLD)
    assert "a" * 12 in caught.value.message and "b" * 12 in caught.value.message
    assert "allow_older" in (caught.value.fix or "")
    assert dest.site() == before
    publish_mem(dest, site, OLD, allow_older=True)
    assert dest.site()["index.html"] == b"old"


def test_same_commit_and_newer_commits_pass(tmp_path: Path, dest: MemoryDestination) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"1"})
    publish_mem(dest, site, NEW)
    (site / "index.html").write_bytes(b"2")
    publish_mem(dest, site, Commit(NEW.sha, NEW.time))  # a re-run of the same pipeline
    publish_mem(dest, site, Commit("c" * 40, NEW.time + 1))  # type: ignore[operator]
    publish_mem(dest, site, None)  # commit unknown: nothing to compare


def test_commit_from_gitlab_variables() -> None:
    env = {"CI_COMMIT_SHA": "d" * 40, "CI_COMMIT_TIMESTAMP": "2026-11-28T20:15:00+01:00"}
    assert current_commit(env) == Commit("d" * 40, 1795893300)
