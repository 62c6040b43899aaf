"""A misrouted STS endpoint (issue 10 item 7): the message names the endpoint and what set it.

STS requests sent to an S3 server get an S3 error without an STS code (it was "…: ?"); a
server answering 200 without credentials gave "Unexpected KeyError: 'Credentials'" and
"please report". A real fault proxy in front of the moto server plays each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.conftest import Accounts
from tests.support.faultproxy import ErrorResponse, FaultProxy, Match

pytestmark = pytest.mark.integration

EMPTY_ASSUME = (
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
    "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"
)
EMPTY_IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    "</GetCallerIdentityResult></GetCallerIdentityResponse>"
)
ANSWERS = {
    "s3-server": (ErrorResponse(405, "MethodNotAllowed", "The specified method is not allowed"), Match()),
    "200-without-credentials": (ErrorResponse(200, "Empty", EMPTY_ASSUME, style="raw"), Match()),
}


@pytest.fixture
def sts_proxy(accounts: Accounts) -> Iterator[FaultProxy]:
    with FaultProxy(accounts.url) as proxy:
        yield proxy


@pytest.mark.parametrize("command", ["publish", "check"])
@pytest.mark.parametrize("answer", ANSWERS, ids=ANSWERS.keys())
def test_a_misrouted_sts_endpoint_names_the_endpoint_and_the_variable(
    run_cli: Run, project: Path, sts_proxy: FaultProxy, answer: str, command: str
) -> None:
    fault, match = ANSWERS[answer]
    sts_proxy.add_fault(fault, match)
    res = run_cli(command, cwd=project, env={"AWS_ENDPOINT_URL_STS": sts_proxy.url})
    assert res.code == 1, res.text
    assert sts_proxy.faults_injected[fault.label] >= 1
    assert f"The STS endpoint {sts_proxy.url}" in res.text and "did not answer like STS" in res.text, res.text
    assert "set by the environment variable AWS_ENDPOINT_URL_STS" in res.text
    assert "AWS_ENDPOINT_URL_S3" in res.text  # the fix says how to point only S3 elsewhere
    for bad in (": ?", "KeyError", "Please report", "Unexpected"):
        assert bad not in res.text, res.text


def test_a_getcalleridentity_without_an_arn_is_misrouted_not_a_crash(
    run_cli: Run, project: Path, sts_proxy: FaultProxy
) -> None:
    sts_proxy.add_fault(ErrorResponse(200, "Empty", EMPTY_IDENTITY, style="raw"), Match())
    res = run_cli("policy", cwd=project, env={"AWS_ENDPOINT_URL_STS": sts_proxy.url})
    assert res.code == 1, res.text
    assert f"The STS endpoint {sts_proxy.url}" in res.text and "a reply without 'Arn'" in res.text, res.text
    assert "Please report" not in res.text


def test_garbage_in_an_endpoint_variable_is_named(run_cli: Run, project: Path) -> None:
    res = run_cli("check", cwd=project, env={"AWS_ENDPOINT_URL": "htp:/nowhere"})
    assert res.code == 1
    assert "The environment variable AWS_ENDPOINT_URL='htp:/nowhere' is not an endpoint URL." in res.text, res.text
    assert "Unexpected" not in res.text
