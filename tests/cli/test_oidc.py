"""GitLab OIDC through the console script: the token goes straight into the documents role."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import SITE, Run, plugin_yaml
from tests.conftest import BUCKET, ROLE_ARN, site_keys

pytestmark = pytest.mark.integration

TOKEN = "eyJhbGciOiJSUzI1NiJ9.fake-gitlab-claims.fake-signature"


def test_oidc_token_from_env_publishes_as_the_docs_role(
    run_cli: Run, tmp_path: Path, docs_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A job with no AWS keys at all: only the id_token.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DOCS_EXTERNAL_ID"):
        monkeypatch.delenv(name, raising=False)
    proj = tmp_path / "proj"
    (proj / "built").mkdir(parents=True)
    for rel, data in SITE.items():
        (proj / "built" / rel).parent.mkdir(parents=True, exist_ok=True)
        (proj / "built" / rel).write_bytes(data)
    (proj / "mkdocs.yml").write_text(
        "site_name: T\nsite_dir: built\nplugins:\n  - s3-crossaccount:\n"
        f"      bucket: {BUCKET}\n      role_arn: {ROLE_ARN}\n"
        "      web_identity_token_env: GITLAB_OIDC_TOKEN\n      report_file: report.json\n",
        encoding="utf-8",
    )
    res = run_cli("publish", "-v", cwd=proj, env={"GITLAB_OIDC_TOKEN": TOKEN})
    assert res.code == 0, res.text
    assert TOKEN not in res.text and "fake-gitlab-claims" not in res.text
    assert "with the OIDC token from $GITLAB_OIDC_TOKEN" in res.err
    report = json.loads((proj / "report.json").read_text(encoding="utf-8"))
    assert report["account"] == "222222222222"
    assert report["identity_arn"].startswith("arn:aws:sts::222222222222:assumed-role/docs-publisher/")
    assert TOKEN not in json.dumps(report)
    assert site_keys(docs_bucket) == set(SITE)


def test_oidc_token_file(run_cli: Run, project: Path, tmp_path: Path, docs_bucket: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("DOCS_EXTERNAL_ID")
    # no ExternalId with OIDC: not in the file either (an unset `!ENV DOCS_EXTERNAL_ID` is an error)
    (project / "mkdocs.yml").write_text(plugin_yaml(external_id="null"), encoding="utf-8")
    token_file = tmp_path / "gitlab.jwt"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    res = run_cli("check", "--web-identity-token-file", str(token_file), cwd=project)
    assert res.code == 0, res.text
    assert "OIDC token present in the file" in res.out
    assert "[ok]   role assumption: arn:aws:iam::222222222222:role/docs-publisher -> " in res.out
    assert TOKEN not in res.text
