"""Issue 10 item 14: endpoint_url is an http(s) URL; prefix has no line breaks or control characters."""

from __future__ import annotations

from typing import Any

import pytest

from mkdocs_s3_crossaccount.config.reader import validate
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.hosts.options import PluginOptions

GOOD: dict[str, Any] = {"bucket": "example-docs"}

CASES = [
    ("endpoint_url", "ftp://files.example.com/", "not an http(s) URL"),
    ("endpoint_url", "s3://example-docs", "not an http(s) URL"),
    ("endpoint_url", "file:///tmp/x", "URL"),
    ("prefix", "docs\nv2", "control character"),
    ("prefix", "docs/v2\r", "control character"),
    ("prefix", "docs\tv2", "control character"),
    ("prefix", "docs\x00", "control character"),
    ("prefix", "docs\x85x", "control character"),
]


@pytest.mark.parametrize(("option", "value", "needle"), CASES)
def test_rejected_by_the_plugin(option: str, value: str, needle: str) -> None:
    opts = PluginOptions()
    opts.load_dict({**GOOD, option: value})
    errors, _ = opts.validate()
    assert [k for k, _ in errors] == [option]
    assert needle in str(errors[0][1])


@pytest.mark.parametrize(("option", "value", "needle"), CASES)
def test_rejected_by_the_cli_reader(option: str, value: str, needle: str) -> None:
    with pytest.raises(PublishError) as info:
        validate({**GOOD, option: value}, "mkdocs.yml")
    assert f"Option '{option}': " in str(info.value) and needle in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000", "https://s3.eu-west-1.amazonaws.com", "HTTPS://x.example"])
def test_http_urls_are_fine(url: str) -> None:
    _, settings = validate({**GOOD, "endpoint_url": url, "prefix": "docs/é v2"}, "mkdocs.yml")
    assert settings.endpoint_url and settings.prefix == "docs/é v2"
