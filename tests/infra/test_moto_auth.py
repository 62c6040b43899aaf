"""What moto's auth mode enforces and what it does not (moto 5.2, server mode).

These pin the behaviour described in ``tests/support/motoserver.py``; if moto
changes, a failure here says which statement in that docstring to update.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.motoserver import (
    DEV_ACCOUNT_ID,
    DOCS_ACCOUNT_ID,
    Credentials,
    MotoServer,
    allow,
    assume_role,
    caller_account,
    create_role,
    create_user_with_key,
    deny,
    docs_client,
    iam_client,
    make_client,
    policy_document,
    trust_policy,
)

BUCKET = "auth-docs-bucket"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OBJECTS_ARN = f"arn:aws:s3:::{BUCKET}/*"
DEV_ROOT = f"arn:aws:iam::{DEV_ACCOUNT_ID}:root"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{DOCS_ACCOUNT_ID}:role/{name}"


@dataclass
class AuthWorld:
    moto: MotoServer
    dev_user: Credentials  # may call sts:AssumeRole on anything
    no_sts_user: Credentials  # may not call sts:AssumeRole
    dev_writer: Credentials  # dev-account user with an identity policy on the docs bucket
    direct: Any  # docs-account S3 client, used only while auth is off

    def s3_as_role(self, name: str) -> Any:
        creds = assume_role(self.moto.url, role_arn(name), credentials=self.dev_user)
        return make_client("s3", self.moto.url, creds, max_attempts=1)


@pytest.fixture
def world(moto: MotoServer, aws_env: None) -> Iterator[AuthWorld]:
    direct = docs_client("s3", moto.url)
    direct.create_bucket(Bucket=BUCKET)
    direct.put_object(Bucket=BUCKET, Key="keep.txt", Body=b"keep")
    iam_docs = iam_client(moto.url, DOCS_ACCOUNT_ID)
    iam_dev = iam_client(moto.url, DEV_ACCOUNT_ID)
    trusted = trust_policy(DEV_ROOT)
    create_role(iam_docs, "bucket-arn-only", trusted, policy_document(allow("s3:*", BUCKET_ARN)))
    create_role(
        iam_docs,
        "publisher",
        trusted,
        policy_document(
            allow(["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], OBJECTS_ARN),
            allow("s3:ListBucket", BUCKET_ARN),
        ),
    )
    create_role(iam_docs, "delete-keys", trusted, policy_document(allow("s3:DeleteObject", OBJECTS_ARN)))
    create_role(iam_docs, "delete-bucket", trusted, policy_document(allow("s3:DeleteObject", BUCKET_ARN)))
    create_role(
        iam_docs,
        "denied-put",
        trusted,
        policy_document(allow("s3:*", [BUCKET_ARN, OBJECTS_ARN]), deny("s3:PutObject", OBJECTS_ARN)),
    )
    create_role(
        iam_docs,
        "needs-external-id",
        trust_policy(DEV_ROOT, external_id="the-right-id"),
        policy_document(allow("s3:ListBucket", BUCKET_ARN)),
    )
    create_role(
        iam_docs,
        "trusts-someone-else",
        trust_policy("arn:aws:iam::333333333333:root"),
        policy_document(allow("s3:*", "*")),
    )
    world = AuthWorld(
        moto=moto,
        dev_user=create_user_with_key(iam_dev, "dev-user", policy_document(allow("sts:AssumeRole", "*"))),
        no_sts_user=create_user_with_key(iam_dev, "no-sts", policy_document(allow("s3:ListAllMyBuckets", "*"))),
        dev_writer=create_user_with_key(
            iam_dev, "dev-writer", policy_document(allow("s3:*", [BUCKET_ARN, OBJECTS_ARN]))
        ),
        direct=direct,
    )
    with moto.auth_enforced():
        yield world


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_identity_policy_resource_arn_is_enforced(world: AuthWorld) -> None:
    bucket_only = world.s3_as_role("bucket-arn-only")
    with pytest.raises(ClientError) as err:
        bucket_only.put_object(Bucket=BUCKET, Key="x.txt", Body=b"x")
    assert error_code(err) == "AccessDenied"
    bucket_only.list_objects_v2(Bucket=BUCKET)  # bucket-level action on the bucket ARN: allowed

    publisher = world.s3_as_role("publisher")
    publisher.put_object(Bucket=BUCKET, Key="x.txt", Body=b"x")
    assert publisher.get_object(Bucket=BUCKET, Key="x.txt")["Body"].read() == b"x"


def test_explicit_deny_wins(world: AuthWorld) -> None:
    s3 = world.s3_as_role("denied-put")
    assert s3.get_object(Bucket=BUCKET, Key="keep.txt")["Body"].read() == b"keep"
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=BUCKET, Key="x.txt", Body=b"x")
    assert error_code(err) == "AccessDenied"


def test_delete_objects_is_authorised_against_the_bucket_arn(world: AuthWorld) -> None:
    # s3:DeleteObject on BUCKET/* allows single DeleteObject ...
    keys_only = world.s3_as_role("delete-keys")
    keys_only.delete_object(Bucket=BUCKET, Key="not-there.txt")
    # ... but DeleteObjects answers HTTP 200 with every key in Errors/AccessDenied.
    answer = keys_only.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "keep.txt"}]})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Deleted" not in answer
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("keep.txt", "AccessDenied")]

    # s3:DeleteObject on the bucket ARN is what moto checks for DeleteObjects.
    bucket_arn = world.s3_as_role("delete-bucket")
    with pytest.raises(ClientError):
        bucket_arn.delete_object(Bucket=BUCKET, Key="keep.txt")
    answer = bucket_arn.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "keep.txt"}]})
    assert [d["Key"] for d in answer["Deleted"]] == ["keep.txt"]
    assert "Errors" not in answer


def test_trust_policies_are_not_enforced(world: AuthWorld) -> None:
    creds = assume_role(world.moto.url, role_arn("trusts-someone-else"), credentials=world.dev_user)
    assert caller_account(world.moto.url, creds) == DOCS_ACCOUNT_ID
    s3 = make_client("s3", world.moto.url, creds, max_attempts=1)
    s3.put_object(Bucket=BUCKET, Key="via-untrusting-role.txt", Body=b"x")
    for external_id in ("the-wrong-id", None):
        creds = assume_role(
            world.moto.url, role_arn("needs-external-id"), credentials=world.dev_user, external_id=external_id
        )
        assert caller_account(world.moto.url, creds) == DOCS_ACCOUNT_ID


def test_assume_role_needs_identity_permission(world: AuthWorld) -> None:
    with pytest.raises(ClientError) as err:
        assume_role(world.moto.url, role_arn("publisher"), credentials=world.no_sts_user)
    assert error_code(err) == "AccessDenied"


def test_cross_account_bucket_access_needs_no_bucket_policy(world: AuthWorld) -> None:
    # On AWS this would also need a bucket policy in the docs account; moto only
    # evaluates the caller's identity policy.
    s3 = make_client("s3", world.moto.url, world.dev_writer, max_attempts=1)
    s3.put_object(Bucket=BUCKET, Key="from-dev-account.txt", Body=b"x")
    assert caller_account(world.moto.url, world.dev_writer) == DEV_ACCOUNT_ID


def test_assuming_a_missing_role_succeeds_but_its_credentials_break(world: AuthWorld) -> None:
    creds = assume_role(world.moto.url, role_arn("does-not-exist"), credentials=world.dev_user)
    s3 = make_client("s3", world.moto.url, creds, max_attempts=1)
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket=BUCKET)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
