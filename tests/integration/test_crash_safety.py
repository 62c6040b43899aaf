"""Crash safety against real servers (issue 10): incomplete uploads of a killed publish (16),
SIGTERM (9), throttling (10), a file rewritten while it uploads (20)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import PublishError, Settings, publish
from tests.conftest import (
    BUCKET,
    DEV_KEY,
    DEV_SECRET,
    EXTERNAL_ID,
    ROLE_ARN,
    Accounts,
    bucket_objects,
    make_site,
    site_keys,
)
from tests.support.faultproxy import Act, Delay, FaultProxy, Match, slow_down

pytestmark = pytest.mark.integration


def settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {"bucket": BUCKET, "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID, "prefix": "docs"}
    base.update(kw)
    return Settings(**base)


def _uploads(s3: Any) -> set[str]:
    return {u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", ())}


def test_incomplete_uploads_of_a_killed_publish_are_aborted_by_the_next(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    # what a publish killed during a multipart upload leaves (moto dates every upload 2010: all are stale)
    docs_bucket.create_multipart_upload(Bucket=BUCKET, Key="docs/assets/video.mp4")
    docs_bucket.create_multipart_upload(Bucket=BUCKET, Key="docs/v2/big.bin")  # a nested publisher's
    docs_bucket.put_object(Bucket=BUCKET, Key="docs/v2/.mkdocs-s3-crossaccount/manifest.json", Body=b"{}")
    docs_bucket.create_multipart_upload(Bucket=BUCKET, Key="docs-old/big.bin")  # outside the prefix
    assert _uploads(docs_bucket) == {"docs/assets/video.mp4", "docs/v2/big.bin", "docs-old/big.bin"}
    site = make_site(tmp_path / "site", {"index.html": b"home"})
    publish(site, settings())
    assert _uploads(docs_bucket) == {"docs/v2/big.bin", "docs-old/big.bin"}


def test_a_file_rewritten_while_it_uploads_is_failed_not_recorded(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"home", "page.html": b"page v1", "gone.html": b"x"})
    publish(site, settings())
    manifest_key = "docs/.mkdocs-s3-crossaccount/manifest.json"
    manifest = docs_bucket.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read()
    (site / "page.html").write_bytes(b"page v2")
    (site / "gone.html").unlink()

    def rewrite() -> None:  # the PUT is on the wire (either transfer path): the build writes again
        (site / "page.html").write_bytes(b"page v3, written while v2 was uploading")

    with FaultProxy(accounts.url) as proxy:
        rule = proxy.add_fault(Act(rewrite), Match(method="PUT", path=rf"^/{BUCKET}/docs/page\.html$"), first=1)
        with pytest.raises(PublishError, match=r"page\.html changed while it was being published"):
            publish(site, settings(max_delete_share=1, endpoint_url=proxy.url))
        assert rule.injected == 1
    assert "docs/gone.html" in bucket_objects(docs_bucket)  # nothing deleted
    assert docs_bucket.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read() == manifest
    again = publish(site, settings(max_delete_share=1))  # the rerun fixes it
    assert [k for k, _, _ in again.uploaded] == ["docs/page.html"]
    body = docs_bucket.get_object(Bucket=BUCKET, Key="docs/page.html")["Body"].read()
    assert body == b"page v3, written while v2 was uploading"


# --- item 10: throttling ------------------------------------------------------------------

PAGE_PUT = Match(method="PUT", kind="object", path=rf"^/{BUCKET}/docs/(?!\.mkdocs-s3-crossaccount)")


def test_a_103_file_publish_succeeds_through_30_percent_slowdown_and_counts_the_retries(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, caplog: pytest.LogCaptureFixture
) -> None:
    files = {"index.html": b"home", **{f"p/{i:03d}.html": f"page {i}".encode() for i in range(102)}}
    site = make_site(tmp_path / "site", files)
    with FaultProxy(accounts.url) as proxy:
        rule = proxy.add_fault(slow_down(), PAGE_PUT, probability=0.3, seed=10)
        with caplog.at_level(logging.INFO):
            result = publish(site, settings(endpoint_url=proxy.url))
        injected = rule.injected
    assert len(result.uploaded) == 103
    assert injected > 20  # about 30% of 103+ PUTs were throttled
    assert result.retries == injected  # every SlowDown was retried once, and counted
    assert f"({injected} request(s) retried: throttling or transient faults)" in caplog.text
    assert site_keys(docs_bucket) == {f"docs/{k}" for k in files}


def test_aws_max_attempts_is_honoured(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"home"})
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with FaultProxy(accounts.url) as proxy:
        proxy.add_fault(slow_down(), PAGE_PUT, first=1)
        with pytest.raises(PublishError, match="SlowDown"):
            publish(site, settings(endpoint_url=proxy.url))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "zero")
    with pytest.raises(PublishError, match="AWS_MAX_ATTEMPTS is 'zero'"):
        publish(site, settings())


def test_the_profiles_retry_settings_are_honoured(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "aws-config"
    config.write_text(
        f"[profile ci]\nretry_mode = standard\nmax_attempts = 1\n"
        f"aws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    site = make_site(tmp_path / "site", {"index.html": b"home"})
    with FaultProxy(accounts.url) as proxy:
        proxy.add_fault(slow_down(), PAGE_PUT, first=1)
        with pytest.raises(PublishError, match="SlowDown"):
            publish(site, settings(endpoint_url=proxy.url, profile="ci"))
        retried = publish(site, settings(endpoint_url=proxy.url))  # no profile: our default retries
    assert retried.retries == 0 and len(retried.uploaded) == 1


# --- item 9: SIGTERM --------------------------------------------------------------------

LOCK_KEY = "docs/.mkdocs-s3-crossaccount/lock.json"
MANIFEST_KEY = "docs/.mkdocs-s3-crossaccount/manifest.json"


def _terminate_mid_upload(
    argv: list[str], cwd: Path, env: dict[str, str], proxy: FaultProxy, s3: Any
) -> tuple[int, str]:
    """Start the publisher, SIGTERM it once its first (slowed) page PUT is on the wire and its lock is taken."""
    rule = proxy.add_fault(Delay(1.5), PAGE_PUT)
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (rule.seen >= 1 and LOCK_KEY in bucket_objects(s3)):
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the publisher ended before it could be terminated"
        assert LOCK_KEY in bucket_objects(s3)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out


def _job_env(accounts: Accounts, proxy: FaultProxy, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCS_", "CI_"))}
    env.update(accounts.env())
    env.update(
        {
            "AWS_ENDPOINT_URL": proxy.url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "DOCS_EXTERNAL_ID": EXTERNAL_ID,
        }
    )
    env.update(extra)
    return env


def test_sigterm_stops_a_cli_publish_releases_the_lock_and_exits_143(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"home", **{f"p/{i}.html": b"page" for i in range(40)}})
    argv = [sys.executable, "-m", "mkdocs_s3_crossaccount", "publish", str(site), "--bucket", BUCKET]
    argv += ["--prefix", "docs", "--role-arn", ROLE_ARN, "--concurrency", "2"]
    with FaultProxy(accounts.url) as proxy:
        code, out = _terminate_mid_upload(argv, tmp_path, _job_env(accounts, proxy), proxy, docs_bucket)
    assert code == 143, out
    assert "Terminated (SIGTERM): the publish stopped and released its lock." in out
    assert "Traceback" not in out
    objects = bucket_objects(docs_bucket)
    assert LOCK_KEY not in objects
    assert MANIFEST_KEY not in objects
    assert len([k for k in objects if k.startswith("docs/p/")]) < 40  # it stopped, it did not finish


def test_sigterm_stops_a_publish_under_mkdocs_build_and_releases_the_lock(
    site_copy: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    exe = Path(sys.executable).with_name("mkdocs")
    argv = [str(exe), "build"]
    with FaultProxy(accounts.url) as proxy:
        env = _job_env(accounts, proxy, DOCS_PUBLISH="true", DOCS_PREFIX="docs")
        code, out = _terminate_mid_upload(argv, site_copy, env, proxy, docs_bucket)
    assert code == 143, out
    assert "terminated (SIGTERM): the publish stopped and released its lock" in out
    objects = bucket_objects(docs_bucket)
    assert LOCK_KEY not in objects
    assert MANIFEST_KEY not in objects
