"""IAM policy documents for a publish, built from the settings (pure).

Three documents, each ready for the AWS CLI:

- the documents-account role's **trust policy** (``aws iam create-role
  --assume-role-policy-document``): who may assume it, with ExternalId or GitLab OIDC
  conditions;
- its least-privilege **permission policy** (``aws iam put-role-policy``): list the bucket
  under the prefix, read/write/delete objects under the prefix, and nothing else;
- the **source policy** for the development-account identity: ``sts:AssumeRole`` on the role.

With ``web_identity_role_arn`` the OIDC trust goes on that development-account role instead,
and the documents role trusts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Document = dict[str, Any]

VERSION = "2012-10-17"
DEFAULT_GITLAB_HOST = "gitlab.com"
DEFAULT_AUDIENCE = "https://gitlab.com"

_ASSUMED_ROLE = re.compile(r"^arn:(?P<p>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[\w+=,.@-]+)/[^/]+$")
_STS_USER = re.compile(r"^arn:(?P<p>[\w-]+):sts::(?P<account>\d{12}):user/(?P<user>.+)$")
_IAM_ARN = re.compile(r"^arn:[\w-]+:iam::\d{12}:(user|role)/.+$")
_ROOT = re.compile(r"^(arn:[\w-]+:iam::\d{12}:root|\d{12})$")


def principal_from_identity(arn: str) -> str:
    """A trust-policy principal for a GetCallerIdentity ARN.

    An assumed-role session (``arn:aws:sts::1:assumed-role/Name/session``) becomes the role
    ``arn:aws:iam::1:role/Name``: trust policies name roles, not sessions. (The session ARN
    does not show a role path; if the role has one, add it.)
    """
    m = _ASSUMED_ROLE.match(arn)
    if m:
        return f"arn:{m.group('p')}:iam::{m.group('account')}:role/{m.group('role')}"
    m = _STS_USER.match(arn)  # STS answers users in the iam namespace; some emulators use sts
    if m:
        return f"arn:{m.group('p')}:iam::{m.group('account')}:user/{m.group('user')}"
    if _IAM_ARN.match(arn) or _ROOT.match(arn):
        return arn
    raise ValueError(
        f"{arn!r} cannot be a trust-policy principal (federated users and root sessions are not); "
        "pass --principal with the IAM user or role ARN that runs the publish."
    )


def partition_of(role_arn: str) -> str:
    """The partition of an ARN (aws, aws-cn, ...)."""
    return role_arn.split(":", 2)[1]


@dataclass(frozen=True)
class GitLabOidc:
    """Who may enter a role with a GitLab id_token: project and ref pattern."""

    project: str  # group/subgroup/project
    ref: str = "*"  # branch or tag name, glob allowed ('main', 'release-*', '*')
    ref_type: str = "branch"  # branch | tag | * (any)
    audience: str = DEFAULT_AUDIENCE
    host: str = DEFAULT_GITLAB_HOST

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[\w.-]+(/[\w.-]+)+", self.project):
            raise ValueError(
                f"{self.project!r} is not a GitLab project path like group/project (or group/sub/project)."
            )
        if self.ref_type not in ("branch", "tag", "*"):
            raise ValueError(f"ref type {self.ref_type!r} must be branch, tag or *.")
        if not self.ref or re.search(r"[\s:]", self.ref):
            raise ValueError(f"ref pattern {self.ref!r} must be a branch/tag name or glob without spaces or ':'.")
        if not re.fullmatch(r"[a-z0-9.-]+(:\d+)?(/[\w.-]+)*", self.host):
            raise ValueError(f"{self.host!r} is not a GitLab host name like gitlab.com or gitlab.example.com.")

    @property
    def subject(self) -> str:
        """The token's ``sub`` condition value for this project and ref."""
        return f"project_path:{self.project}:ref_type:{self.ref_type}:ref:{self.ref}"

    def provider_arn(self, account: str, partition: str = "aws") -> str:
        """The IAM OIDC provider's ARN in ``account``."""
        return f"arn:{partition}:iam::{account}:oidc-provider/{self.host}"


def oidc_trust_policy(oidc: GitLabOidc, account: str, partition: str = "aws") -> Document:
    """Trust for AssumeRoleWithWebIdentity from one GitLab project and ref pattern."""
    sub_op = "StringLike" if any(ch in oidc.subject for ch in "*?") else "StringEquals"
    conditions: dict[str, dict[str, str]] = {"StringEquals": {f"{oidc.host}:aud": oidc.audience}}
    conditions.setdefault(sub_op, {})[f"{oidc.host}:sub"] = oidc.subject
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "GitLabOidcPublish",
                "Effect": "Allow",
                "Principal": {"Federated": oidc.provider_arn(account, partition)},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": conditions,
            }
        ],
    }


