"""Every command's output goes through the one redaction point (issue 10 item 3).

An STS endpoint (or a proxy in front of it) that echoes the request in its error body puts
``ExternalId=…`` and ``WebIdentityToken=…`` into the message each command prints. A real fault
proxy in front of the moto server answers every STS request with such a body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.conftest import BUCKET, EXTERNAL_ID, ROLE_ARN, Accounts
from tests.support.faultproxy import ErrorResponse, FaultProxy, Match

pytestmark = pytest.mark.integration

TOKEN = "eyJhbGciOiJSUzI1NiJ9.echoed-gitlab-claims.echoed-signature"
# What an echoing server sends back: both parameters by name, and the one the request carried
# (the ExternalId with keys, the token with OIDC) also bare.
NAMED = f"Action=AssumeRole&ExternalId={EXTERNAL_ID}&WebIdentityToken={TOKEN}"
ECHO = {False: f"Request {NAMED} was rejected (ExternalId {EXTERNAL_ID})", True: f"Request {NAMED} rejected ({TOKEN})"}
COMMANDS = {
    "publish": ("publish", "--report-file", "report.json"),
    "plan": ("plan", "--report-file", "report.json"),
    "plan-json": ("plan", "--json", "-q"),
    "publish-quiet": ("publish", "-q"),
    "check": ("check",),
    "policy": ("policy",),
    "remove": ("remove", "--prefix", "review-1"),
}


@pytest.fixture
def echoing_sts(accounts: Accounts) -> Iterator[FaultProxy]:
    with FaultProxy(accounts.url) as proxy:
        yield proxy


# policy with OIDC asks STS nothing (the trust policy names the GitLab project, not a caller)
CASES = [(c, oidc) for c in COMMANDS for oidc in (False, True) if not (oidc and c == "policy")]


@pytest.mark.parametrize(("name", "oidc"), CASES, ids=[f"{c}-{'oidc' if o else 'keys'}" for c, o in CASES])
def test_no_command_prints_an_echoed_external_id_or_token(
    run_cli: Run,
    project: Path,
    echoing_sts: FaultProxy,
    name: str,
    oidc: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    command = COMMANDS[name]
    fault = ErrorResponse(400, "ValidationError", ECHO[oidc], style="query")
    echoing_sts.add_fault(fault, Match())  # only STS is sent here
    extra: tuple[str, ...] = ()
    if oidc:  # the token straight into the role: a config without external_id
        (project / "oidc.yml").write_text(
            f"site_name: T\nsite_dir: built\nplugins:\n  - s3-crossaccount:\n      bucket: {BUCKET}\n"
            f"      role_arn: {ROLE_ARN}\n      web_identity_token_env: GITLAB_OIDC_TOKEN\n",
            encoding="utf-8",
        )
        extra = ("-f", "oidc.yml")
        monkeypatch.delenv("DOCS_EXTERNAL_ID")  # else --external-id picks it up
    res = run_cli(
        *command,
        *extra,
        cwd=project,
        env={"AWS_ENDPOINT_URL_STS": echoing_sts.url, "GITLAB_OIDC_TOKEN": TOKEN},
    )
    assert echoing_sts.faults_injected["ValidationError"] >= 1, res.text  # the echo really was sent
    assert res.code != 0, res.text
    assert "ValidationError" in res.text or "rejected" in res.text, res.text  # the error is shown...
    for secret in (EXTERNAL_ID, TOKEN, "echoed-gitlab-claims"):
        assert secret not in res.out and secret not in res.err  # ...without the secrets
    report = project / "report.json"
    if report.exists():
        text = report.read_text(encoding="utf-8")
        json.loads(text)
        assert EXTERNAL_ID not in text and TOKEN not in text
