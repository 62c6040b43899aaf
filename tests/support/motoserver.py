"""Run a real ``moto`` server process for tests and build boto3 clients for it.

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

import contextlib
import http.client
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

DEV_ACCOUNT_ID = "123456789012"
DOCS_ACCOUNT_ID = "222222222222"
DOCS_ROLE_ARN = f"arn:aws:iam::{DOCS_ACCOUNT_ID}:role/docs-publisher"
REGION = "us-east-1"
HOST = "127.0.0.1"


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


def free_port(host: str = HOST) -> int:
    """Return a TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _request(
    url_host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(url_host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class MotoServer:
    """A ``moto_server`` child process bound to ``127.0.0.1:port``."""

    def __init__(self, port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.host = HOST
        self.port = port
        self.process = process
        self.log_path = log_path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"MotoServer(url={self.url!r}, pid={self.process.pid})"

    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, max_bytes: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-max_bytes:].decode("utf-8", "replace")

    def _post(self, path: str, body: bytes | None = None) -> bytes:
        status, data = _request(self.host, self.port, "POST", path, body)
        if status != 200:
            raise RuntimeError(f"moto {path} answered {status}: {data[:500]!r}")
        return data

    def reset(self) -> None:
        """Drop all state of all services (``POST /moto-api/reset``)."""
        self._post("/moto-api/reset")

    def set_unauthenticated_requests(self, count: float) -> None:
        """Let the next ``count`` requests skip IAM checks, then enforce IAM.

        ``0`` enforces from now on, ``math.inf`` turns auth checks off (moto's
        default).
        """
        body = "inf" if math.isinf(count) else str(int(count))
        self._post("/moto-api/reset-auth", body.encode())

    def enforce_auth(self) -> None:
        self.set_unauthenticated_requests(0)

    def disable_auth(self) -> None:
        self.set_unauthenticated_requests(math.inf)

    @contextlib.contextmanager
    def auth_enforced(self) -> Iterator[MotoServer]:
        """Enforce IAM auth inside the ``with`` block, off again afterwards."""
        self.enforce_auth()
        try:
            yield self
        finally:
            self.disable_auth()

    def stop(self, timeout: float = 10.0, *, keep_log: bool = False) -> None:
        """Terminate (then kill) the process; delete its log unless ``keep_log``."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout)
        finally:
            if not keep_log:
                self.log_path.unlink(missing_ok=True)


_REPO_ROOT = str(Path(__file__).resolve().parents[2])  # so `-m tests.support...` launchers import


def _moto_env() -> dict[str, str]:
    env = dict(os.environ)
    # These would pin every request to one account and defeat AssumeRole.
    env.pop("MOTO_ACCOUNT_ID", None)
    env.pop("MOTO_PORT", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_moto_server(
    port: int | None = None,
    *,
    startup_timeout: float = 30.0,
    log_dir: Path | None = None,
    attempts: int = 3,
    module: str = "moto.server",
) -> MotoServer:
    """Start ``python -m moto.server -H 127.0.0.1 -p PORT`` and wait until it answers.

    ``module`` runs another launcher with the same arguments instead (e.g.
    ``tests.support.moto_cloudfront_ext``: moto extended for CloudFront Functions).

    With ``port=None`` a free port is picked (retried ``attempts`` times if the
    port is taken before moto binds it). Output goes to a log file, never to a
    pipe that could fill up. The caller must call :meth:`MotoServer.stop`.
    """
    last_error = ""
    for _ in range(max(1, attempts)):
        chosen = port if port is not None else free_port()
        log_fd, log_name = tempfile.mkstemp(
            prefix=f"moto-{chosen}-", suffix=".log", dir=str(log_dir) if log_dir else None
        )
        log_path = Path(log_name)
        with os.fdopen(log_fd, "wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", module, "-H", HOST, "-p", str(chosen)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_moto_env(),
                cwd=_REPO_ROOT,
                start_new_session=True,
            )
        server = MotoServer(chosen, process, log_path)
        deadline = time.monotonic() + startup_timeout
        try:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                try:
                    _request(HOST, chosen, "GET", "/moto-api/data.json", timeout=2.0)
                    return server
                except OSError:
                    time.sleep(0.1)
            last_error = server.log_tail()
            server.stop()
        except BaseException:
            server.stop()
            raise
        if port is not None:
            break
    raise RuntimeError(f"moto server did not start; log tail:\n{last_error}")


@contextlib.contextmanager
def moto_server(port: int | None = None, **kwargs: Any) -> Iterator[MotoServer]:
    """Context manager: a running moto server, stopped (killed if needed) on exit."""
    server = start_moto_server(port, **kwargs)
    try:
        yield server
    finally:
        server.stop()


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
