"""The lock's own logic against the in-memory destination: takeover races, heartbeats, release,
corrupt locks, servers that ignore conditional writes (issue 10, items 1, 4 and 8)."""

from __future__ import annotations

import datetime
import json
import logging
import threading
from pathlib import Path

import pytest

from mkdocs_s3_crossaccount.core import lock
from mkdocs_s3_crossaccount.core.destination import Fetched
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.lock import LOCK_NAME, acquire, confirm, release
from mkdocs_s3_crossaccount.core.memory import MemoryDestination
from tests.conftest import make_site
from tests.unit.test_memory_engine import SITE, content, publish_mem

LONG_AGO = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class Clock:
    """The memory bucket's clock (LastModified of what is written): set to the past, then to now."""

    def __init__(self) -> None:
        self.past = True

    def __call__(self) -> datetime.datetime:
        return LONG_AGO if self.past else _now()


def stale_lock(body: bytes = b'{"identity": "arn:aws:sts::222222222222:assumed-role/r/dead-job"}') -> MemoryDestination:
    clock = Clock()
    dest = MemoryDestination(prefix="docs", clock=clock)
    dest.put(LOCK_NAME, body, {})
    clock.past = False
    return dest


class Barrier(MemoryDestination):
    """Lets no thread go on after reading the lock until all N have read it (the race made certain)."""

    barrier: threading.Barrier | None = None

    def get(self, rel: str, *, max_bytes: int | None = None) -> Fetched | None:
        got = super().get(rel, max_bytes=max_bytes)
        barrier = self.barrier
        if barrier is not None:
            barrier.wait(timeout=10)
        return got

    def arm(self, n: int) -> None:
        def spent() -> None:
            self.barrier = None  # reads after the race pass freely

        self.barrier = threading.Barrier(n, action=spent)


def test_of_n_publishers_racing_on_a_stale_lock_exactly_one_proceeds() -> None:
    n = 8
    clock = Clock()
    dest = Barrier(prefix="docs", clock=clock)
    dest.put(LOCK_NAME, b'{"identity": "dead"}', {})
    clock.past = False
    dest.arm(n)
    outcomes: list[object] = [None] * n

    def race(i: int) -> None:
        try:
            outcomes[i] = acquire(dest, timeout=60)
        except PublishError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=race, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = [o for o in outcomes if isinstance(o, lock.Lock)]
    refused = [o for o in outcomes if isinstance(o, PublishError)]
    assert len(held) == 1 and len(refused) == n - 1
    assert all("is in progress" in str(e) for e in refused)
    assert held[0].took_over
    assert dest.objects[f"docs/{LOCK_NAME}"].etag == held[0].etag  # the winner's lock is the one in the bucket
    release(held[0])
    assert f"docs/{LOCK_NAME}" not in dest.objects


def test_heartbeat_and_release_never_overwrite_a_lock_taken_over() -> None:
    dest = MemoryDestination(prefix="docs")
    mine = acquire(dest, timeout=60)
    assert mine is not None
    mine.refresh()  # a heartbeat while ours: rewritten, conditional on our ETag
    dest.put(LOCK_NAME, b'{"identity": "the-other-publisher"}', {})  # another publisher took it over
    theirs = dest.objects[f"docs/{LOCK_NAME}"].body
    with pytest.raises(lock.LockLost):
        mine.refresh()
    release(mine)
    assert dest.objects[f"docs/{LOCK_NAME}"].body == theirs  # neither rewritten nor deleted


def test_a_publisher_whose_lock_was_taken_stops_before_deleting_anything(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE)
    dest = TakenDuringUploads(prefix="docs")
    publish_mem(dest, site, max_delete_share=1)
    (site / "guide" / "index.html").unlink()  # a page to delete on the next publish
    (site / "index.html").write_bytes(b"<html>new home</html>")
    manifest_before = dest.objects["docs/.mkdocs-s3-crossaccount/manifest.json"].body
    dest.take_over = True
    with pytest.raises(PublishError) as err:
        publish_mem(dest, site, max_delete_share=1)
    assert "taken over by another publisher" in str(err.value)
    assert "Stopped before deleting anything" in str(err.value)
    assert "guide/index.html" in content(dest)  # nothing deleted
    assert dest.ops("delete_many") == []
    assert dest.objects["docs/.mkdocs-s3-crossaccount/manifest.json"].body == manifest_before
    assert json.loads(dest.objects[f"docs/{LOCK_NAME}"].body)["identity"] == "the-other-publisher"


def test_the_check_before_deletes_costs_one_conditional_put(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE)
    dest = MemoryDestination(prefix="docs")
    publish_mem(dest, site, max_delete_share=1)
    (site / "guide" / "index.html").unlink()
    dest.calls.clear()
    publish_mem(dest, site, max_delete_share=1)
    lock_puts = dest.ops("put").count(f"docs/{LOCK_NAME}")
    # take it, confirm before deletes, confirm before the manifest (the probe ran in the first publish)
    assert lock_puts == 3
    assert dest.ops("delete") == [f"docs/{LOCK_NAME}"]


class TakenDuringUploads(MemoryDestination):
    take_over = False

    def upload_many(self, uploads, on_done):  # type: ignore[no-untyped-def]
        if self.take_over:
            self.put(LOCK_NAME, b'{"identity": "the-other-publisher"}', {})
        return super().upload_many(uploads, on_done)


def test_confirm_without_a_lock_is_free() -> None:
    confirm(None, "deleting anything")  # lock: false, or a server that cannot lock


# --- item 8: a corrupt lock ages like any other ----------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b""])
def test_a_corrupt_lock_expires_by_its_last_modified(body: bytes, tmp_path: Path) -> None:
    dest = stale_lock(body)
    got = acquire(dest, timeout=60)
    assert got is not None and got.took_over
    release(got)


def test_a_fresh_corrupt_lock_refuses_and_says_when_it_expires() -> None:
    dest = MemoryDestination(prefix="docs")
    dest.put(LOCK_NAME, b"{not json", {})
    with pytest.raises(PublishError) as err:
        acquire(dest, timeout=60)
    assert "not readable JSON" in str(err.value)
    assert "expires 60 s (lock_timeout) after it was last written" in str(err.value)


# --- item 4: servers that ignore If-None-Match -----------------------------------------------


def test_a_server_that_ignores_conditional_writes_is_found_and_said_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = make_site(tmp_path / "site", SITE)
    dest = MemoryDestination(prefix="docs", conditional="ignore")
    with caplog.at_level(logging.WARNING):
        result = publish_mem(dest, site)
    assert len(result.uploaded) == len(SITE)
    assert "NO PUBLISH LOCK" in caplog.text and "ignores conditional writes" in caplog.text
    assert "lock: false" in caplog.text
    assert f"docs/{LOCK_NAME}" not in dest.objects
    # the probe ran once for this server: a second publish does not probe again, but still warns
    caplog.clear()
    dest.calls.clear()
    publish_mem(dest, site)
    assert dest.ops("put").count(f"docs/{LOCK_NAME}") == 1
    assert "NO PUBLISH LOCK" in caplog.text


def test_the_probe_is_one_put_once_per_server(tmp_path: Path) -> None:
    dest = MemoryDestination(prefix="docs")
    first = acquire(dest, timeout=60)
    assert first is not None
    release(first)
    assert dest.ops("put") == [f"docs/{LOCK_NAME}", f"docs/{LOCK_NAME}"]  # the lock, then the probe (412)
    dest.calls.clear()
    second = acquire(dest, timeout=60)
    assert second is not None
    release(second)
    assert dest.ops("put") == [f"docs/{LOCK_NAME}"]
