"""policy, check and remove through the console script; the generated policy covers every call."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import Settings, publish
from mkdocs_s3_crossaccount.aws.preflight import remove_prefix, run_checks
from tests.cli.conftest import SITE, Call, Run, plugin_yaml, write_site
from tests.conftest import BUCKET, DEV_ACCOUNT, EXTERNAL_ID, ROLE_ARN, bucket_objects
from tests.policy_eval import Request, allows, s3_requests

pytestmark = pytest.mark.integration


def test_policy_for_keys_uses_the_current_identity(run_cli: Run, project: Path, accounts: Any) -> None:
    res = run_cli("policy", "--prefix", "docs", cwd=project)
    assert res.code == 0, res.text
    docs = json.loads(res.out)
    dev_user = f"arn:aws:iam::{DEV_ACCOUNT}:user/moto"  # moto's name for unknown keys
    trust = docs["trust_policy"]["Statement"][0]
    assert trust["Principal"] == {"AWS": dev_user}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "REPLACE-WITH-YOUR-EXTERNAL-ID"}}
    assert EXTERNAL_ID not in res.out, "the ExternalId is a shared secret"
    assert docs["source_policy"]["Statement"][0] == {
        "Sid": "AssumeDocsPublisher",
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": ROLE_ARN,
    }
    resources = {json.dumps(s["Resource"]) for s in docs["permission_policy"]["Statement"]}
    assert resources == {f'"arn:aws:s3:::{BUCKET}"', f'"arn:aws:s3:::{BUCKET}/docs/*"'}

    ci_role = "arn:aws:iam::123456789012:role/ci"
    only = run_cli("policy", "--prefix", "docs", "--only", "permissions", "--principal", ci_role, cwd=project)
    assert json.loads(only.out) == docs["permission_policy"]


def test_policy_for_gitlab_oidc(run_cli: Run, project: Path, tmp_path: Path, accounts: Any) -> None:
    res = run_cli("policy", "--gitlab-project", "docs-team/handbook", "--ref", "main", "--only", "trust", cwd=project)
    assert res.code == 0, res.text
    statement = json.loads(res.out)["Statement"][0]
    assert statement["Principal"] == {"Federated": "arn:aws:iam::222222222222:oidc-provider/gitlab.com"}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            "gitlab.com:aud": "https://gitlab.com",
            "gitlab.com:sub": "project_path:docs-team/handbook:ref_type:branch:ref:main",
        }
    }
    res = run_cli("policy", "--gitlab-project", "docs-team/handbook", "--write", str(tmp_path / "iam"), cwd=project)
    assert res.code == 0, res.text
    assert sorted(p.name for p in (tmp_path / "iam").iterdir()) == ["permission-policy.json", "trust-policy.json"]
    assert "aws iam create-role --role-name docs-publisher" in res.err
    bad = run_cli("policy", "--gitlab-project", "not a project", cwd=project)
    assert bad.code == 2 and "GitLab project path" in bad.err


def test_only_permissions_needs_no_gitlab_project_nor_credentials(
    run_cli: Run, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: with an OIDC config, `policy --only permissions` demanded --gitlab-project (only the trust
    policy needs it); nor does it need the current identity (no credentials, no AWS call)."""
    monkeypatch.delenv("DOCS_EXTERNAL_ID")  # --external-id reads it; OIDC straight into the role takes none
    oidc = {"web_identity_token_env": "GITLAB_OIDC_TOKEN", "external_id": "null"}
    (project / "mkdocs.yml").write_text(plugin_yaml(**oidc), encoding="utf-8")
    no_keys = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    res = run_cli("policy", "--prefix", "docs", "--only", "permissions", cwd=project, env=no_keys)
    assert res.code == 0, res.text
    full = run_cli("policy", "--prefix", "docs", "--gitlab-project", "docs-team/handbook", cwd=project)
    assert full.code == 0, full.text
    assert json.loads(res.out) == json.loads(full.out)["permission_policy"]
    trust = run_cli("policy", "--prefix", "docs", "--only", "trust", cwd=project)
    assert trust.code == 2 and "needs the GitLab project" in trust.err  # the trust policy still does


# `check` asks for the versioning status (for rollback) and reports a denial as information;
# the permission is granted by `policy --rollback`.
ROLLBACK_ONLY = {"GetBucketVersioning"}


