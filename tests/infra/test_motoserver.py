"""The moto server helper: process lifecycle, reset, the two accounts."""

from __future__ import annotations

import socket

import pytest
from botocore.exceptions import ClientError

from tests.support.motoserver import (
    DEV_ACCOUNT_ID,
    DEV_CREDENTIALS,
    DOCS_ACCOUNT_ID,
    MotoServer,
    caller_account,
    dev_client,
    docs_client,
    docs_credentials,
    moto_server,
)


def test_dev_and_docs_accounts(moto: MotoServer, aws_env: None) -> None:
    assert caller_account(moto.url, DEV_CREDENTIALS) == DEV_ACCOUNT_ID
    creds = docs_credentials(moto.url)
    assert creds.session_token
    assert caller_account(moto.url, creds) == DOCS_ACCOUNT_ID
    sts = docs_client("sts", moto.url)
    arn = sts.get_caller_identity()["Arn"]
    assert arn.startswith(f"arn:aws:sts::{DOCS_ACCOUNT_ID}:assumed-role/docs-publisher/")


def test_reset_drops_state(moto: MotoServer, aws_env: None) -> None:
    s3 = dev_client("s3", moto.url)
    s3.create_bucket(Bucket="reset-me")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["reset-me"]
    moto.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_context_manager_stops_the_process(aws_env: None) -> None:
    with moto_server() as server:
        assert server.is_running()
        s3 = dev_client("s3", server.url, max_attempts=1)
        assert s3.list_buckets()["Buckets"] == []
        port = server.port
    assert not server.is_running()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_auth_mode_rejects_unknown_keys(moto: MotoServer, aws_env: None) -> None:
    s3 = dev_client("s3", moto.url, max_attempts=1)
    s3.list_buckets()
    with moto.auth_enforced():
        with pytest.raises(ClientError) as err:
            s3.list_buckets()
        assert err.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    s3.list_buckets()  # back to no auth
