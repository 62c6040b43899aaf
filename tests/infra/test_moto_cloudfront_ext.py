"""Pins why the CloudFront extension exists: plain moto 5.2.5 lacks these calls (if this starts
failing, moto has caught up and tests/support/moto_cloudfront_ext.py may shrink)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.motoserver import MotoServer, make_client

ORIGIN = {
    "Id": "s3",
    "DomainName": "example-docs.s3.us-east-1.amazonaws.com",
    "S3OriginConfig": {"OriginAccessIdentity": ""},
    "OriginAccessControlId": "E1OAC",
}


def _setup(url: str) -> tuple[Any, str, str]:
    cf = make_client("cloudfront", url, max_attempts=1)
    fn = cf.create_function(
        Name="fn", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"}, FunctionCode=b"x"
    )
    arn = fn["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    behaviour = {
        "TargetOriginId": "s3",
        "ViewerProtocolPolicy": "allow-all",
        "FunctionAssociations": {"Quantity": 1, "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}]},
    }
    config = {"CallerReference": "r", "Comment": "", "Enabled": True, "Origins": {"Quantity": 1, "Items": [ORIGIN]}}
    dist = cf.create_distribution(DistributionConfig={**config, "DefaultCacheBehavior": behaviour})
    return cf, dist["Distribution"]["Id"], fn["ETag"]


def test_plain_moto_lacks_what_a_deploy_needs(moto: MotoServer) -> None:
    cf, dist, etag = _setup(moto.url)
    with pytest.raises(ClientError):
        cf.publish_function(Name="fn", IfMatch=etag)
    with pytest.raises(ClientError):
        cf.update_function(
            Name="fn", IfMatch=etag, FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"}, FunctionCode=b"y"
        )
    config = cf.get_distribution_config(Id=dist)["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["FunctionAssociations"]["Quantity"] == 0


def test_extended_moto_keeps_and_publishes(moto_cloudfront: MotoServer) -> None:
    moto_cloudfront.reset()
    cf, dist, etag = _setup(moto_cloudfront.url)
    updated = cf.update_function(
        Name="fn", IfMatch=etag, FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"}, FunctionCode=b"y"
    )
    with pytest.raises(ClientError, match="PreconditionFailed"):
        cf.publish_function(Name="fn", IfMatch=etag)  # stale ETag
    with pytest.raises(ClientError, match="NoSuchFunctionExists"):
        cf.get_function(Name="fn", Stage="LIVE")
    cf.publish_function(Name="fn", IfMatch=updated["ETag"])
    assert cf.get_function(Name="fn", Stage="LIVE")["FunctionCode"].read() == b"y"
    config = cf.get_distribution_config(Id=dist)["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["FunctionAssociations"]["Items"][0]["EventType"] == "viewer-request"
    assert config["Origins"]["Items"][0]["OriginAccessControlId"] == "E1OAC"
