"""The `cloudfront-function` command and `policy --cloudfront-function`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mkdocs_redirects.plugin import HTML_TEMPLATE

from mkdocs_s3_crossaccount import Settings
from mkdocs_s3_crossaccount.aws import cf_function
from mkdocs_s3_crossaccount.aws.preflight import run_checks
from tests.cli.conftest import Call, Run, plugin_yaml, write_site
from tests.conftest import BUCKET, DEV, EXTERNAL_ID, ROLE_ARN
from tests.policy_eval import Request, allows, s3_requests
from tests.support.cfjs import outcome, run_function, viewer_event
from tests.support.motoserver import MotoServer, assume_role, make_client

# CloudFront API operation -> the IAM resource kind it is authorised against
_CF_RESOURCE = {
    "GetDistributionConfig": "distribution",
    "UpdateDistribution": "distribution",
    "DescribeFunction": "function",
    "GetFunction": "function",
    "CreateFunction": "function",
    "UpdateFunction": "function",
    "PublishFunction": "function",
}


def _project(tmp_path: Path, **options: str) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "mkdocs.yml").write_text(plugin_yaml(prefix="docs", **options), encoding="utf-8")
    write_site(proj / "built")
    (proj / "built/old/index.html").parent.mkdir(parents=True, exist_ok=True)
    (proj / "built/old/index.html").write_text(HTML_TEMPLATE.format(url="../guide/"), encoding="utf-8")
    return proj


def test_prints_and_writes_the_function(run_cli: Run, tmp_path: Path, accounts: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("DOCS_EXTERNAL_ID", EXTERNAL_ID)
    proj = _project(tmp_path, redirects="true")
    res = run_cli("cloudfront-function", cwd=proj)
    assert res.code == 0, res.err
    assert "async function handler(event)" in res.out
    assert "1 redirects" in res.err and "bytes (CloudFront allows 10,240)" in res.err
    answers = run_function(res.out, [viewer_event("/docs/old/"), viewer_event("/docs/guide")])
    assert [outcome(a) for a in answers] == ["301 /docs/guide/", "301 /docs/guide/"]
    wrote = run_cli("cloudfront-function", "--write", str(tmp_path / "fn.js"), cwd=proj)
    assert wrote.code == 0 and wrote.out == ""
    assert (tmp_path / "fn.js").read_text() == res.out


def test_without_redirects_option_the_map_is_left_out(
    run_cli: Run, tmp_path: Path, accounts: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DOCS_EXTERNAL_ID", EXTERNAL_ID)
    res = run_cli("cloudfront-function", cwd=_project(tmp_path))
    assert res.code == 0 and "0 redirects" in res.err and "redirects: false" in res.err
    assert outcome(run_function(res.out, [viewer_event("/docs/old/")])[0]) == "-> /docs/old/index.html"


def test_too_many_redirects_is_a_clear_failure(run_cli: Run, tmp_path: Path, accounts: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("DOCS_EXTERNAL_ID", EXTERNAL_ID)
    proj = _project(tmp_path, redirects="true")
    for i in range(600):
        page = proj / f"built/very-old-section/page-with-a-long-name-{i}/index.html"
        page.parent.mkdir(parents=True)
        page.write_text(HTML_TEMPLATE.format(url=f"../../new-section/page-{i}/"), encoding="utf-8")
    res = run_cli("cloudfront-function", cwd=proj)
    assert res.code == 1
    assert "Error: The CloudFront function would be" in res.err and "601 redirects" in res.err
    assert "CloudFront allows 10,240 bytes" in res.err and "Fix:" in res.err and "redirect_maps" in res.err


def _docs_distribution(url: str) -> str:
    cf = make_client("cloudfront", url, assume_role(url, ROLE_ARN, credentials=DEV))
    origin = {
        "Id": "s3",
        "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": "E1OAC",
    }
    config = {
        "CallerReference": "cli",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all"},
    }
    dist: str = cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    make_client("s3", url, assume_role(url, ROLE_ARN, credentials=DEV)).create_bucket(Bucket=BUCKET)
    return dist


def test_deploy_dry_run_then_deploy_then_nothing(
    run_cli: Run, tmp_path: Path, accounts: Any, moto_cloudfront: MotoServer, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DOCS_EXTERNAL_ID", EXTERNAL_ID)
    moto_cloudfront.reset()
    dist = _docs_distribution(moto_cloudfront.url)
    proj = _project(tmp_path, redirects="true", cloudfront_distribution_id=dist)
    env = {"AWS_ENDPOINT_URL": moto_cloudfront.url}
    dry = run_cli("cloudfront-function", "--dry-run", cwd=proj, env=env)
    assert dry.code == 0, dry.err
    assert dry.out.splitlines()[0].startswith("(dryrun) create CloudFront function mkdocs-s3xa-")
    assert len(dry.out.splitlines()) == 3
    done = run_cli("cloudfront-function", "--deploy", cwd=proj, env=env)
    assert done.code == 0, done.err
    assert [line.split(" ")[0] for line in done.out.splitlines()] == ["create", "publish", "attach"]
    again = run_cli("cloudfront-function", "--deploy", cwd=proj, env=env)
    assert again.code == 0 and "is up to date; nothing changed" in again.out
    check = run_cli("check", cwd=proj, env=env)
    assert "[ok]   CloudFront origin:" in check.out and "is attached" in check.out


def test_deploy_without_distribution_is_a_clear_failure(
    run_cli: Run, tmp_path: Path, accounts: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DOCS_EXTERNAL_ID", EXTERNAL_ID)
    res = run_cli("cloudfront-function", "--deploy", cwd=_project(tmp_path))
    assert res.code == 1 and "No cloudfront_distribution_id" in res.err


def test_policy_flag_covers_every_call_of_deploy_and_check(
    run_cli: Run,
    tmp_path: Path,
    accounts: Any,
    moto_cloudfront: MotoServer,
    monkeypatch: Any,
    api_calls: list[Call],
) -> None:
    monkeypatch.setenv("DOCS_EXTERNAL_ID", EXTERNAL_ID)
    moto_cloudfront.reset()
    dist = _docs_distribution(moto_cloudfront.url)
    proj = _project(tmp_path, redirects="true", cloudfront_distribution_id=dist)
    res = run_cli("policy", "--principal", "arn:aws:iam::123456789012:user/ci", "--cloudfront-function", cwd=proj)
    assert res.code == 0, res.err
    perms = json.loads(res.out)["permission_policy"]
    plain = json.loads(run_cli("policy", "--principal", "arn:aws:iam::123456789012:user/ci", cwd=proj).out)[
        "permission_policy"
    ]
    added = [st for st in perms["Statement"] if st not in plain["Statement"]]
    assert {st["Sid"] for st in added} == {"DeployViewerFunction", "AttachViewerFunction"}

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_cloudfront.url)
    s = Settings(
        bucket=BUCKET, prefix="docs", role_arn=ROLE_ARN, external_id=EXTERNAL_ID,
        cloudfront_distribution_id=dist, redirects=True,
    )  # fmt: skip
    api_calls.clear()
    cf_function.deploy(s, proj / "built")
    site_dir = proj / "built"
    write_site(site_dir, {"new/index.html": HTML_TEMPLATE.format(url="../guide/").encode()})
    cf_function.deploy(s, site_dir)  # an update
    list(run_checks(s))
    seen = set()
    account = "222222222222"
    for call in api_calls:
        if call.service == "sts":
            continue
        seen.add(call.operation)
        if call.service == "s3":
            for req in s3_requests(call.operation, call.params):
                # check's bucket-versioning step is granted by `policy --rollback` (test_policy_check_remove)
                assert allows(perms, req) or req.action == "s3:GetBucketVersioning", req
            continue
        assert call.service == "cloudfront", call
        kind = _CF_RESOURCE[call.operation]
        resource = (
            f"arn:aws:cloudfront::{account}:distribution/{dist}"
            if kind == "distribution"
            else f"arn:aws:cloudfront::{account}:function/{call.params['Name']}"
        )
        assert allows(perms, Request(f"cloudfront:{call.operation}", resource)), call.operation
        # and the policy without the flag does not allow it: the flag adds exactly this
        assert not allows(plain, Request(f"cloudfront:{call.operation}", resource)), call.operation
    assert {
        "CreateFunction",
        "UpdateFunction",
        "PublishFunction",
        "UpdateDistribution",
        "GetDistributionConfig",
    } <= seen


def test_policy_flag_needs_a_distribution(run_cli: Run, tmp_path: Path, accounts: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("DOCS_EXTERNAL_ID", EXTERNAL_ID)
    res = run_cli(
        "policy", "--principal", "arn:aws:iam::123456789012:user/ci", "--cloudfront-function", cwd=_project(tmp_path)
    )
    assert res.code == 2 and "cloudfront_distribution_id" in res.err
