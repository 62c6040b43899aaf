"""IAM: a separate moto server in auth mode. Users and roles are created with auth off,
then IAM is enforced for the publish. The engine reads the source credentials from
AWS_ACCESS_KEY_ID/SECRET and sends S3 and STS to AWS_ENDPOINT_URL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mkdocs_s3_crossaccount import PublishError, Settings, publish
from tests.conftest import BUCKET, bucket_objects
from tests.support.fixtures import isolate_aws_env
from tests.support.motoserver import (
    DEV_ACCOUNT_ID,
    DOCS_ACCOUNT_ID,
    Credentials,
    MotoServer,
    allow,
    create_role,
    create_user_with_key,
    docs_client,
    iam_client,
    policy_document,
    start_moto_server,
    trust_policy,
)

pytestmark = pytest.mark.integration

BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OBJECTS_ARN = f"arn:aws:s3:::{BUCKET}/*"
SITE = {"index.html": b"<html>home</html>", "guide/index.html": b"<html>guide</html>"}

ROLES = {
    # ListBucket on the bucket, object actions on its keys; DeleteObject on the bucket ARN too
    # because moto authorises DeleteObjects against it.
    "docs-publisher": policy_document(
        allow("s3:ListBucket", BUCKET_ARN),
        allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], OBJECTS_ARN),
        allow("s3:DeleteObject", BUCKET_ARN),
    ),
    # Everything, but only on the bucket ARN: object writes are denied.
    "bucket-arn-only": policy_document(allow("s3:*", BUCKET_ARN)),
    # Object actions, no ListBucket.
    "no-list": policy_document(
        allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [OBJECTS_ARN, BUCKET_ARN]),
    ),
}


@dataclass
class AuthWorld:
    server: MotoServer
    dev: Credentials
    roles: dict[str, str]


@pytest.fixture(scope="module")
def world() -> Iterator[AuthWorld]:
    server = start_moto_server()
    try:
        server.disable_auth()
        dev_iam = iam_client(server.url, DEV_ACCOUNT_ID)
        dev = create_user_with_key(
            dev_iam, "ci-job", policy_document(allow("sts:AssumeRole", f"arn:aws:iam::{DOCS_ACCOUNT_ID}:role/*"))
        )
        docs_iam = iam_client(server.url, DOCS_ACCOUNT_ID)
        trust = trust_policy(f"arn:aws:iam::{DEV_ACCOUNT_ID}:user/ci-job")
        roles = {name: create_role(docs_iam, name, trust, policy) for name, policy in ROLES.items()}
        docs_client("s3", server.url).create_bucket(Bucket=BUCKET)
        yield AuthWorld(server, dev, roles)
    finally:
        server.stop()


@pytest.fixture
def env(world: AuthWorld, monkeypatch: pytest.MonkeyPatch) -> AuthWorld:
    isolate_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.dev.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.dev.secret_access_key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.server.url)
    world.server.disable_auth()
    s3 = docs_client("s3", world.server.url)
    for key in bucket_objects(s3):
        s3.delete_object(Bucket=BUCKET, Key=key)
    return world


def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    for rel, data in SITE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def publish_with_auth(world: AuthWorld, root: Path, role: str | None) -> Exception | None:
    settings = Settings(bucket=BUCKET, role_arn=world.roles[role] if role else None)
    with world.server.auth_enforced():
        try:
            publish(root, settings)
        except PublishError as exc:
            return exc
    return None


def stored_keys(world: AuthWorld) -> set[str]:
    return set(bucket_objects(docs_client("s3", world.server.url)))


def test_dev_user_alone_is_denied(env: AuthWorld, tmp_path: Path) -> None:
    error = publish_with_auth(env, site(tmp_path), None)
    assert error is not None, "the dev user's own keys must not reach the docs bucket"
    assert "access denied" in str(error).lower() or "AccessDenied" in str(error), str(error)
    assert stored_keys(env) == set()


def test_role_with_correct_policy_publishes(env: AuthWorld, tmp_path: Path) -> None:
    root = site(tmp_path)
    assert publish_with_auth(env, root, "docs-publisher") is None
    assert set(SITE) <= stored_keys(env)
    # A removal goes through DeleteObjects under auth as well.
    (root / "guide/index.html").unlink()
    settings = Settings(bucket=BUCKET, role_arn=env.roles["docs-publisher"], max_delete_share=1)
    with env.server.auth_enforced():
        result = publish(root, settings)
    assert result.deleted == ["guide/index.html"]
    assert "guide/index.html" not in stored_keys(env)


def test_role_with_bucket_arn_only_points_at_object_arn(env: AuthWorld, tmp_path: Path) -> None:
    error = publish_with_auth(env, site(tmp_path), "bucket-arn-only")
    assert error is not None
    assert OBJECTS_ARN in str(error), str(error)
    assert not set(SITE) & stored_keys(env)


def test_role_without_list_bucket_names_the_action(env: AuthWorld, tmp_path: Path) -> None:
    error = publish_with_auth(env, site(tmp_path), "no-list")
    assert error is not None
    assert "s3:ListBucket" in str(error), str(error)
    assert not set(SITE) & stored_keys(env)
