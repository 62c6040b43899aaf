"""Fixtures for testing the test infrastructure itself (tests/support)."""

from __future__ import annotations

import pytest

from tests.support.fixtures import aws_env, browser, fault_proxy, moto, moto_process

__all__ = ["aws_env", "browser", "fault_proxy", "moto", "moto_process"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium")