def _check_calls(
    calls: list[Call], docs: dict[str, Any], principal: str, rollback_docs: dict[str, Any] | None = None
) -> set[str]:
    """Assert every recorded call is allowed; return the operations seen."""
    seen = set()
    for call in calls:
        seen.add(call.operation)
        if call.service == "sts" and call.operation == "GetCallerIdentity":
            continue  # needs no permission
        if call.service == "sts" and call.operation == "AssumeRole":
            assert call.params["RoleArn"] == docs["role_arn"]
            assert allows(docs["source_policy"], Request("sts:AssumeRole", call.params["RoleArn"]))
            assert docs["trust_policy"]["Statement"][0]["Principal"] == {"AWS": principal}
            continue
        assert call.service == "s3", call
        policy = docs["permission_policy"]
        if call.operation in ROLLBACK_ONLY and rollback_docs is not None:
            policy = rollback_docs["permission_policy"]
        for req in s3_requests(call.operation, call.params):
            assert allows(policy, req), f"{call.operation} {req} is not allowed by the policy"
    return seen


def test_generated_policy_covers_every_call(
    run_cli: Run, project: Path, tmp_path: Path, docs_bucket: Any, api_calls: list[Call]
) -> None:
    res = run_cli("policy", "--prefix", "docs", cwd=project)
    docs = json.loads(res.out)
    rollback_docs = json.loads(run_cli("policy", "--prefix", "docs", "--rollback", cwd=project).out)
    principal = docs["source_principal"]
    # other prefixes in the bucket are out of the policy's reach, and never touched
    docs_bucket.put_object(Bucket=BUCKET, Key="docs-old/index.html", Body=b"keep")

    settings = Settings(bucket=BUCKET, prefix="docs", role_arn=ROLE_ARN, external_id=EXTERNAL_ID)
    site = write_site(tmp_path / "site", {**SITE, "files/manual.pdf": os.urandom(9 * 1024 * 1024)})
    publish(site, settings)  # uploads, multipart included
    (site / "js/site.js").unlink()
    publish(site, settings)  # a delete
    list(run_checks(settings))  # check
    remove_prefix(settings, execute=True)  # remove

    seen = _check_calls(api_calls, docs, principal, rollback_docs)
    assert {"AssumeRole", "ListObjectsV2", "PutObject", "CreateMultipartUpload", "UploadPart"} <= seen
    assert {"CompleteMultipartUpload", "DeleteObjects"} <= seen
    assert set(bucket_objects(docs_bucket)) == {"docs-old/index.html"}

    # and the evaluator is not a rubber stamp: the seed's bucket-only grant is refused
    bucket_only = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}"}]}
    put = next(c for c in api_calls if c.operation == "PutObject")
    assert not allows(bucket_only, s3_requests("PutObject", put.params)[0])


