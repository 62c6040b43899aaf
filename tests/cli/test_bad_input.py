"""Bad input: one clear message, exit 2 (usage) or 1 (failure), no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Run, plugin_yaml
from tests.conftest import bucket_objects

pytestmark = pytest.mark.integration

OIDC_TOKEN = "eyJfake.oidc-token-value.never-printed"


@pytest.fixture
def no_external_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """OIDC straight into the role takes no ExternalId (and --external-id reads DOCS_EXTERNAL_ID)."""
    monkeypatch.delenv("DOCS_EXTERNAL_ID", raising=False)


def _one_error(text: str) -> str:
    errors = [line for line in text.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, text
    return errors[0]


def test_unknown_flag(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    res = run_cli("publish", "--buckett", "x", cwd=project)
    assert res.code == 2
    assert "No such option '--buckett'" in res.err
    assert bucket_objects(docs_bucket) == {}


def test_unknown_option_in_config(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    (project / "mkdocs.yml").write_text(plugin_yaml(buckett="typo"), encoding="utf-8")
    res = run_cli("publish", cwd=project)
    assert res.code == 2, res.text
    assert "Option 'buckett'" in _one_error(res.err) or "Option 'buckett'" in res.err
    assert bucket_objects(docs_bucket) == {}


def test_invalid_option_value(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    res = run_cli("publish", "--role-arn", "arn:aws:iam::222222222222:user/alice", cwd=project)
    assert res.code == 2
    assert "That is a user ARN" in res.err
    assert bucket_objects(docs_bucket) == {}


def test_missing_config_file(run_cli: Run, tmp_path: Path, docs_bucket: Any) -> None:
    res = run_cli("publish", "-f", "nowhere/mkdocs.yml", cwd=tmp_path)
    assert res.code == 2
    assert "Config file 'nowhere/mkdocs.yml' does not exist" in _one_error(res.err)
    res = run_cli("plan", cwd=tmp_path)
    assert res.code == 2
    assert "No mkdocs.yml" in res.err
    assert bucket_objects(docs_bucket) == {}


def test_config_without_plugin_block(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    (project / "mkdocs.yml").write_text("site_name: Test\nsite_dir: built\nplugins:\n  - search\n", encoding="utf-8")
    for cmd in ("publish", "check", "policy"):
        res = run_cli(cmd, cwd=project)
        assert res.code == 2, (cmd, res.text)
        assert "has no s3-crossaccount plugin block" in _one_error(res.err)
    assert bucket_objects(docs_bucket) == {}


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_oidc_token(run_cli: Run, project: Path, docs_bucket: Any, value: str, no_external_id: None) -> None:
    (project / "mkdocs.yml").write_text(plugin_yaml(external_id="null"), encoding="utf-8")
    res = run_cli(
        "publish", "--web-identity-token-env", "GITLAB_OIDC_TOKEN", cwd=project, env={"GITLAB_OIDC_TOKEN": value}
    )
    assert res.code == 1, res.text
    line = _one_error(res.err)
    assert "$GITLAB_OIDC_TOKEN is empty" in line
    assert "id_tokens" in res.err
    assert bucket_objects(docs_bucket) == {}


def test_unset_oidc_token(run_cli: Run, project: Path, docs_bucket: Any, no_external_id: None) -> None:
    (project / "mkdocs.yml").write_text(plugin_yaml(external_id="null"), encoding="utf-8")
    res = run_cli("publish", "--web-identity-token-env", "NO_SUCH_TOKEN_VAR", cwd=project)
    assert res.code == 1
    assert "$NO_SUCH_TOKEN_VAR is not set" in _one_error(res.err)
    assert bucket_objects(docs_bucket) == {}


def test_unreadable_token_file(
    run_cli: Run, project: Path, tmp_path: Path, docs_bucket: Any, no_external_id: None
) -> None:
    (project / "mkdocs.yml").write_text(plugin_yaml(external_id="null"), encoding="utf-8")
    res = run_cli("publish", "--web-identity-token-file", str(tmp_path / "missing.jwt"), cwd=project)
    assert res.code == 1
    assert "Cannot read the OIDC token file" in _one_error(res.err)
    assert "No such file or directory" in res.err
    empty = tmp_path / "empty.jwt"
    empty.write_text("\n", encoding="utf-8")
    res = run_cli("publish", "--web-identity-token-file", str(empty), cwd=project)
    assert res.code == 1
    assert "is empty" in _one_error(res.err)
    assert bucket_objects(docs_bucket) == {}


def test_token_pasted_as_variable_name_is_not_echoed(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    res = run_cli("publish", "--web-identity-token-env", OIDC_TOKEN, cwd=project)
    assert res.code == 2
    assert "give the variable's name" in res.err
    assert OIDC_TOKEN not in res.text
    assert bucket_objects(docs_bucket) == {}


def test_failure_is_exit_1_without_traceback(run_cli: Run, project: Path, accounts: Any) -> None:
    res = run_cli("publish", "--bucket", "no-such-docs-bucket", cwd=project)
    assert res.code == 1
    assert "does not exist" in _one_error(res.err)


def test_a_bad_flag_value_is_blamed_on_the_flag(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    """Issue 14: `--concurrency 0` was reported as "Invalid s3-crossaccount options in mkdocs.yml"."""
    res = run_cli("publish", "--concurrency", "0", cwd=project)
    assert res.code == 2, res.text
    line = _one_error(res.err)
    assert line == "Error: Invalid value for --concurrency: 0 must be between 1 and 64."
    assert "mkdocs.yml" not in line and "Correct --concurrency on the command line" in res.err
    res = run_cli("plan", "--max-delete-share", "3", cwd=project)
    assert res.code == 2 and "Invalid value for --max-delete-share: 3.0 must be a share" in _one_error(res.err)
    res = run_cli("publish", "--concurrency", "abc", cwd=project)  # click's own type check names the flag too
    assert res.code == 2 and "Invalid value for '--concurrency': 'abc' is not a valid integer" in res.err
    # a bad value in the file still names the file and the option
    (project / "mkdocs.yml").write_text(plugin_yaml(concurrency="0"), encoding="utf-8")
    res = run_cli("publish", cwd=project)
    assert res.code == 2
    assert "Invalid s3-crossaccount options in mkdocs.yml" in _one_error(res.err)
    assert "Option 'concurrency': 0 must be between 1 and 64" in res.err
    res = run_cli("publish", "--concurrency", "4", cwd=project)  # the flag overrides the bad file value
    assert res.code == 0, res.text
    assert bucket_objects(docs_bucket)