def role_trust_policy(principal: str, external_id: bool) -> Document:
    """Trust for sts:AssumeRole from one IAM principal, with the ExternalId condition if one is used."""
    statement: Document = {
        "Sid": "PublishDocs",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if external_id:
        # The value is a shared secret: it is never printed; put yours in place of the marker.
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": "REPLACE-WITH-YOUR-EXTERNAL-ID"}}
    return {"Version": VERSION, "Statement": [statement]}


def account_of_arn(arn: str) -> str:
    """The account field of an (already validated) ARN."""
    return arn.split(":")[4]


@dataclass(frozen=True)
class Grants:
    """What a permission policy covers beside the bucket prefix: the CDN and its function, the KMS key."""

    cloudfront_distribution_id: str | None = None
    account: str | None = None  # the documents account (the distribution's); '*' when unknown
    kms_key_arn: str | None = None
    cloudfront_function: str | None = None


def permission_policy(bucket: str, prefix: str, partition: str = "aws", grants: Grants | None = None) -> Document:
    """Least privilege for publish, plan, check and remove: nothing beyond the bucket and prefix.

    ``cloudfront_function`` (a function name; needs ``cloudfront_distribution_id``) adds what
    ``cloudfront-function --deploy`` needs: see :func:`cloudfront_function_statements`.

    The same document scopes a session with ``scope_session`` (session_policy.py), so the role's
    policy and the session's never disagree about what a publish needs.
    """
    g = grants or Grants()
    cloudfront_distribution_id, account = g.cloudfront_distribution_id, g.account
    kms_key_arn, cloudfront_function = g.kms_key_arn, g.cloudfront_function
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    objects = f"{bucket_arn}/{prefix}/*" if prefix else f"{bucket_arn}/*"
    listing: Document = {
        "Sid": "ListSitePrefix",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": bucket_arn,
    }
    if prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}/", f"{prefix}/*"]}}
    statements: list[Document] = [
        listing,
        {
            "Sid": "WriteSiteObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": objects,
        },
        {
            # lists (never reads) incomplete multipart uploads, so a later publish can abort what a killed
            # one left under the prefix; the action has no s3:prefix condition key, the request names the prefix
            "Sid": "FindIncompleteUploads",
            "Effect": "Allow",
            "Action": "s3:ListBucketMultipartUploads",
            "Resource": bucket_arn,
        },
    ]
    if cloudfront_distribution_id:
        statements.append(
            {
                "Sid": "InvalidateCdn",
                "Effect": "Allow",
                "Action": ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
                "Resource": f"arn:{partition}:cloudfront::{account or '*'}:distribution/{cloudfront_distribution_id}",
            }
        )
    if cloudfront_function:
        if not cloudfront_distribution_id:
            raise ValueError(
                "the CloudFront function permissions need cloudfront_distribution_id (the distribution it is "
                "attached to)"
            )
        statements += cloudfront_function_statements(
            partition, account or "*", cloudfront_distribution_id, cloudfront_function
        )
    if kms_key_arn:
        statements.append(
            {
                "Sid": "UseBucketKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": kms_key_arn,
            }
        )
    return {"Version": VERSION, "Statement": statements}


FUNCTION_ACTIONS = (
    "cloudfront:DescribeFunction",
    "cloudfront:GetFunction",
    "cloudfront:CreateFunction",
    "cloudfront:UpdateFunction",
    "cloudfront:PublishFunction",
)
DISTRIBUTION_CONFIG_ACTIONS = ("cloudfront:GetDistributionConfig", "cloudfront:UpdateDistribution")


def function_arn(partition: str, account: str, name: str) -> str:
    """The ARN of a CloudFront function (global: no region)."""
    return f"arn:{partition}:cloudfront::{account}:function/{name}"


def distribution_arn(partition: str, account: str, distribution_id: str) -> str:
    """The ARN of a CloudFront distribution (global: no region)."""
    return f"arn:{partition}:cloudfront::{account}:distribution/{distribution_id}"


def cloudfront_function_statements(partition: str, account: str, distribution_id: str, name: str) -> list[Document]:
    """Deploy the viewer-request function (create, update, publish, read back) and attach it.

    GetDistributionConfig is also what ``check``'s origin inspection reads.
    """
    return [
        {
            "Sid": "DeployViewerFunction",
            "Effect": "Allow",
            "Action": list(FUNCTION_ACTIONS),
            "Resource": function_arn(partition, account, name),
        },
        {
            "Sid": "AttachViewerFunction",
            "Effect": "Allow",
            "Action": list(DISTRIBUTION_CONFIG_ACTIONS),
            "Resource": distribution_arn(partition, account, distribution_id),
        },
    ]


def source_policy(role_arn: str) -> Document:
    """For the development-account user or role: may assume the documents role, nothing else."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "AssumeDocsPublisher", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}
        ],
    }


@dataclass(frozen=True)
class Setup:
    """What the policies are for: the bucket and prefix, the role, who enters it and how."""

    bucket: str
    prefix: str
    role_arn: str
    principal: str | None = None  # the development-account user or role (IAM keys)
    external_id: bool = False
    oidc: GitLabOidc | None = None
    web_identity_role_arn: str | None = None
    cloudfront_distribution_id: str | None = None
    kms_key_arn: str | None = None
    cloudfront_function: str | None = None  # the viewer-request function's name, for `policy --cloudfront-function`
    rollback: bool = False  # add what `rollback` needs (object versions, the versioning status)


def rollback_statements(bucket: str, prefix: str, partition: str = "aws") -> list[Document]:
    """What `rollback` needs beyond publishing: copy from object versions, read the versioning status."""
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    objects = f"{bucket_arn}/{prefix}/*" if prefix else f"{bucket_arn}/*"
    return [
        {"Sid": "RestoreObjectVersions", "Effect": "Allow", "Action": "s3:GetObjectVersion", "Resource": objects},
        {"Sid": "ReadVersioningStatus", "Effect": "Allow", "Action": "s3:GetBucketVersioning", "Resource": bucket_arn},
    ]


def role_permissions(setup: Setup) -> Document:
    """The documents-account role's permission policy: needs neither the principal nor the OIDC project."""
    bucket, prefix, role_arn = setup.bucket, setup.prefix, setup.role_arn
    partition = partition_of(role_arn)
    grants = Grants(
        setup.cloudfront_distribution_id, account_of_arn(role_arn), setup.kms_key_arn, setup.cloudfront_function
    )
    perms = permission_policy(bucket, prefix, partition, grants)
    if setup.rollback:
        perms["Statement"] = [*perms["Statement"], *rollback_statements(bucket, prefix, partition)]
    return perms


def policies(setup: Setup) -> Document:
    """Every document the setup needs, keyed by where it goes."""
    role_arn, principal = setup.role_arn, setup.principal
    external_id, oidc, web_identity_role_arn = setup.external_id, setup.oidc, setup.web_identity_role_arn
    account = account_of_arn(role_arn)
    partition = partition_of(role_arn)
    out: Document = {"role_arn": role_arn}
    perms = role_permissions(setup)
    if oidc is not None and web_identity_role_arn is None:
        out["trust_policy"] = oidc_trust_policy(oidc, account, partition)
        out["permission_policy"] = perms
        return out
    if oidc is not None and web_identity_role_arn is not None:
        dev_account = account_of_arn(web_identity_role_arn)
        out["trust_policy"] = role_trust_policy(web_identity_role_arn, external_id)
        out["permission_policy"] = perms
        out["web_identity_role"] = {
            "role_arn": web_identity_role_arn,
            "trust_policy": oidc_trust_policy(oidc, dev_account, partition_of(web_identity_role_arn)),
            "permission_policy": source_policy(role_arn),
        }
        return out
    if principal is None:
        raise ValueError("a principal (the development-account user or role) is needed for the trust policy")
    out["trust_policy"] = role_trust_policy(principal, external_id)
    out["permission_policy"] = perms
    out["source_principal"] = principal
    out["source_policy"] = source_policy(role_arn)
    return out


def aws_cli_commands(docs: Document) -> list[str]:
    """The AWS CLI commands that install the documents (files named as `policy --write` names them)."""
    role = str(docs["role_arn"]).split(":role/", 1)[1].rsplit("/", 1)[-1]
    cmds = [
        f"aws iam create-role --role-name {role} --assume-role-policy-document file://trust-policy.json",
        f"aws iam put-role-policy --role-name {role} --policy-name publish-docs "
        "--policy-document file://permission-policy.json",
    ]
    if "web_identity_role" in docs:
        dev_role = str(docs["web_identity_role"]["role_arn"]).split(":role/", 1)[1].rsplit("/", 1)[-1]
        cmds += [
            f"aws iam create-role --role-name {dev_role} "
            "--assume-role-policy-document file://web-identity-trust-policy.json  # development account",
            f"aws iam put-role-policy --role-name {dev_role} --policy-name assume-docs-publisher "
            "--policy-document file://web-identity-permission-policy.json  # development account",
        ]
    if "source_policy" in docs:
        cmds.append(
            "# development account: attach source-policy.json to " + str(docs["source_principal"]) + " "
            "(aws iam put-user-policy / put-role-policy --policy-document file://source-policy.json)"
        )
    return cmds


def files(docs: Document) -> dict[str, Document]:
    """file name -> document, for `policy --write DIR`."""
    out = {"trust-policy.json": docs["trust_policy"], "permission-policy.json": docs["permission_policy"]}
    if "web_identity_role" in docs:
        out["web-identity-trust-policy.json"] = docs["web_identity_role"]["trust_policy"]
        out["web-identity-permission-policy.json"] = docs["web_identity_role"]["permission_policy"]
    if "source_policy" in docs:
        out["source-policy.json"] = docs["source_policy"]
    return out
