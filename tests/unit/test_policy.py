"""The pure policy builder, and the test evaluator it is checked with."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mkdocs_s3_crossaccount.core import policy as p
from tests.policy_eval import Request, allows, s3_requests

ROLE = "arn:aws:iam::222222222222:role/docs-publisher"


def _actions(doc: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for st in doc["Statement"]:
        out |= {st["Action"]} if isinstance(st["Action"], str) else set(st["Action"])
    return out


@pytest.mark.parametrize(
    ("arn", "principal"),
    [
        ("arn:aws:sts::123456789012:assumed-role/ci-runner/i-0abc", "arn:aws:iam::123456789012:role/ci-runner"),
        ("arn:aws-cn:sts::123456789012:assumed-role/r/s", "arn:aws-cn:iam::123456789012:role/r"),
        ("arn:aws:iam::123456789012:user/gitlab-ci", "arn:aws:iam::123456789012:user/gitlab-ci"),
        ("arn:aws:sts::123456789012:user/moto", "arn:aws:iam::123456789012:user/moto"),
    ],
)
def test_principal_from_identity(arn: str, principal: str) -> None:
    assert p.principal_from_identity(arn) == principal


def test_federated_user_is_no_principal() -> None:
    with pytest.raises(ValueError, match="--principal"):
        p.principal_from_identity("arn:aws:sts::123456789012:federated-user/bob")


def test_permission_policy_with_prefix_is_least_privilege() -> None:
    doc = p.permission_policy("example-docs", "docs/v2")
    assert _actions(doc) == {
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListBucketMultipartUploads",  # issue 10 item 16: find what a killed publish left
    }
    assert not any("*" in a for a in _actions(doc)), "no wildcard actions"
    listing, objects, uploads = doc["Statement"]
    assert uploads["Resource"] == "arn:aws:s3:::example-docs"
    assert listing["Resource"] == "arn:aws:s3:::example-docs"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["docs/v2/", "docs/v2/*"]}}
    assert objects["Resource"] == "arn:aws:s3:::example-docs/docs/v2/*"
    # the prefix is a '/' boundary: docs/v2-old is out of reach
    assert not allows(doc, Request("s3:PutObject", "arn:aws:s3:::example-docs/docs/v2-old/index.html"))
    assert allows(doc, Request("s3:PutObject", "arn:aws:s3:::example-docs/docs/v2/index.html"))
    assert not allows(doc, Request("s3:ListBucket", "arn:aws:s3:::example-docs", {"s3:prefix": "docs/"}))
    assert not allows(doc, Request("s3:ListBucket", "arn:aws:s3:::example-docs"))


def test_permission_policy_without_prefix_covers_the_bucket() -> None:
    doc = p.permission_policy("example-docs", "")
    listing, objects, _ = doc["Statement"]
    assert "Condition" not in listing
    assert objects["Resource"] == "arn:aws:s3:::example-docs/*"
    put = s3_requests("PutObject", {"Bucket": "example-docs", "Key": "a/b.html"})[0]
    assert allows(doc, put)


def test_cloudfront_statement_only_when_configured() -> None:
    assert len(p.permission_policy("b-1", "")["Statement"]) == 3  # list, objects, incomplete uploads
    doc = p.permission_policy("b-1", "", grants=p.Grants(cloudfront_distribution_id="E123ABC", account="222222222222"))
    cdn = doc["Statement"][-1]
    assert cdn["Action"] == ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"]
    assert cdn["Resource"] == "arn:aws:cloudfront::222222222222:distribution/E123ABC"


def test_trust_policy_with_external_id_never_contains_the_value() -> None:
    doc = p.role_trust_policy("arn:aws:iam::123456789012:user/ci", external_id=True)
    text = json.dumps(doc)
    assert '"sts:ExternalId": "REPLACE-WITH-YOUR-EXTERNAL-ID"' in text
    assert "Condition" not in p.role_trust_policy("arn:aws:iam::123456789012:user/ci", False)["Statement"][0]


def test_oidc_trust_policy_branch_pattern_uses_string_like() -> None:
    oidc = p.GitLabOidc("group/sub/project", ref="release-*")
    doc = p.oidc_trust_policy(oidc, "222222222222")
    st = doc["Statement"][0]
    assert st["Principal"] == {"Federated": "arn:aws:iam::222222222222:oidc-provider/gitlab.com"}
    assert st["Condition"] == {
        "StringEquals": {"gitlab.com:aud": "https://gitlab.com"},
        "StringLike": {"gitlab.com:sub": "project_path:group/sub/project:ref_type:branch:ref:release-*"},
    }
    self_managed = p.GitLabOidc("g/p", ref="main", host="gitlab.example.com", audience="sts.amazonaws.com")
    st = p.oidc_trust_policy(self_managed, "222222222222")["Statement"][0]
    assert st["Principal"]["Federated"].endswith(":oidc-provider/gitlab.example.com")
    assert st["Condition"]["StringEquals"]["gitlab.example.com:sub"] == "project_path:g/p:ref_type:branch:ref:main"


@pytest.mark.parametrize(
    "kwargs", [{"project": "noslash"}, {"project": "g/p", "ref_type": "commit"}, {"project": "g/p", "ref": "a b"}]
)
def test_gitlab_oidc_rejects_bad_input(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        p.GitLabOidc(**kwargs)


def test_policies_for_the_oidc_chain() -> None:
    dev = "arn:aws:iam::123456789012:role/gitlab-docs-ci"
    docs = p.policies(
        p.Setup(
            bucket="example-docs",
            prefix="",
            role_arn=ROLE,
            external_id=True,
            oidc=p.GitLabOidc("g/p", ref="main"),
            web_identity_role_arn=dev,
        )
    )
    assert docs["trust_policy"]["Statement"][0]["Principal"] == {"AWS": dev}
    web = docs["web_identity_role"]
    assert web["trust_policy"]["Statement"][0]["Principal"]["Federated"] == (
        "arn:aws:iam::123456789012:oidc-provider/gitlab.com"
    )
    assert allows(web["permission_policy"], Request("sts:AssumeRole", ROLE))
    assert set(p.files(docs)) == {
        "trust-policy.json",
        "permission-policy.json",
        "web-identity-trust-policy.json",
        "web-identity-permission-policy.json",
    }
    json.dumps(docs)  # serialisable as is


def test_policies_need_a_principal_for_keys() -> None:
    with pytest.raises(ValueError, match="principal"):
        p.policies(p.Setup(bucket="example-docs", prefix="", role_arn=ROLE))


def test_evaluator_wildcards_and_conditions() -> None:
    doc = {"Statement": [{"Effect": "Allow", "Action": "S3:Get*", "Resource": "arn:aws:s3:::b/a?c/*"}]}
    assert allows(doc, Request("s3:GetObject", "arn:aws:s3:::b/abc/x/y"))
    assert not allows(doc, Request("s3:PutObject", "arn:aws:s3:::b/abc/x"))
    assert not allows(doc, Request("s3:GetObject", "arn:aws:s3:::b/abbc/x"))
    with pytest.raises(AssertionError, match="no IAM mapping"):
        s3_requests("PutBucketPolicy", {"Bucket": "b"})


def test_cloudfront_function_statements_are_added_only_when_asked() -> None:
    from mkdocs_s3_crossaccount.core.policy import Grants
    from mkdocs_s3_crossaccount.core.policy import permission_policy as build

    plain = build("example-docs", "docs", "aws", Grants("E2ABCDEF123456", "222222222222"))
    with_fn = build(
        "example-docs",
        "docs",
        "aws",
        Grants("E2ABCDEF123456", "222222222222", cloudfront_function="mkdocs-s3xa-E2ABCDEF123456"),
    )
    added = with_fn["Statement"][len(plain["Statement"]) :]
    assert with_fn["Statement"][: len(plain["Statement"])] == plain["Statement"]
    assert added == [
        {
            "Sid": "DeployViewerFunction",
            "Effect": "Allow",
            "Action": [
                "cloudfront:DescribeFunction",
                "cloudfront:GetFunction",
                "cloudfront:CreateFunction",
                "cloudfront:UpdateFunction",
                "cloudfront:PublishFunction",
            ],
            "Resource": "arn:aws:cloudfront::222222222222:function/mkdocs-s3xa-E2ABCDEF123456",
        },
        {
            "Sid": "AttachViewerFunction",
            "Effect": "Allow",
            "Action": ["cloudfront:GetDistributionConfig", "cloudfront:UpdateDistribution"],
            "Resource": "arn:aws:cloudfront::222222222222:distribution/E2ABCDEF123456",
        },
    ]


def test_cloudfront_function_statements_need_a_distribution() -> None:
    import pytest

    from mkdocs_s3_crossaccount.core.policy import Grants
    from mkdocs_s3_crossaccount.core.policy import permission_policy as build

    with pytest.raises(ValueError, match="cloudfront_distribution_id"):
        build("example-docs", "docs", grants=Grants(cloudfront_function="fn"))
