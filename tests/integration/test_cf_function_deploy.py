"""`cloudfront-function --deploy` and the origin checks against moto's CloudFront, extended for functions.

moto 5.2.5 cannot publish or update a CloudFront Function and drops FunctionAssociations and the
S3 origin settings from distribution configs; ``tests/support/moto_cloudfront_ext.py`` adds those
calls server-side, and this module runs that server as its own process. Our client is not stubbed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mkdocs_redirects.plugin import HTML_TEMPLATE

from mkdocs_s3_crossaccount import PublishError, Settings
from mkdocs_s3_crossaccount.aws import cf_function
from mkdocs_s3_crossaccount.aws.preflight import run_checks
from mkdocs_s3_crossaccount.aws.session import connect
from mkdocs_s3_crossaccount.core.cf_function import function_name
from tests.conftest import BUCKET, DEV_KEY, DEV_SECRET, EXTERNAL_ID, ROLE_ARN
from tests.support.cfjs import outcome, run_function, viewer_event
from tests.support.motoserver import Credentials, MotoServer, assume_role, make_client

pytestmark = pytest.mark.integration

DEV = Credentials(DEV_KEY, DEV_SECRET)


class Docs:
    """Clients acting in the documents account of the extended moto."""

    def __init__(self, url: str) -> None:
        creds = assume_role(url, ROLE_ARN, credentials=DEV)
        self.cf = make_client("cloudfront", url, creds)
        self.s3 = make_client("s3", url, creds)

    def distribution(self, origin: dict[str, Any], associations: list[dict[str, str]] | None = None) -> str:
        behaviour: dict[str, Any] = {"TargetOriginId": origin["Id"], "ViewerProtocolPolicy": "redirect-to-https"}
        if associations:
            behaviour["FunctionAssociations"] = {"Quantity": len(associations), "Items": associations}
        config = {
            "CallerReference": f"ref-{origin['Id']}-{len(associations or [])}",
            "Comment": "docs",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": behaviour,
        }
        dist_id: str = self.cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]
        return dist_id

    def live(self, name: str) -> tuple[str, str]:
        resp = self.cf.get_function(Name=name, Stage="LIVE")
        return resp["FunctionCode"].read().decode(), resp["ETag"]

    def state(self, name: str, dist_id: str) -> tuple[str, str, str]:
        dev = self.cf.describe_function(Name=name, Stage="DEVELOPMENT")["ETag"]
        return dev, self.live(name)[1], self.cf.get_distribution_config(Id=dist_id)["ETag"]

    def associations(self, dist_id: str) -> list[dict[str, str]]:
        cfg = self.cf.get_distribution_config(Id=dist_id)["DistributionConfig"]
        items: list[dict[str, str]] = cfg["DefaultCacheBehavior"]["FunctionAssociations"].get("Items") or []
        return items


def rest_origin(oac: str = "E1OACEXAMPLE", path: str = "") -> dict[str, Any]:
    return {
        "Id": "docs-s3",
        "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com",
        "OriginPath": path,
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": oac,
    }


def website_origin() -> dict[str, Any]:
    return {
        "Id": "docs-web",
        "DomainName": f"{BUCKET}.s3-website-us-east-1.amazonaws.com",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"},
    }


@pytest.fixture
def docs(moto_cloudfront: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Docs:
    if not moto_cloudfront.is_running():
        pytest.fail(f"moto died: {moto_cloudfront.log_tail()}")
    moto_cloudfront.reset()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": DEV_KEY,
        "AWS_SECRET_ACCESS_KEY": DEV_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_cloudfront.url,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    d = Docs(moto_cloudfront.url)
    d.s3.create_bucket(Bucket=BUCKET)
    return d


def site(root: Path, redirects: dict[str, str]) -> Path:
    files = {"index.html": "<html><head><title>Home</title></head><body>home</body></html>", "guide/index.html": "g"}
    files.update({rel: HTML_TEMPLATE.format(url=url) for rel, url in redirects.items()})
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def settings(dist_id: str, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "bucket": BUCKET,
        "prefix": "docs",
        "role_arn": ROLE_ARN,
        "external_id": EXTERNAL_ID,
        "cloudfront_distribution_id": dist_id,
        "redirects": True,
    }
    base.update(kw)
    return Settings(**base)


def test_first_deploy_creates_publishes_and_attaches(docs: Docs, tmp_path: Path) -> None:
    dist = docs.distribution(rest_origin())
    built = site(tmp_path / "site", {"old/index.html": "../guide/"})
    result = cf_function.deploy(settings(dist), built)
    name = function_name(dist)
    assert result.name == name and not result.dry_run
    assert [c.split(" ")[0] for c in result.changes] == ["create", "publish", "attach"]
    code, _ = docs.live(name)
    expected, _ = cf_function.build_function(settings(dist), built)
    assert code == expected.code
    assert docs.associations(dist) == [{"FunctionARN": result.arn, "EventType": "viewer-request"}]
    assert result.arn.startswith("arn:aws:cloudfront::222222222222:function/")
    # what is LIVE on the distribution does the job
    answers = run_function(code, [viewer_event("/docs/guide/"), viewer_event("/docs/old", {"a": "1"})])
    assert [outcome(a) for a in answers] == ["-> /docs/guide/index.html", "301 /docs/guide/?a=1"]


def test_second_deploy_changes_nothing(docs: Docs, tmp_path: Path) -> None:
    dist = docs.distribution(rest_origin())
    built = site(tmp_path / "site", {"old/index.html": "../guide/"})
    cf_function.deploy(settings(dist), built)
    before = docs.state(function_name(dist), dist)
    again = cf_function.deploy(settings(dist), built)
    assert again.changes == []
    assert "up to date" in again.lines()[0]
    assert docs.state(function_name(dist), dist) == before  # no update, no publish, no distribution update


def test_dry_run_shows_the_change_and_changes_nothing(docs: Docs, tmp_path: Path) -> None:
    dist = docs.distribution(rest_origin())
    built = site(tmp_path / "site", {"old/index.html": "../guide/"})
    cf_function.deploy(settings(dist), built)
    name = function_name(dist)
    before, live_before = docs.state(name, dist), docs.live(name)[0]
    site(built, {"older/index.html": "../guide/"})
    plan = cf_function.deploy(settings(dist), built, dry_run=True)
    assert plan.dry_run
    assert [c.split(" ")[0] for c in plan.changes] == ["update", "publish"]
    assert "2 redirects" in plan.changes[0]
    assert all(line.startswith("(dryrun) ") for line in plan.lines())
    assert docs.state(name, dist) == before and docs.live(name)[0] == live_before
    # the real deploy then does exactly that, and leaves the association alone
    done = cf_function.deploy(settings(dist), built)
    assert [c.split(" ")[0] for c in done.changes] == ["update", "publish"]
    assert "older/" in docs.live(name)[0]
    assert docs.state(name, dist)[2] == before[2]


def test_dry_run_on_a_new_distribution_creates_nothing(docs: Docs, tmp_path: Path) -> None:
    dist = docs.distribution(rest_origin())
    plan = cf_function.deploy(settings(dist), site(tmp_path / "s", {}), dry_run=True)
    assert [c.split(" ")[0] for c in plan.changes] == ["create", "publish", "attach"]
    assert docs.cf.list_functions()["FunctionList"].get("Items", []) == []
    assert docs.associations(dist) == []


def test_another_function_is_replaced_only_when_asked(docs: Docs, tmp_path: Path) -> None:
    theirs = docs.cf.create_function(
        Name="theirs", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"}, FunctionCode=b"x"
    )["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    dist = docs.distribution(rest_origin(), [{"FunctionARN": theirs, "EventType": "viewer-request"}])
    built = site(tmp_path / "s", {})
    with pytest.raises(PublishError, match="another viewer-request function") as caught:
        cf_function.deploy(settings(dist), built)
    assert "--replace" in str(caught.value.fix)
    assert docs.associations(dist) == [{"FunctionARN": theirs, "EventType": "viewer-request"}]
    done = cf_function.deploy(settings(dist), built, replace=True)
    assert "replacing theirs" in done.changes[-1]
    assert docs.associations(dist) == [{"FunctionARN": done.arn, "EventType": "viewer-request"}]


def test_origin_path_is_taken_off_the_prefix(docs: Docs, tmp_path: Path) -> None:
    dist = docs.distribution(rest_origin(path="/docs"))
    result = cf_function.deploy(settings(dist), site(tmp_path / "s", {"old/index.html": "../guide/"}))
    assert result.prefix == ""
    code, _ = docs.live(function_name(dist))
    answers = run_function(code, [viewer_event("/guide/"), viewer_event("/old/")])
    assert [outcome(a) for a in answers] == ["-> /guide/index.html", "301 /guide/"]


def test_unreachable_prefix_is_refused(docs: Docs, tmp_path: Path) -> None:
    dist = docs.distribution(rest_origin(path="/other"))
    with pytest.raises(PublishError, match="origin path '/other'"):
        cf_function.deploy(settings(dist), site(tmp_path / "s", {}))


def test_versions_json_in_the_bucket_sets_the_default_version(docs: Docs, tmp_path: Path) -> None:
    versions = [{"version": "2.0", "title": "2.0", "aliases": ["latest"]}, {"version": "1.0", "aliases": []}]
    docs.s3.put_object(Bucket=BUCKET, Key="docs/versions.json", Body=json.dumps(versions).encode())
    dist = docs.distribution(rest_origin())
    result = cf_function.deploy(settings(dist), site(tmp_path / "s", {}))
    assert result.default_version == "latest"
    code, _ = docs.live(function_name(dist))
    assert outcome(run_function(code, [viewer_event("/docs/")])[0]) == "301 /docs/latest/"
    # an explicit version wins
    again = cf_function.deploy(settings(dist), site(tmp_path / "s", {}), version="1.0")
    assert again.default_version == "1.0" and [c.split(" ")[0] for c in again.changes] == ["update", "publish"]


def test_unknown_distribution_says_which_option(docs: Docs, tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="was not found") as caught:
        cf_function.deploy(settings("E0NOSUCHDIST1"), site(tmp_path / "s", {}))
    assert "cloudfront_distribution_id" in str(caught.value.fix)


def _origin_steps(s: Settings) -> list[str]:
    return [line for step in run_checks(s) if step.name == "CloudFront origin" for line in step.lines()]


def test_check_tells_rest_origin_without_and_with_the_function(docs: Docs, tmp_path: Path) -> None:
    dist = docs.distribution(rest_origin())
    before = _origin_steps(settings(dist))
    assert len(before) == 1 and before[0].startswith("[--]")
    assert "REST endpoint with Origin Access Control E1OACEXAMPLE" in before[0]
    assert "no viewer-request function is attached" in before[0] and "redirect objects" in before[0]
    cf_function.deploy(settings(dist), site(tmp_path / "s", {}))
    after = _origin_steps(settings(dist))
    assert len(after) == 1 and after[0].startswith("[ok]")
    assert f"{function_name(dist)} is attached" in after[0]


def test_website_origin_warns_the_bucket_must_be_public(docs: Docs) -> None:
    dist = docs.distribution(website_origin())
    s = settings(dist)
    warnings = cf_function.origin_warnings(connect(s), s)
    assert len(warnings) == 1
    assert "website endpoint" in warnings[0] and "must be public" in warnings[0]


def test_origin_warnings_never_fail_a_publish(docs: Docs) -> None:
    s = settings("E0NOSUCHDIST1")
    assert cf_function.origin_warnings(connect(s), s) == []
    line, fix = _origin_steps(s)
    assert line.startswith("[--]") and "not inspected" in line and "was not found" in line
    assert "Fix:" in fix and "cloudfront_distribution_id" in fix
