"""Options are validated when mkdocs.yml loads; each message names the option and the rule."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mkdocs_s3_crossaccount.config.settings import Settings, default_session_name, normalize_prefix
from mkdocs_s3_crossaccount.core.errors import SettingsError
from mkdocs_s3_crossaccount.hosts.options import PluginOptions

GOOD: dict[str, Any] = {"bucket": "example-docs", "role_arn": "arn:aws:iam::222222222222:role/docs-publisher"}


def errors_of(block: dict[str, Any]) -> dict[str, str]:
    opts = PluginOptions()
    opts.load_dict(block)
    errors, _warnings = opts.validate()
    return {k: str(e) for k, e in errors}


def test_good_config_and_defaults() -> None:
    opts = PluginOptions()
    opts.load_dict(dict(GOOD))
    errors, warnings = opts.validate()
    assert errors == [] and warnings == []
    s = opts.to_settings()
    assert opts.enabled is False and opts.publish_on == ["build"] and opts.delete is True
    assert s.role_account == "222222222222" and s.duration_seconds == 3600 and s.concurrency == 16


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("bucket", None, "Required"),
        ("bucket", "Example_Docs", "not a valid S3 bucket name"),
        ("bucket", "ab", "3 to 63"),
        ("bucket", "s3://example-docs", "without s3://"),
        ("bucket", "example-docs/docs", "put the path in 'prefix'"),
        ("bucket", "192.168.1.1", "IP address"),
        ("bucket", "a..b", "adjacent periods"),
        ("role_arn", "arn:aws:iam::22222222222:role/docs", "12 digits"),
        ("role_arn", "arn:aws:iam::222222222222:user/ci", "user ARN"),
        ("role_arn", "arn:aws:sts::222222222222:assumed-role/docs/x", "assumed-role session"),
        ("role_arn", "arn:azure:iam::222222222222:role/docs", "partition"),
        ("role_arn", "docs-publisher", "not an IAM role ARN"),
        ("prefix", "/docs", "starts with '/'"),
        ("prefix", "docs/../x", "'..'"),
        ("prefix", "a//b", "empty"),
        ("role_session_name", "has space", "session name"),
        ("role_session_name", "x", "2 to 64"),
        ("role_session_name", "y" * 65, "2 to 64"),
        ("duration_seconds", 899, "900–43200"),
        ("duration_seconds", 43201, "900–43200"),
        ("duration_seconds", "3600", "Expected type"),
        ("max_deletes", -1, "negative"),
        ("max_delete_share", 1.5, "between 0 and 1"),
        ("concurrency", 0, "between 1 and 64"),
        ("external_id", "x", "2 to 1224"),
        ("expected_bucket_owner", "12345", "12-digit"),
        ("region", "Frankfurt", "region name"),
        ("content_types", {"a[b": "text/plain"}, "unclosed"),
        ("content_types", {"*.x": "not a type"}, "media type"),
        ("publish_on", ["deploy"], "deploy"),
        ("endpoint_url", "not a url", "URL"),
    ],
)
def test_bad_values_name_the_rule(option: str, value: Any, needle: str) -> None:
    block = dict(GOOD)
    block[option] = value
    errors = errors_of(block)
    assert option in errors, errors
    assert needle in errors[option]


def test_external_id_value_is_not_echoed() -> None:
    errors = errors_of({**GOOD, "external_id": "s" + "\n" * 3})
    assert "\n\n" not in errors["external_id"]


def test_unknown_option_is_a_warning_mkdocs_strict_turns_into_an_error() -> None:
    opts = PluginOptions()
    opts.load_dict({**GOOD, "buckett": "x"})
    _errors, warnings = opts.validate()
    assert [k for k, _ in warnings] == ["buckett"]


def test_settings_rules_apply_outside_mkdocs_too() -> None:
    with pytest.raises(SettingsError) as info:
        Settings(bucket="ok-bucket", duration_seconds=10)
    assert info.value.option == "duration_seconds"
    assert normalize_prefix("docs/v2/") == "docs/v2"
    assert Settings(bucket="ok-bucket", prefix="docs/").destination == "s3://ok-bucket/docs/"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CI_JOB_ID": "987", "CI_PROJECT_PATH_SLUG": "group-docs"}, "mkdocs-group-docs-job-987"),
        ({"CI_JOB_ID": "5", "CI_PROJECT_NAME": "my docs/äö"}, "mkdocs-my-docs-job-5"),
        ({"USER": "alice"}, "mkdocs-alice"),
        ({}, "mkdocs-local"),
        ({"CI_JOB_ID": "123456", "CI_PROJECT_PATH_SLUG": "x" * 100}, None),
    ],
)
def test_default_session_name(env: dict[str, str], expected: str | None) -> None:
    name = default_session_name(env)
    if expected is not None:
        assert name == expected
    assert re.fullmatch(r"[A-Za-z0-9_+=,.@-]{2,64}", name), name
    if "CI_JOB_ID" in env:
        assert name.endswith(env["CI_JOB_ID"])
