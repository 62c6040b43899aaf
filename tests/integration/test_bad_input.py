"""Bad input: one clear message with the guidance, no traceback, nothing written.

Each case runs the real front door (`mkdocs build` or the CLI) as a subprocess against
a moto server, then checks the bucket is untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import BUCKET, EXTERNAL_ID, ROLE_ARN, Accounts, bucket_objects

pytestmark = pytest.mark.integration

GOOD: dict[str, Any] = {
    "enabled": True,
    "bucket": BUCKET,
    "role_arn": ROLE_ARN,
    "external_id": EXTERNAL_ID,
}


def project(tmp_path: Path, block: dict[str, Any] | str) -> Path:
    """A minimal MkDocs project whose plugin block is ``block`` (a dict, or raw YAML)."""
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "index.md").write_text("# Home\n")
    if isinstance(block, str):
        plugin_yaml = block
    else:
        plugin_yaml = yaml.safe_dump({"plugins": [{"s3-crossaccount": block}]}, allow_unicode=True)
    (tmp_path / "mkdocs.yml").write_text("site_name: Bad input\n" + plugin_yaml)
    return tmp_path


def run(args: list[str], cwd: Path, accounts: Accounts) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCS_"))}
    env.update(accounts.env())
    env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def mkdocs(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("mkdocs")), *args]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mkdocs_s3_crossaccount", *args]


CONFIG_CASES = [
    ("arn-11-digits", {"role_arn": "arn:aws:iam::22222222222:role/docs-publisher"}, ["role_arn", "12 digits"]),
    ("arn-partition", {"role_arn": "arn:aws-mars:iam::222222222222:role/docs"}, ["role_arn", "partition"]),
    ("arn-user", {"role_arn": "arn:aws:iam::222222222222:user/ci-docs"}, ["role_arn", "user ARN"]),
    ("arn-session", {"role_arn": "arn:aws:sts::222222222222:assumed-role/docs/s"}, ["role_arn", "IAM role ARN"]),
    ("arn-bare-name", {"role_arn": "docs-publisher"}, ["role_arn", "arn:aws:iam::<12-digit account>:role/<name>"]),
    ("bucket-upper", {"bucket": "Example_Docs"}, ["bucket", "lowercase letters"]),
    ("bucket-url", {"bucket": "s3://example-docs"}, ["bucket", "without s3://"]),
    ("bucket-path", {"bucket": "example-docs/docs"}, ["bucket", "put the path in 'prefix'"]),
    ("bucket-short", {"bucket": "ab"}, ["bucket", "3 to 63"]),
    ("bucket-ip", {"bucket": "10.1.2.3"}, ["bucket", "IP address"]),
    ("prefix-slash", {"prefix": "/docs"}, ["prefix", "no leading slash"]),
    ("prefix-dotdot", {"prefix": "docs/../etc"}, ["prefix", "'..'"]),
    ("session-chars", {"role_session_name": "my session"}, ["role_session_name", "no spaces"]),
    ("session-long", {"role_session_name": "s" * 65}, ["role_session_name", "2 to 64"]),
    ("duration-low", {"duration_seconds": 600}, ["duration_seconds", "900–43200"]),
    ("duration-high", {"duration_seconds": 86400}, ["duration_seconds", "900–43200"]),
    ("max-deletes-negative", {"max_deletes": -5}, ["max_deletes", "negative"]),
    ("share-over-one", {"max_delete_share": 2}, ["max_delete_share", "between 0 and 1"]),
    ("concurrency-zero", {"concurrency": 0}, ["concurrency", "between 1 and 64"]),
    ("external-id-short", {"external_id": "x"}, ["external_id", "2 to 1224"]),
    ("owner-not-account", {"expected_bucket_owner": "docs-account"}, ["expected_bucket_owner", "12-digit"]),
    ("region-name", {"region": "Frankfurt"}, ["region", "eu-west-1"]),
    ("glob-unclosed", {"content_types": {"img/[ab.png": "image/png"}}, ["content_types", "unclosed"]),
    ("type-not-media", {"content_types": {"*.x": "html"}}, ["content_types", "media type"]),
    ("publish-on-typo", {"publish_on": ["biuld"]}, ["publish_on", "biuld"]),
    ("enabled-not-bool", {"enabled": "yes please"}, ["enabled", "bool"]),
    # issue 10 item 13: booleans are not numbers; lock_timeout is positive
    ("share-bool", {"max_delete_share": True}, ["max_delete_share", "true/false is not a number"]),
    ("lock-timeout-false", {"lock_timeout": False}, ["lock_timeout", "true/false is not a number"]),
    ("lock-timeout-zero", {"lock_timeout": 0}, ["lock_timeout", "not a positive number of seconds"]),
    # issue 10 item 14: endpoint_url is http(s); no control characters in prefix
    ("endpoint-ftp", {"endpoint_url": "ftp://files.example.com/"}, ["endpoint_url", "not an http(s) URL"]),
    ("prefix-newline", {"prefix": "docs\nv2"}, ["prefix", "control character"]),
]


@pytest.mark.parametrize(("case", "change", "needles"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_config_errors_stop_mkdocs_at_load(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, case: str, change: dict[str, Any], needles: list[str]
) -> None:
    proj = project(tmp_path, {**GOOD, **change})
    result = run(mkdocs("build"), proj, accounts)
    assert result.returncode == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)
    assert "Traceback" not in result.stderr
    assert not (proj / "site").exists(), "the build must stop at config load"
    assert bucket_objects(docs_bucket) == {}
    if "external_id" in change:
        assert str(change["external_id"]) not in result.stderr.replace("external_id", "")


def test_env_variable_unset_for_a_required_option(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    proj = project(
        tmp_path,
        "plugins:\n  - s3-crossaccount:\n      enabled: true\n      bucket: !ENV DOCS_BUCKET_UNSET\n",
    )
    result = run(mkdocs("build"), proj, accounts)
    assert result.returncode == 1
    assert "bucket" in result.stderr and "Required configuration not provided" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["null", "", "~"])
def test_env_prefix_that_gives_nothing_stops_mkdocs(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10 item 12: DOCS_PREFIX=null (or empty) never publishes to the bucket root."""
    block = {k: v for k, v in GOOD.items()}
    lines = "".join(f"      {k}: {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in block.items())
    proj = project(tmp_path, f"plugins:\n  - s3-crossaccount:\n{lines}      prefix: !ENV DOCS_PREFIX\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCS_"))}
    env.update(accounts.env())
    env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "DOCS_PREFIX": value})
    result = subprocess.run(mkdocs("build"), cwd=proj, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "option 'prefix': comes from !ENV ($DOCS_PREFIX), which is empty or null" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (proj / "site").exists()
    assert bucket_objects(docs_bucket) == {}
    result = subprocess.run(cli("publish", "site"), cwd=proj, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Option 'prefix': comes from !ENV ($DOCS_PREFIX), which is empty or null" in result.stderr
    assert bucket_objects(docs_bucket) == {}


def test_unknown_option_fails_under_strict(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    proj = project(tmp_path, {**GOOD, "bukcet": "typo"})
    result = run(mkdocs("build", "--strict"), proj, accounts)
    assert result.returncode == 1
    assert "bukcet" in result.stderr and "Unrecognised configuration name" in result.stderr
    assert "Traceback" not in result.stderr
    assert bucket_objects(docs_bucket) == {}


def test_missing_site_dir(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    proj = project(tmp_path, GOOD)
    result = run(cli("publish", str(proj / "nope")), proj, accounts)
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "mkdocs build" in result.stderr
    assert "Traceback" not in result.stderr


def test_site_without_index_while_deleting(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    docs_bucket.put_object(Bucket=BUCKET, Key="index.html", Body=b"live site")
    proj = project(tmp_path, GOOD)
    (proj / "site" / "assets").mkdir(parents=True)
    (proj / "site" / "assets" / "app.css").write_text("body{}")
    result = run(cli("publish"), proj, accounts)
    assert result.returncode == 1
    assert "no index.html" in result.stderr and "--no-delete" in result.stderr
    assert "Traceback" not in result.stderr
    assert set(bucket_objects(docs_bucket)) == {"index.html"}


def test_symlink_out_of_the_site_is_never_followed(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    proj = project(tmp_path, GOOD)
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("do not publish")
    (proj / "site").mkdir()
    (proj / "site" / "index.html").write_text("<html/>")
    (proj / "site" / "leak.txt").symlink_to(secret)
    result = run(cli("publish"), proj, accounts)
    assert result.returncode == 1
    assert "outside the site dir" in result.stderr
    assert "Traceback" not in result.stderr
    assert bucket_objects(docs_bucket) == {}


def test_missing_bucket_via_cli(tmp_path: Path, accounts: Accounts) -> None:
    proj = project(tmp_path, {**GOOD, "bucket": "no-such-docs-bucket"})
    (proj / "site").mkdir()
    (proj / "site" / "index.html").write_text("<html/>")
    result = run(cli("publish"), proj, accounts)
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "create-bucket" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_credentials_at_all(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    proj = project(tmp_path, GOOD)
    (proj / "site").mkdir()
    (proj / "site" / "index.html").write_text("<html/>")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCS_"))}
    env.update(
        {
            "AWS_ENDPOINT_URL": accounts.url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    result = subprocess.run(cli("publish"), cwd=proj, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "No usable AWS credentials" in result.stderr and "AWS_ACCESS_KEY_ID" in result.stderr
    assert "Traceback" not in result.stderr
    assert bucket_objects(docs_bucket) == {}
