"""The one redaction point: errors, files and CLI lines all pass through core/redact (issue 10 item 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mkdocs_s3_crossaccount.cli import main as cli_main
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.plan import make_plan
from mkdocs_s3_crossaccount.core.redact import MASK, add_secret, redact
from mkdocs_s3_crossaccount.core.report import PublishResult, write_report


def test_a_publish_error_is_redacted_when_made() -> None:
    add_secret("registered-secret-42")
    err = PublishError("STS said: ExternalId=abc-123-xyz (registered-secret-42)", "WebIdentityToken=eyJ.x")
    assert "abc-123-xyz" not in str(err) and "registered-secret-42" not in str(err) and "eyJ.x" not in str(err)
    assert err.message.count(MASK) == 2


def test_the_report_file_is_redacted(tmp_path: Path) -> None:
    add_secret("report-secret-77")
    plan = make_plan([], {})
    result = PublishResult("s3://b/report-secret-77/", "b", "report-secret-77", "arn", "1", None, False, plan)
    write_report(str(tmp_path / "r.json"), result)
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert "report-secret-77" not in text and json.loads(text)["prefix"] == MASK


def test_a_jwt_is_masked_even_unnamed() -> None:
    assert redact("token eyJhbGciOiJSUzI1NiJ9.claims-part.sig-part here") == f"token {MASK} here"


@pytest.mark.parametrize(
    "text", ['"sts:ExternalId": "REPLACE-WITH-YOUR-EXTERNAL-ID"', '{"sts:ExternalId": "<your external_id>"}']
)
def test_policy_placeholders_are_not_masked(text: str) -> None:
    assert redact(text) == text


def test_the_cli_prints_only_through_its_redacting_echo() -> None:
    source = Path(cli_main.__file__).read_text(encoding="utf-8")
    assert len(re.findall(r"click\.echo\(", source)) == 1  # inside echo() itself
    assert "print(" not in source
