"""Pytest fixtures for the support helpers. Import them into a ``conftest.py``::

    from tests.support.fixtures import aws_env, browser, fault_proxy, moto, moto_process  # noqa: F401

* ``moto_process`` (session): one ``moto_server`` child process on 127.0.0.1.
* ``moto`` (function): that server with auth checks off and all state reset.
* ``moto_cloudfront`` (module): another moto process, extended for CloudFront Functions
  (:mod:`.moto_cloudfront_ext`).
* ``aws_env`` (function): a process environment that cannot leak into boto3
  (no profile, no config/credential files, no proxy variables, no endpoint
  overrides).
* ``fault_proxy`` (function): a started :class:`FaultProxy` in front of ``moto``.
* ``browser`` (session): headless Chromium; the test is skipped with the
  reason only if ``/usr/bin/chromium`` is missing (a missing chromedriver or
  selenium next to an installed Chromium is an error, not a skip).

The names do not clash with the project's own ``moto_server``/``accounts``
fixtures, so both sets can live in one conftest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .browser import CHROMIUM, Browser, browser_unavailable_reason, start_browser
from .faultproxy import FaultProxy
from .motoserver import MotoServer, start_moto_server

_ENV_TO_DROP = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "MOTO_ACCOUNT_ID",
)


def isolate_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain-function form of the ``aws_env`` fixture."""
    for name in _ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def moto_process() -> Iterator[MotoServer]:
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def moto_cloudfront() -> Iterator[MotoServer]:
    server = start_moto_server(module="tests.support.moto_cloudfront_ext")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto(moto_process: MotoServer) -> MotoServer:
    if not moto_process.is_running():
        pytest.fail(f"moto server died; log tail:\n{moto_process.log_tail()}")
    moto_process.disable_auth()
    moto_process.reset()
    return moto_process


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_aws_env(monkeypatch)


@pytest.fixture
def fault_proxy(moto: MotoServer) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto.url).start()
    try:
        yield proxy
    finally:
        proxy.close()


def skip_without_browser() -> None:
    """``pytest.skip`` with the reason when Chromium is not installed here."""
    if not CHROMIUM.exists():
        pytest.skip(browser_unavailable_reason() or f"{CHROMIUM} missing")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    skip_without_browser()
    instance = start_browser()
    try:
        yield instance
    finally:
        instance.quit()
