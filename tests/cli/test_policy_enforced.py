"""The generated policies, installed in moto with IAM enforcement on, let the CLI publish and remove.

A separate moto process (enforcement is server-wide): setup runs before `reset-auth 0`, then every
request is checked against the IAM policies. moto enforces identity policies on S3 resource ARNs
(not trust policies, conditions or ExternalId), so this proves the resources and actions are enough,
and the seed's bucket-only grant is not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.cli.conftest import Run, write_site
from tests.conftest import BUCKET, DEV_ACCOUNT, ROLE_ARN, bucket_objects
from tests.support.motoserver import MotoServer, start_moto_server

pytestmark = pytest.mark.integration


@pytest.fixture
def enforcing(run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    server = start_moto_server()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        server.set_unauthenticated_requests(1000)  # setup is not checked
        yield server
    finally:
        server.stop()


def _client(url: str, service: str, **creds: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", **creds)


def test_generated_policy_is_enough_under_enforcement(
    enforcing: MotoServer, run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = enforcing.url
    proj = tmp_path / "proj"
    write_site(proj / "built")
    (proj / "mkdocs.yml").write_text(
        f"site_name: T\nsite_dir: built\nplugins:\n  - s3-crossaccount:\n      bucket: {BUCKET}\n"
        f"      prefix: docs\n      role_arn: {ROLE_ARN}\n",
        encoding="utf-8",
    )
    # the development account: a user whose keys the job holds
    setup = {"aws_access_key_id": "setup-key", "aws_secret_access_key": "setup-secret-not-real"}
    iam_dev = _client(url, "iam", **setup)
    iam_dev.create_user(UserName="gitlab-ci")
    key = iam_dev.create_access_key(UserName="gitlab-ci")["AccessKey"]
    principal = f"arn:aws:iam::{DEV_ACCOUNT}:user/gitlab-ci"
    res = run_cli("policy", "-f", str(proj / "mkdocs.yml"), "--principal", principal)
    docs = json.loads(res.out)
    iam_dev.put_user_policy(UserName="gitlab-ci", PolicyName="assume", PolicyDocument=json.dumps(docs["source_policy"]))
    # the documents account: the role with the generated trust and permission policies, and the bucket
    creds = _client(url, "sts", **setup).assume_role(RoleArn=ROLE_ARN, RoleSessionName="setup")["Credentials"]
    admin = {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }
    iam_docs = _client(url, "iam", **admin)
    iam_docs.create_role(RoleName="docs-publisher", AssumeRolePolicyDocument=json.dumps(docs["trust_policy"]))
    permissions = docs["permission_policy"]
    # moto authorises DeleteObjects against the bucket ARN (AWS: each object): grant that for moto only
    moto_quirk = {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{BUCKET}"}
    iam_docs.put_role_policy(
        RoleName="docs-publisher",
        PolicyName="publish-docs",
        PolicyDocument=json.dumps({**permissions, "Statement": [*permissions["Statement"], moto_quirk]}),
    )
    iam_docs.create_role(RoleName="seed-role", AssumeRolePolicyDocument=json.dumps(docs["trust_policy"]))
    iam_docs.put_role_policy(
        RoleName="seed-role",
        PolicyName="bucket-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}"}],
            }
        ),
    )
    s3_admin = _client(url, "s3", **admin)
    s3_admin.create_bucket(Bucket=BUCKET)

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    enforcing.enforce_auth()  # from here on, every request is checked

    cfg = str(proj / "mkdocs.yml")
    res = run_cli("publish", "-f", cfg)
    assert res.code == 0, res.text
    assert key["SecretAccessKey"] not in res.text
    (proj / "built/js/site.js").unlink()
    res = run_cli("publish", "-f", cfg)
    assert res.code == 0, res.text
    assert run_cli("check", "-f", cfg).code == 0
    res = run_cli("remove", "-f", cfg, "--prefix", "docs", "--yes")
    assert res.code == 0, res.text

    # the source policy allows exactly one role; the error names the statement to add
    seed = "arn:aws:iam::222222222222:role/seed-role"
    res = run_cli("publish", "-f", cfg, "--role-arn", seed)
    assert res.code == 1
    assert f"AssumeRole into {seed} was denied for {principal}" in res.err
    assert f'allowing "sts:AssumeRole" on "{seed}"' in res.err

    # the seed's permission policy (only the bucket ARN) cannot upload: the fix names the missing /*
    enforcing.set_unauthenticated_requests(1000)
    iam_dev.put_user_policy(
        UserName="gitlab-ci",
        PolicyName="assume-seed",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": seed}]}
        ),
    )
    enforcing.enforce_auth()
    res = run_cli("publish", "-f", cfg, "--role-arn", seed)
    assert res.code == 1
    assert "Access denied to upload to s3://example-docs/docs/" in res.err
    assert f'"Resource": "arn:aws:s3:::{BUCKET}/*"' in res.err

    enforcing.set_unauthenticated_requests(1000)
    assert bucket_objects(s3_admin) == {}, "remove took everything under docs/, the seed role wrote nothing"
