"""AWS_ENDPOINT_URL* values are checked before botocore sees them (issue 10 item 7)."""

from __future__ import annotations

import pytest

from mkdocs_s3_crossaccount.aws.session import check_endpoint_variables
from mkdocs_s3_crossaccount.core.errors import PublishError


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AWS_ENDPOINT_URL", "garbage"),
        ("AWS_ENDPOINT_URL_S3", "ftp://127.0.0.1:9000"),
        ("AWS_ENDPOINT_URL_STS", "http://"),
        ("AWS_ENDPOINT_URL_CLOUDFRONT", "http://127.0.0.1:port"),
        ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000 "),
    ],
)
def test_a_bad_endpoint_variable_is_named(name: str, value: str) -> None:
    with pytest.raises(PublishError) as err:
        check_endpoint_variables({name: value, "AWS_ENDPOINT_URL_OTHER": "https://ok.example"})
    assert err.value.message.startswith(f"The environment variable {name}=") and "is not an endpoint URL" in str(
        err.value
    )


def test_good_or_ignored_endpoint_variables_pass() -> None:
    check_endpoint_variables({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_S3": "https://s3.example"})
    check_endpoint_variables({"AWS_ENDPOINT_URL": "garbage", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"})
    check_endpoint_variables({"AWS_ENDPOINT_URLX": "garbage", "NOT_AWS_ENDPOINT_URL": "garbage"})
