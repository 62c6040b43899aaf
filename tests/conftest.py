"""Shared fixtures: a real moto server process on 127.0.0.1 with two simulated accounts.

The development account (123456789012) is whoever signs with any unknown key; the role
in the documents account (222222222222) is reached through STS AssumeRole, and its
credentials act there, exactly as in AWS.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.fixtures import moto_cloudfront  # noqa: F401  (moto extended for CloudFront Functions)
from tests.support.motoserver import Credentials, MotoServer, assume_role, make_client, start_moto_server

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = ROOT / "example-site"

DEV_ACCOUNT = "123456789012"
DOCS_ACCOUNT = "222222222222"
ROLE_ARN = f"arn:aws:iam::{DOCS_ACCOUNT}:role/docs-publisher"
BUCKET = "example-docs"
EXTERNAL_ID = "example-external-id"
# Obviously fake development-account keys (moto accepts any).
DEV_KEY = "testing-dev-access-key"
DEV_SECRET = "testing-dev-secret-key-not-real"
DEV = Credentials(DEV_KEY, DEV_SECRET)


# The upload path every publish in the suite uses: `pytest --transfer crt|botocore` (or the same
# environment variable) forces it for the tests and for the CLI/mkdocs processes they start;
# unset, each publish's `transfer` option decides (auto by default).
TRANSFER_ENV = "MKDOCS_S3_CROSSACCOUNT_TRANSFER"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--transfer",
        choices=("auto", "crt", "botocore"),
        default=None,
        help=f"force the upload path of every publish (sets {TRANSFER_ENV})",
    )


def pytest_configure(config: pytest.Config) -> None:
    forced = config.getoption("--transfer", default=None)
    if forced and forced != "auto":
        os.environ[TRANSFER_ENV] = forced


def pytest_report_header(config: pytest.Config) -> str:
    return f"transfer: {os.environ.get(TRANSFER_ENV) or 'as configured (default auto)'}"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Accounts:
    """Clients for both accounts against one moto server."""

    url: str

    def env(self) -> dict[str, str]:
        """Environment of a CI job holding only development-account keys."""
        return {
            "AWS_ACCESS_KEY_ID": DEV_KEY,
            "AWS_SECRET_ACCESS_KEY": DEV_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.url,
        }

    def dev_client(self, service: str) -> Any:
        return make_client(service, self.url, DEV)

    def docs_client(self, service: str) -> Any:
        """A client acting in the documents account (through the role)."""
        return make_client(service, self.url, assume_role(self.url, ROLE_ARN, credentials=DEV))


@pytest.fixture
def accounts(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Accounts:
    """A reset moto server; the process environment is the CI job's (dev keys only)."""
    moto_server.reset()
    acc = Accounts(moto_server.url)
    stray = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS", "SOURCE_DATE_EPOCH")
    for name in stray:
        monkeypatch.delenv(name, raising=False)
    for name, value in acc.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return acc


@pytest.fixture
def docs_bucket(accounts: Accounts) -> Any:
    """The docs bucket, created in the documents account; returns a docs-account S3 client."""
    s3 = accounts.docs_client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return s3


def bucket_objects(
    s3: Any, bucket: str = BUCKET, prefix: str = "", *, records: bool = False
) -> dict[str, dict[str, Any]]:
    """Every object under ``prefix``; deploy records (``.mkdocs-s3-crossaccount/deploys/``, the history
    that `history` and `rollback` read) only with ``records``."""
    out: dict[str, dict[str, Any]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            if records or "/.mkdocs-s3-crossaccount/deploys/" not in "/" + item["Key"]:
                out[item["Key"]] = item
    return out


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """A private copy of example-site (sources only) to edit and build."""
    dest = tmp_path / "example-site"
    shutil.copytree(EXAMPLE_SITE, dest, ignore=shutil.ignore_patterns("site"))
    return dest


def site_keys(s3: Any, bucket: str = BUCKET, prefix: str = "") -> set[str]:
    """Keys of site content: the publisher's own folder (manifest, lock) left out."""
    return {k for k in bucket_objects(s3, bucket, prefix) if "/.mkdocs-s3-crossaccount/" not in f"/{k}"}


def make_site(root: Path, files: dict[str, bytes]) -> Path:
    """Write a built site: relative path -> bytes."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root
