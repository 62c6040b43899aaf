"""The moto server for tests (the process launcher is ``mkdocs_s3_crossaccount.demo.motoserver``,
shared with the demo) and boto3 clients for it.

Two accounts take part in every publish test:

* the *dev* account ``123456789012``: any caller whose access key moto does not
  know (e.g. ``testing-dev-access-key``) acts there;
* the *docs* account ``222222222222``: reached with STS ``AssumeRole`` into
  :data:`DOCS_ROLE_ARN`. Outside auth mode the role need not exist.

Auth mode (``POST /moto-api/reset-auth``; body ``N`` lets the next N requests
through unchecked, ``0`` enforces at once, ``inf`` switches checks off). What
moto 5.2 does and does not enforce, pinned by ``tests/infra/test_moto_auth.py``:

* Enforced: the access key must exist (an IAM user's key or STS session
  credentials; any other key gets ``InvalidAccessKeyId``, so create users
  while auth is off); identity policies of users and roles, including the S3
  resource ARN: a role with ``s3:*`` on ``arn:aws:s3:::BUCKET`` only is denied
  PutObject, ``arn:aws:s3:::BUCKET/*`` allows it; explicit ``Deny`` wins over
  ``Allow``; calling ``sts:AssumeRole`` needs it in the caller's identity policy.
* DeleteObjects (``POST /BUCKET?delete``) is authorised as ``s3:DeleteObject``
  against the *bucket* ARN, not per key: with ``s3:DeleteObject`` on
  ``BUCKET/*`` only, DeleteObjects answers HTTP 200 with every key under
  ``Errors`` / ``AccessDenied`` (nothing deleted; a single DeleteObject works);
  with ``s3:DeleteObject`` on ``arn:aws:s3:::BUCKET`` it deletes. (AWS checks
  ``BUCKET/KEY`` per key.) Code that deletes must inspect ``Errors``.
* Not enforced: role trust policies (a role trusting only account 333333333333
  is assumed by a dev-account user all the same; a wrong or missing
  ``ExternalId`` is accepted too), bucket ownership / bucket
  policies for cross-account access (a dev-account user whose identity policy
  names the docs bucket writes to it with no bucket policy), and
  ``ExpectedBucketOwner`` (see :mod:`.faultproxy` for a proxy that enforces it).
* AssumeRole into a role that does not exist succeeds even in auth mode, but
  S3 calls with those credentials then fail with HTTP 500: create the role
  (e.g. ``docs-publisher``) before enforcing.

Auth state is global to the server process: always switch it back with
:meth:`MotoServer.disable_auth` (the :meth:`MotoServer.auth_enforced` context
manager does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

# One launcher for the demo and the tests: the process part lives in the package.
from mkdocs_s3_crossaccount.demo.motoserver import (
    DEV_ACCOUNT_ID,
    DOCS_ACCOUNT_ID,
    DOCS_ROLE_ARN,
    HOST,
    REGION,
    MotoServer,
    free_port,
    moto_server,
    start_moto_server,
)

__all__ = [
    "DEV_ACCOUNT_ID",
    "DEV_CREDENTIALS",
    "DOCS_ACCOUNT_ID",
    "DOCS_ROLE_ARN",
    "HOST",
    "REGION",
    "Credentials",
    "MotoServer",
    "free_port",
    "moto_server",
    "start_moto_server",
]


@dataclass(frozen=True)
class Credentials:
    """A set of (fake) AWS credentials."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def client_kwargs(self) -> dict[str, str]:
        kwargs = {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }
        if self.session_token:
            kwargs["aws_session_token"] = self.session_token
        return kwargs


#: Obviously fake keys; moto maps unknown keys to the dev account.
DEV_CREDENTIALS = Credentials("testing-dev-access-key", "testing-dev-secret-key")


# --- clients ---------------------------------------------------------------


def client_config(
    *,
    max_attempts: int | None = None,
    retry_mode: str = "standard",
    connect_timeout: float = 5.0,
    read_timeout: float = 30.0,
    max_pool_connections: int = 10,
    **extra: Any,
) -> Config:
    """A botocore ``Config`` suited to tests: path-style S3, bounded timeouts.

    ``max_attempts=1`` disables retries (first attempt only).
    """
    retries: dict[str, Any] = {"mode": retry_mode}
    if max_attempts is not None:
        retries["total_max_attempts"] = max_attempts
    return Config(
        region_name=REGION,
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries=retries,  # type: ignore[arg-type]
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        **extra,
    )


