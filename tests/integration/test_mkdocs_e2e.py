"""End to end: `mkdocs build` (a subprocess, as in CI) on example-site, publishing to moto."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount.core.content_types import guess
from tests.conftest import BUCKET, EXTERNAL_ID, Accounts, bucket_objects
from tests.support.motoserver import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

HOST = os.environ.get("MKDOCS_HOST_COMMAND", "mkdocs")  # CI also runs these under properdocs


def host_cmd(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name(HOST)
    return [str(exe) if exe.exists() else HOST, *args]


def job_env(accounts: Accounts, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCS_", "CI_", "SOURCE_DATE"))}
    env.update(accounts.env())
    env.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "DOCS_PUBLISH": "true",
            "DOCS_EXTERNAL_ID": EXTERNAL_ID,
            # What a GitLab job has: the commit time makes the theme's build stamp stable.
            "CI_COMMIT_TIMESTAMP": "2026-11-28T12:00:00+00:00",
            "CI_JOB_ID": "4242",
            "CI_PROJECT_PATH_SLUG": "docs-example",
        }
    )
    env.update(extra)
    return env


def build(site: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        host_cmd("build", "-v", *args), cwd=site, env=env, capture_output=True, text=True, timeout=120
    )


def uploads_of(out: str) -> dict[str, str]:
    return dict(re.findall(r"upload: (.+?) \((new|content changed)\)", out))


def summary_of(out: str) -> str:
    lines = [line for line in out.splitlines() if "Published to s3://" in line]
    assert len(lines) == 1, out
    return lines[0]


def test_build_publishes_every_file_with_its_type_then_nothing(
    site_copy: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    first = build(site_copy, job_env(accounts))
    assert first.returncode == 0, first.stderr
    built = {p.relative_to(site_copy / "site").as_posix() for p in (site_copy / "site").rglob("*") if p.is_file()}
    objects = {k: v for k, v in bucket_objects(docs_bucket).items() if not k.startswith(".mkdocs-s3-crossaccount/")}
    assert set(objects) == built
    assert "guide/café-crème/index.html" in objects
    for key in objects:
        head = docs_bucket.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == guess(key), key
    out = first.stderr
    assert "Assumed arn:aws:sts::222222222222:assumed-role/docs-publisher/mkdocs-docs-example-job-4242" in out
    assert f"uploaded {len(built)} (" in summary_of(out)
    # one line per file only at DEBUG (-v); the INFO summary is a single line
    assert len(uploads_of(out)) == len(built)

    second = build(site_copy, job_env(accounts))
    assert second.returncode == 0, second.stderr
    assert "uploaded 0 (0 B)" in summary_of(second.stderr)
    assert f"unchanged {len(built)}" in summary_of(second.stderr)


def test_edit_uploads_only_what_changed_and_removal_deletes(
    site_copy: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    env = job_env(accounts)
    assert build(site_copy, env).returncode == 0
    page = site_copy / "docs/reference/api.md"
    page.write_text(page.read_text() + "\nOne more sentence.\n")
    edited = build(site_copy, env)
    assert edited.returncode == 0, edited.stderr
    assert set(uploads_of(edited.stderr)) == {"reference/api/index.html", "search/search_index.json"}

    (site_copy / "docs/getting-started.md").unlink()
    mkdocs_yml = site_copy / "mkdocs.yml"
    mkdocs_yml.write_text(mkdocs_yml.read_text().replace("  - Getting started: getting-started.md\n", ""))
    removed = build(site_copy, env)
    assert removed.returncode == 0, removed.stderr
    assert "deleted 1 " in summary_of(removed.stderr)
    assert "getting-started/index.html" not in bucket_objects(docs_bucket)


def test_disabled_by_default_publishes_nothing(site_copy: Path, accounts: Accounts, docs_bucket: Any) -> None:
    env = job_env(accounts)
    del env["DOCS_PUBLISH"]
    result = build(site_copy, env)
    assert result.returncode == 0, result.stderr
    assert "not publishing: enabled is false" in result.stderr
    assert bucket_objects(docs_bucket) == {}


def test_strict_build_with_warnings_publishes_nothing(site_copy: Path, accounts: Accounts, docs_bucket: Any) -> None:
    page = site_copy / "docs/index.md"
    page.write_text(page.read_text() + "\n[broken](no-such-page.md)\n")
    result = build(site_copy, job_env(accounts), "--strict")
    assert result.returncode != 0
    assert "not publishing: --strict build with" in result.stderr
    assert bucket_objects(docs_bucket) == {}


@pytest.mark.parametrize("extra", [[], ["--clean"]])
def test_serve_publishes_nothing(site_copy: Path, accounts: Accounts, docs_bucket: Any, extra: list[str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        host_cmd("serve", "-a", f"127.0.0.1:{port}", "--no-livereload", *extra),
        cwd=site_copy,
        env=job_env(accounts),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Serving on" in line:
                break
        # the first build has run when serve announces itself
        assert any("Serving on" in line for line in output), "".join(output)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    text = "".join(output)
    assert "not publishing" in text and "serve" in text
    assert bucket_objects(docs_bucket) == {}


def test_missing_bucket_fails_the_build_with_a_fix_and_no_traceback(site_copy: Path, accounts: Accounts) -> None:
    result = build(site_copy, job_env(accounts, DOCS_BUCKET="no-such-docs-bucket"))
    assert result.returncode == 1
    assert "Bucket 'no-such-docs-bucket' does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_stops_at_config_load(site_copy: Path, accounts: Accounts, docs_bucket: Any) -> None:
    result = build(site_copy, job_env(accounts, DOCS_ROLE_ARN="arn:aws:iam::2222:role/docs-publisher"))
    assert result.returncode == 1
    assert "role_arn" in result.stderr and "12 digits" in result.stderr
    assert "Traceback" not in result.stderr
    assert bucket_objects(docs_bucket) == {}


def test_secrets_never_reach_the_output(site_copy: Path, accounts: Accounts, docs_bucket: Any) -> None:
    result = build(site_copy, job_env(accounts))
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    assert EXTERNAL_ID not in text
    assert accounts.env()["AWS_SECRET_ACCESS_KEY"] not in text


@pytest.mark.parametrize("name", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS"])
def test_a_garbage_endpoint_variable_is_one_message_naming_it(
    site_copy: Path, accounts: Accounts, docs_bucket: Any, name: str
) -> None:
    """Issue 10 item 7: it was a traceback (ValueError: Invalid endpoint) under `mkdocs build`."""
    proc = build(site_copy, job_env(accounts, **{name: "garbage"}))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "ValueError" not in proc.stderr, proc.stderr
    assert f"The environment variable {name}='garbage' is not an endpoint URL." in proc.stderr, proc.stderr
    assert f"Set {name} to an http:// or https:// URL" in proc.stderr
    assert bucket_objects(docs_bucket) == {}
