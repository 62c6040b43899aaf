"""The `checksums` option: what the S3 client is told, per endpoint and environment (pure)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from mkdocs_s3_crossaccount import Settings, SettingsError
from mkdocs_s3_crossaccount.aws.checksums import (
    add_content_md5,
    client_checksum_config,
    delete_needs_content_md5,
    effective_checksums,
    is_aws_endpoint,
)
from mkdocs_s3_crossaccount.core.errors import PublishError

REQ = "request_checksum_calculation"
RESP = "response_checksum_validation"
BOTH_REQUIRED = {REQ: "when_required", RESP: "when_required"}
MINIO = "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "https://s3.eu-west-1.amazonaws.com",
        "https://s3.dualstack.us-east-1.amazonaws.com",
        "https://bucket.vpce-0abc.s3.us-east-1.vpce.amazonaws.com",
        "https://s3.cn-north-1.amazonaws.com.cn",
        "https://s3-fips.us-gov-west-1.amazonaws.com",
        "s3.us-east-2.amazonaws.com",
    ],
)
def test_aws_endpoints_are_recognised(url: str | None) -> None:
    assert is_aws_endpoint(url)


@pytest.mark.parametrize(
    "url",
    [
        MINIO,
        "https://abc123.r2.cloudflarestorage.com",
        "https://s3.us-west-004.backblazeb2.com",
        "https://storage.googleapis.com",
        "https://amazonaws.com.evil.example",
        "https://s3.amazonaws.com.example.org",
    ],
)
def test_other_endpoints_are_third_party(url: str) -> None:
    assert not is_aws_endpoint(url)


def test_auto_leaves_botocore_alone_against_aws() -> None:
    assert client_checksum_config("auto", None, {}) == {}
    assert client_checksum_config("auto", "https://s3.eu-west-1.amazonaws.com", {}) == {}
    assert not delete_needs_content_md5("auto", None, {})
    assert effective_checksums("auto", None, {}) == {REQ: "when_supported", RESP: "when_supported"}


def test_auto_asks_only_what_is_required_of_other_stores() -> None:
    assert client_checksum_config("auto", MINIO, {}) == BOTH_REQUIRED
    assert delete_needs_content_md5("auto", MINIO, {})


@pytest.mark.parametrize("var", ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"])
def test_auto_sees_the_endpoint_variables(var: str) -> None:
    assert client_checksum_config("auto", None, {var: MINIO}) == BOTH_REQUIRED
    assert delete_needs_content_md5("auto", None, {var: MINIO})


def test_auto_ignores_endpoint_variables_when_botocore_is_told_to() -> None:
    env = {"AWS_ENDPOINT_URL": MINIO, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert client_checksum_config("auto", None, env) == {}


def test_the_option_endpoint_wins_over_the_variables() -> None:
    env = {"AWS_ENDPOINT_URL_S3": MINIO}
    assert client_checksum_config("auto", "https://s3.eu-west-1.amazonaws.com", env) == {}


def test_under_auto_an_explicit_variable_wins_for_its_direction() -> None:
    env = {"AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_SUPPORTED"}
    # botocore reads the variable itself: we pass only the other direction
    assert client_checksum_config("auto", MINIO, env) == {RESP: "when_required"}
    assert effective_checksums("auto", MINIO, env) == {REQ: "when_supported", RESP: "when_required"}
    assert not delete_needs_content_md5("auto", MINIO, env)


def test_under_auto_a_variable_asking_for_when_required_against_aws_adds_content_md5() -> None:
    env = {"AWS_REQUEST_CHECKSUM_CALCULATION": "when_required"}
    assert client_checksum_config("auto", None, env) == {}
    assert delete_needs_content_md5("auto", None, env)


@pytest.mark.parametrize("mode", ["when_required", "when_supported"])
def test_an_explicit_mode_wins_over_endpoint_and_variables(mode: str) -> None:
    env = {"AWS_REQUEST_CHECKSUM_CALCULATION": "nonsense-is-not-read", "AWS_ENDPOINT_URL": MINIO}
    assert client_checksum_config(mode, None, env) == {REQ: mode, RESP: mode}
    assert client_checksum_config(mode, MINIO, {}) == {REQ: mode, RESP: mode}
    assert delete_needs_content_md5(mode, None, env) is (mode == "when_required")


def test_a_bad_variable_value_names_the_variable() -> None:
    with pytest.raises(PublishError) as info:
        client_checksum_config("auto", None, {"AWS_RESPONSE_CHECKSUM_VALIDATION": "always"})
    assert "AWS_RESPONSE_CHECKSUM_VALIDATION='always'" in info.value.message
    assert "when_required" in info.value.fix


def test_settings_reject_an_unknown_mode() -> None:
    with pytest.raises(SettingsError) as info:
        Settings(bucket="example-docs", checksums="md5")
    assert info.value.option == "checksums"
    assert Settings(bucket="example-docs").checksums == "auto"


def test_content_md5_replaces_botocores_pending_crc32() -> None:
    body = b"<Delete><Object><Key>a</Key></Object></Delete>"
    params = {
        "body": body,
        "headers": {},
        "context": {"checksum": {"request_algorithm": {"algorithm": "crc32", "in": "header"}}},
    }
    add_content_md5(params)
    assert params["headers"] == {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    assert params["context"] == {"checksum": {}}