def test_check_passes_and_writes_nothing(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    res = run_cli("check", cwd=project)
    assert res.code == 0, res.text
    for step in ("source identity", "role assumption", "target account", "bucket", "list permission"):
        assert f"[ok]   {step}:" in res.out, res.out
    assert "account 222222222222" in res.out
    assert "All checks passed." in res.out
    assert bucket_objects(docs_bucket) == {}


def test_check_missing_bucket_says_how_to_create_it(run_cli: Run, project: Path, accounts: Any) -> None:
    res = run_cli("check", "--bucket", "no-such-docs-bucket", cwd=project)
    assert res.code == 1
    assert "[FAIL] bucket: Bucket 'no-such-docs-bucket' does not exist" in res.out
    assert "aws s3api create-bucket --bucket no-such-docs-bucket" in res.out


def test_check_reports_an_empty_token(run_cli: Run, project: Path, accounts: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("DOCS_EXTERNAL_ID")
    (project / "mkdocs.yml").write_text(
        f"site_name: T\nplugins:\n  - s3-crossaccount:\n      bucket: {BUCKET}\n      role_arn: {ROLE_ARN}\n"
        "      web_identity_token_env: GITLAB_OIDC_TOKEN\n",
        encoding="utf-8",
    )
    res = run_cli("check", cwd=project, env={"GITLAB_OIDC_TOKEN": ""})
    assert res.code == 1
    assert "[FAIL] source identity: The OIDC token variable $GITLAB_OIDC_TOKEN is empty." in res.out


def test_remove_is_a_dry_run_until_yes_and_keeps_to_the_prefix(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    keys = ["mr-1/index.html", "mr-1/a/b.html", "mr-10/index.html", "mr-1", "mr-1.html", "main/index.html"]
    for key in keys:
        docs_bucket.put_object(Bucket=BUCKET, Key=key, Body=b"x")

    res = run_cli("remove", "--prefix", "mr-1", cwd=project)
    assert res.code == 0, res.text
    assert "would delete 2 objects under s3://example-docs/mr-1/" in res.out
    assert "(dryrun) delete: s3://example-docs/mr-1/a/b.html" in res.out
    assert set(bucket_objects(docs_bucket)) == set(keys)

    res = run_cli("remove", "--prefix", "mr-1/", "--yes", cwd=project)
    assert res.code == 0, res.text
    assert "Deleted 2 objects under s3://example-docs/mr-1/" in res.out
    assert set(bucket_objects(docs_bucket)) == {"mr-10/index.html", "mr-1", "mr-1.html", "main/index.html"}


def test_remove_refuses_the_whole_bucket(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    docs_bucket.put_object(Bucket=BUCKET, Key="index.html", Body=b"x")
    for args in (["--prefix", "", "--yes"], ["--yes"]):
        res = run_cli("remove", *args, cwd=project)
        assert res.code == 2, res.text
        assert res.err.startswith("Error: ")
    assert set(bucket_objects(docs_bucket)) == {"index.html"}
    res = run_cli("remove", "--prefix", "", "--whole-bucket", "--yes", cwd=project)
    assert res.code == 0
    assert bucket_objects(docs_bucket) == {}


def test_oidc_chain_goes_dev_role_then_docs_role(
    tmp_path: Path, docs_bucket: Any, api_calls: list[Call], monkeypatch: Any, caplog: Any
) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.fake-claims.fake-signature"
    monkeypatch.setenv("GITLAB_OIDC_TOKEN", token)
    dev_role = f"arn:aws:iam::{DEV_ACCOUNT}:role/gitlab-docs-ci"
    settings = Settings(
        bucket=BUCKET,
        role_arn=ROLE_ARN,
        external_id=EXTERNAL_ID,
        web_identity_token_env="GITLAB_OIDC_TOKEN",
        web_identity_role_arn=dev_role,
        duration_seconds=7200,
    )
    caplog.set_level(logging.INFO, logger="mkdocs")
    result = publish(write_site(tmp_path / "site"), settings)

    assert result.account == "222222222222"
    assert result.identity_arn.startswith("arn:aws:sts::222222222222:assumed-role/docs-publisher/")
    sts = [c for c in api_calls if c.service == "sts" and c.operation.startswith("AssumeRole")]
    assert [c.operation for c in sts] == ["AssumeRoleWithWebIdentity", "AssumeRole"]
    first, second = sts
    assert first.params["RoleArn"] == dev_role and first.params["DurationSeconds"] == 3600
    assert second.params["RoleArn"] == ROLE_ARN and second.params["DurationSeconds"] == 3600
    assert second.params["ExternalId"] == EXTERNAL_ID
    assert first.response is not None
    assert first.response["AssumedRoleUser"]["Arn"].startswith(
        f"arn:aws:sts::{DEV_ACCOUNT}:assumed-role/gitlab-docs-ci/"
    )
    # the docs role was entered with the dev role's credentials, not with any ambient keys
    assert second.access_key == first.response["Credentials"]["AccessKeyId"]
    assert "duration_seconds 7200 lowered to 3600" in caplog.text
    assert token not in caplog.text


def test_remove_with_flags_only_needs_no_config(run_cli: Run, tmp_path: Path, docs_bucket: Any) -> None:
    """A GitLab on_stop job with GIT_STRATEGY: none has no checkout, so no mkdocs.yml."""
    docs_bucket.put_object(Bucket=BUCKET, Key="review/feature-x/index.html", Body=b"x")
    docs_bucket.put_object(Bucket=BUCKET, Key="index.html", Body=b"main")
    empty = tmp_path / "no-checkout"
    empty.mkdir()
    args = ["--bucket", BUCKET, "--role-arn", ROLE_ARN, "--prefix", "review/feature-x", "--yes"]
    res = run_cli("remove", *args, cwd=empty)
    assert res.code == 0, res.text
    assert set(bucket_objects(docs_bucket)) == {"index.html"}
    res = run_cli("remove", "--prefix", "review/x", cwd=empty)  # no config and no --bucket
    assert res.code == 2 and "No mkdocs.yml" in res.err
