"""Listing timestamps are parsed without dateutil, and exactly like botocore would."""

from __future__ import annotations

import pytest
from botocore.utils import parse_timestamp

from mkdocs_s3_crossaccount.aws.session import fast_timestamp


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-28T21:33:00.000Z",  # S3
        "2026-11-28T21:33:00Z",
        "2026-11-28T21:33:00.123456Z",
        "2026-11-28T21:33:00+01:00",
        "2026-11-28T21:33:00.5-05:30",
        "Sat, 28 Nov 2026 21:33:00 GMT",  # HTTP date (headers): botocore's own parser
    ],
)
def test_same_as_botocore(value: str) -> None:
    assert fast_timestamp(value) == parse_timestamp(value)


def test_nanoseconds_are_cut_to_microseconds() -> None:
    # rclone and other stores send nine digits; datetime keeps six
    assert fast_timestamp("2026-11-28T21:33:00.123456789Z").microsecond == 123456
