"""Origin classification of a CloudFront distribution config, and what it means for a publish (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from mkdocs_s3_crossaccount.core.cloudfront_origin import (
    OTHER,
    REST_OAC,
    REST_OAI,
    REST_PUBLIC,
    WEBSITE,
    classify,
    findings,
    viewer_prefix,
)

FN = "mkdocs-s3xa-E2ABCDEF123456"
FN_ARN = f"arn:aws:cloudfront::222222222222:function/{FN}"


def config(origin: dict[str, Any], functions: list[dict[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    behaviour: dict[str, Any] = {"TargetOriginId": origin["Id"]}
    if functions is not None:
        behaviour["FunctionAssociations"] = {"Quantity": len(functions), "Items": functions}
    behaviour.update(extra)
    return {"Origins": {"Quantity": 1, "Items": [origin]}, "DefaultCacheBehavior": behaviour}


def rest(
    domain: str = "example-docs.s3.us-east-1.amazonaws.com", oac: str = "", oai: str = "", path: str = ""
) -> dict[str, Any]:
    return {
        "Id": "s3",
        "DomainName": domain,
        "OriginPath": path,
        "S3OriginConfig": {"OriginAccessIdentity": oai},
        "OriginAccessControlId": oac,
    }


def website(domain: str = "example-docs.s3-website-us-east-1.amazonaws.com") -> dict[str, Any]:
    return {"Id": "web", "DomainName": domain, "CustomOriginConfig": {"OriginProtocolPolicy": "http-only"}}


@pytest.mark.parametrize(
    ("origin", "kind", "bucket"),
    [
        (rest(oac="E1OAC"), REST_OAC, "example-docs"),
        (rest(oai="origin-access-identity/cloudfront/E1OAI"), REST_OAI, "example-docs"),
        (rest(), REST_PUBLIC, "example-docs"),
        (rest("docs.example.com.s3.amazonaws.com", oac="E1"), REST_OAC, "docs.example.com"),
        (rest("example-docs.s3-eu-west-1.amazonaws.com", oac="E1"), REST_OAC, "example-docs"),
        (rest("example-docs.s3.dualstack.eu-west-1.amazonaws.com", oac="E1"), REST_OAC, "example-docs"),
        (rest("example-docs.s3.cn-north-1.amazonaws.com.cn", oac="E1"), REST_OAC, "example-docs"),
        (website(), WEBSITE, "example-docs"),
        (website("docs.example.com.s3-website.eu-central-1.amazonaws.com"), WEBSITE, "docs.example.com"),
        ({"Id": "app", "DomainName": "app.example.com", "CustomOriginConfig": {}}, OTHER, None),
    ],
)
def test_classify(origin: dict[str, Any], kind: str, bucket: str | None) -> None:
    info = classify(config(origin))
    assert (info.kind, info.bucket) == (kind, bucket)


def test_origin_group_uses_its_first_member() -> None:
    cfg = config(rest(oac="E1"))
    cfg["DefaultCacheBehavior"]["TargetOriginId"] = "group"
    cfg["OriginGroups"] = {
        "Quantity": 1,
        "Items": [{"Id": "group", "Members": {"Quantity": 1, "Items": [{"OriginId": "s3"}]}}],
    }
    assert classify(cfg).kind == REST_OAC


def test_viewer_request_function_is_found() -> None:
    cfg = config(
        rest(oac="E1"),
        [
            {"FunctionARN": "arn:x:function/other", "EventType": "viewer-response"},
            {"FunctionARN": FN_ARN, "EventType": "viewer-request"},
        ],
    )
    info = classify(cfg)
    assert info.function_arn == FN_ARN and info.function_name == FN


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        ("docs", "", "docs"),
        ("docs", "/docs", ""),
        ("docs/v2", "/docs", "v2"),
        ("docs", "/other", None),
        ("", "/docs", None),
        ("docs-old", "/docs", None),
    ],
)
def test_viewer_prefix(prefix: str, path: str, expected: str | None) -> None:
    assert viewer_prefix(prefix, path) == expected


def _find(cfg: dict[str, Any], bucket: str = "example-docs", prefix: str = "docs") -> list[tuple[bool, str]]:
    return [
        (f.ok, f.text)
        for f in findings(
            classify(cfg), distribution_id="E2ABCDEF123456", bucket=bucket, prefix=prefix, function_name=FN
        )
    ]


def test_website_origin_warns_the_bucket_must_be_public() -> None:
    ((ok, text),) = _find(config(website()))
    assert not ok
    assert "website endpoint" in text and "must be public" in text and "s3:GetObject" in text


def test_rest_origin_without_function_warns_about_dirs_and_redirects() -> None:
    ((ok, text),) = _find(config(rest(oac="E1OAC")))
    assert not ok
    assert "Origin Access Control E1OAC" in text
    assert "/dir/" in text and "redirect objects" in text
    assert "no viewer-request function is attached" in text and "cloudfront-function --deploy" in text


def test_rest_origin_with_our_function_is_fine() -> None:
    ((ok, text),) = _find(config(rest(oac="E1"), [{"FunctionARN": FN_ARN, "EventType": "viewer-request"}]))
    assert ok
    assert f"{FN} is attached" in text


def test_rest_origin_with_another_function_says_so() -> None:
    cfg = config(
        rest(oai="origin-access-identity/cloudfront/E1"),
        [{"FunctionARN": "arn:aws:cloudfront::1:function/theirs", "EventType": "viewer-request"}],
    )
    ((ok, text),) = _find(cfg)
    assert not ok and "theirs" in text and "--replace" in text


def test_public_rest_origin_says_the_bucket_must_be_public() -> None:
    ((ok, text),) = _find(config(rest()))
    assert not ok and "without OAC or OAI" in text and "must be public" in text


def test_wrong_bucket_and_unreachable_prefix_are_warnings() -> None:
    got = _find(config(rest(oac="E1", path="/other")), bucket="example-docs", prefix="docs")
    assert any("origin path '/other'" in t for _, t in got)
    got = _find(config(rest("someone-else.s3.amazonaws.com", oac="E1")))
    assert any("reads bucket 'someone-else'" in t and not ok for ok, t in got)


def test_other_origin() -> None:
    ((ok, text),) = _find(config({"Id": "app", "DomainName": "app.example.com"}))
    assert not ok and "not an S3 bucket endpoint" in text