def make_client(
    service: str,
    endpoint_url: str,
    credentials: Credentials = DEV_CREDENTIALS,
    *,
    config: Config | None = None,
    **config_kwargs: Any,
) -> Any:
    """A boto3 client for ``service`` at ``endpoint_url`` with explicit credentials.

    Uses a fresh ``boto3.Session`` so the default session and its credential
    chain are never consulted. ``config_kwargs`` go to :func:`client_config`.
    """
    session = boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        region_name=REGION,
    )
    return session.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        config=config if config is not None else client_config(**config_kwargs),
    )


def dev_client(service: str, endpoint_url: str, **kwargs: Any) -> Any:
    """A client acting in the dev account (123456789012)."""
    return make_client(service, endpoint_url, DEV_CREDENTIALS, **kwargs)


def assume_role(
    endpoint_url: str,
    role_arn: str = DOCS_ROLE_ARN,
    *,
    credentials: Credentials = DEV_CREDENTIALS,
    session_name: str = "docs-publish-test",
    external_id: str | None = None,
) -> Credentials:
    """Call STS AssumeRole at ``endpoint_url`` and return the session credentials."""
    sts = make_client("sts", endpoint_url, credentials)
    extra = {"ExternalId": external_id} if external_id is not None else {}
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name, **extra)
    creds = answer["Credentials"]
    return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def docs_credentials(endpoint_url: str, role_arn: str = DOCS_ROLE_ARN) -> Credentials:
    """Credentials acting in the docs account (222222222222) via AssumeRole."""
    return assume_role(endpoint_url, role_arn)


def docs_client(service: str, endpoint_url: str, **kwargs: Any) -> Any:
    """A client acting in the docs account (222222222222) via AssumeRole."""
    return make_client(service, endpoint_url, docs_credentials(endpoint_url), **kwargs)


def caller_account(endpoint_url: str, credentials: Credentials) -> str:
    """The account id moto attributes to ``credentials`` (STS GetCallerIdentity)."""
    sts = make_client("sts", endpoint_url, credentials)
    account: str = sts.get_caller_identity()["Account"]
    return account


# --- IAM setup helpers (call them while auth is NOT enforced) ---------------


def account_admin_credentials(endpoint_url: str, account_id: str) -> Credentials:
    """Credentials that act in ``account_id``, for setting up IAM outside auth mode.

    For the dev account these are :data:`DEV_CREDENTIALS`; for any other
    account an AssumeRole into ``arn:aws:iam::ACCOUNT:role/moto-setup`` (moto
    does not require that role to exist).
    """
    if account_id == DEV_ACCOUNT_ID:
        return DEV_CREDENTIALS
    return assume_role(endpoint_url, f"arn:aws:iam::{account_id}:role/moto-setup", session_name="moto-setup")


def iam_client(endpoint_url: str, account_id: str) -> Any:
    """An IAM client acting in ``account_id`` (setup only, auth mode off)."""
    return make_client("iam", endpoint_url, account_admin_credentials(endpoint_url, account_id))


def policy_document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: str | Sequence[str], resources: str | Sequence[str]) -> dict[str, Any]:
    """An ``Allow`` statement."""
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def deny(actions: str | Sequence[str], resources: str | Sequence[str]) -> dict[str, Any]:
    """A ``Deny`` statement."""
    return {"Effect": "Deny", "Action": actions, "Resource": resources}


def trust_policy(principal_arn: str, external_id: str | None = None) -> dict[str, Any]:
    """A role trust policy that lets ``principal_arn`` call ``sts:AssumeRole``
    (only with ``external_id``, if given — on AWS; moto ignores trust policies)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal_arn},
        "Action": "sts:AssumeRole",
    }
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return policy_document(statement)


def create_user_with_key(iam: Any, user_name: str, policy: Mapping[str, Any] | None = None) -> Credentials:
    """Create an IAM user with an inline policy and an access key; return the key."""
    iam.create_user(UserName=user_name)
    if policy is not None:
        iam.put_user_policy(UserName=user_name, PolicyName=f"{user_name}-inline", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def create_role(
    iam: Any,
    role_name: str,
    trust: Mapping[str, Any],
    policy: Mapping[str, Any] | None = None,
) -> str:
    """Create an IAM role with a trust policy and an inline policy; return its ARN."""
    arn: str = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=role_name, PolicyName=f"{role_name}-inline", PolicyDocument=json.dumps(policy))
    return arn


def create_managed_policy(iam: Any, name: str, policy: Mapping[str, Any]) -> str:
    """Create a customer-managed policy; return its ARN (attach it yourself)."""
    arn: str = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    return arn
