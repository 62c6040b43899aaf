"""A `mkdocs build` prepares its publish in a second process while it builds (``prepare_during_build``).

A MkDocs hook in the built project, running in ``on_post_build`` before our plugin, watches the
bucket through the role: with the option on (the default) the publish's lock is already there
while the build is still running; a build that then fails, or is not published, leaves the
bucket as it was (the lock released); with the option off nothing happens before the build ends.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUCKET, EXTERNAL_ID, ROLE_ARN, Accounts, bucket_objects
from tests.integration.test_mkdocs_e2e import build, host_cmd, job_env, summary_of

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

LOCK_KEY = ".mkdocs-s3-crossaccount/lock.json"

HOOK = f'''
import os, time
import boto3

def _s3():
    creds = boto3.client("sts").assume_role(
        RoleArn="{ROLE_ARN}", RoleSessionName="watcher", ExternalId="{EXTERNAL_ID}"
    )["Credentials"]
    return boto3.client(
        "s3",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )

def on_post_build(config, **kwargs):
    s3 = _s3()
    deadline = time.monotonic() + float(os.environ["WATCH_SECONDS"])
    seen = False
    while not seen and time.monotonic() < deadline:
        seen = any(o["Key"] == "{LOCK_KEY}" for o in s3.list_objects_v2(Bucket="{BUCKET}").get("Contents", []))
        time.sleep(0.1)
    with open(os.environ["WATCH_REPORT"], "w") as fh:
        fh.write("lock held during the build" if seen else "no lock during the build")
    if os.environ.get("WATCH_FAIL"):
        raise RuntimeError("the build breaks after the lock was seen")
    if os.environ.get("WATCH_HANG"):
        time.sleep(600)  # the test kills the build here
'''


def _with_watcher(site: Path, extra_options: str = "") -> None:
    (site / "watch_hook.py").write_text(HOOK, encoding="utf-8")
    yml = site / "mkdocs.yml"
    text = yml.read_text(encoding="utf-8") + "\nhooks:\n  - watch_hook.py\n"
    if extra_options:
        text = text.replace("      delete: true\n", f"      delete: true\n{extra_options}")
    yml.write_text(text, encoding="utf-8")


def test_the_lock_is_taken_while_the_build_runs_and_the_publish_completes(
    site_copy: Path, tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    _with_watcher(site_copy)
    report = tmp_path / "watch.txt"
    result = build(site_copy, job_env(accounts, WATCH_SECONDS="30", WATCH_REPORT=str(report)))
    assert result.returncode == 0, result.stderr
    assert report.read_text() == "lock held during the build"
    assert "uploaded " in summary_of(result.stderr)
    # the child's records come out through the build's log, once, in order, after the build's own
    out = result.stderr
    assert out.count("Assumed arn:aws:sts::222222222222:assumed-role/docs-publisher/") == 1
    assert out.index("Assumed arn:") < out.index("Published to s3://")
    objects = bucket_objects(docs_bucket)
    assert LOCK_KEY not in objects and "index.html" in objects


def test_a_build_that_fails_after_the_lock_was_taken_leaves_the_bucket_as_it_was(
    site_copy: Path, tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    _with_watcher(site_copy)
    report = tmp_path / "watch.txt"
    env = job_env(accounts, WATCH_SECONDS="30", WATCH_REPORT=str(report), WATCH_FAIL="1")
    result = build(site_copy, env)
    assert result.returncode != 0
    assert report.read_text() == "lock held during the build"
    assert "the build breaks after the lock was seen" in result.stderr
    assert "Published to" not in result.stderr
    assert bucket_objects(docs_bucket) == {}  # no page, no manifest, and the lock released


def test_a_strict_build_with_warnings_releases_the_lock_it_took(
    site_copy: Path, tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    _with_watcher(site_copy)
    page = site_copy / "docs/index.md"
    page.write_text(page.read_text() + "\n[broken](no-such-page.md)\n")
    report = tmp_path / "watch.txt"
    result = build(site_copy, job_env(accounts, WATCH_SECONDS="30", WATCH_REPORT=str(report)), "--strict")
    assert result.returncode != 0
    assert report.read_text() == "lock held during the build"
    assert "not publishing: --strict build with" in result.stderr
    # what the child did before it was stopped shows at debug level only (the build runs with -v)
    assert "DEBUG   -  s3-crossaccount (not publishing): Assumed arn:" in result.stderr
    assert "INFO    -  Assumed arn:" not in result.stderr
    assert bucket_objects(docs_bucket) == {}


def test_prepare_during_build_false_publishes_after_the_build_in_the_mkdocs_process(
    site_copy: Path, tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    _with_watcher(site_copy, "      prepare_during_build: false\n")
    report = tmp_path / "watch.txt"
    result = build(site_copy, job_env(accounts, WATCH_SECONDS="3", WATCH_REPORT=str(report)))
    assert result.returncode == 0, result.stderr
    assert report.read_text() == "no lock during the build"
    assert "uploaded " in summary_of(result.stderr)
    assert LOCK_KEY not in bucket_objects(docs_bucket)


def test_a_killed_build_stops_the_publishing_process_which_releases_the_lock(
    site_copy: Path, tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the child learns of its parent's death through PR_SET_PDEATHSIG (Linux)")
    _with_watcher(site_copy)
    report = tmp_path / "watch.txt"
    env = job_env(accounts, WATCH_SECONDS="30", WATCH_REPORT=str(report), WATCH_HANG="1")
    proc = subprocess.Popen(host_cmd("build"), cwd=site_copy, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not report.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert report.exists() and report.read_text() == "lock held during the build"
        proc.kill()  # kill -9: no handler runs in the build process
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 30
    while LOCK_KEY in bucket_objects(docs_bucket) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(bucket_objects(docs_bucket)) == []  # the child unwound: lock released, nothing published
