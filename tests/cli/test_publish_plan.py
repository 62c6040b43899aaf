"""publish and plan through the console script: config, !ENV, flags, zensical.toml, reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import SITE, Run, plugin_yaml, write_site
from tests.conftest import BUCKET, DOCS_ACCOUNT, EXTERNAL_ID, ROLE_ARN, bucket_objects, site_keys

pytestmark = pytest.mark.integration

COMMANDS = ("publish", "plan", "check", "policy", "remove", "demo")


def test_help_on_every_command(run_cli: Run) -> None:
    top = run_cli("--help")
    assert top.code == 0
    for name in COMMANDS:
        assert name in top.out
        res = run_cli(name, "--help")
        assert res.code == 0, res.text
        assert f"Usage: mkdocs-s3-crossaccount {name}" in res.out or "Usage: python -m" in res.out


def test_config_env_and_flags(run_cli: Run, project: Path, tmp_path: Path, docs_bucket: Any) -> None:
    cfg = project / "mkdocs.yml"
    cfg.write_text(plugin_yaml(prefix="!ENV [DOCS_PREFIX, fromfile]"), encoding="utf-8")
    # run from another folder: site_dir ('built') is relative to the config file, not the cwd
    res = run_cli("publish", "-f", str(cfg), cwd=tmp_path, env={"DOCS_PREFIX": "fromenv"})
    assert res.code == 0, res.text
    assert f"Assumed arn:aws:sts::{DOCS_ACCOUNT}:assumed-role/docs-publisher/" in res.err
    assert site_keys(docs_bucket) == {f"fromenv/{k}" for k in SITE}

    res = run_cli("publish", "-f", str(cfg), "--prefix", "fromflag", cwd=tmp_path, env={"DOCS_PREFIX": "fromenv"})
    assert res.code == 0, res.text
    assert {k for k in site_keys(docs_bucket) if k.startswith("fromflag/")} == {f"fromflag/{k}" for k in SITE}


def test_site_dir_argument_wins(run_cli: Run, project: Path, tmp_path: Path, docs_bucket: Any) -> None:
    other = write_site(tmp_path / "other", {"index.html": b"<html>other</html>"})
    res = run_cli("publish", str(other), "--no-delete", cwd=project)
    assert res.code == 0, res.text
    assert site_keys(docs_bucket) == {"index.html"}


def test_zensical_toml_plugin_table(run_cli: Run, tmp_path: Path, docs_bucket: Any) -> None:
    proj = tmp_path / "zproj"
    write_site(proj / "public")
    (proj / "zensical.toml").write_text(
        f"""[project]
site_name = "Zensical docs"
site_dir = "public"

[project.plugins.s3-crossaccount]
bucket = "{BUCKET}"
prefix = "z"
role_arn = "{ROLE_ARN}"
""",
        encoding="utf-8",
    )
    res = run_cli("publish", "-f", str(proj / "zensical.toml"), cwd=tmp_path)
    assert res.code == 0, res.text
    assert site_keys(docs_bucket) == {f"z/{k}" for k in SITE}


def test_plan_lists_reasons_and_exit_code(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    res = run_cli("plan", "--exit-code", cwd=project)
    assert res.code == 3, res.text
    assert "(dryrun) upload: index.html to s3://example-docs/index.html (new)" in res.err
    assert bucket_objects(docs_bucket) == {}, "plan must not write"
    assert run_cli("plan", cwd=project).code == 0, "without --exit-code, changes are not an error"

    assert run_cli("publish", cwd=project).code == 0
    res = run_cli("plan", "--exit-code", cwd=project)
    assert res.code == 0, res.text
    assert f"unchanged {len(SITE)}" in res.err

    (project / "built/guide/index.html").write_bytes(b"<html>guide v2</html>")
    (project / "built/js/site.js").unlink()
    res = run_cli("plan", "--exit-code", cwd=project)
    assert res.code == 3
    assert "(dryrun) upload: guide/index.html to s3://example-docs/guide/index.html (content changed)" in res.err
    assert "(dryrun) delete: s3://example-docs/js/site.js" in res.err
    assert f"unchanged {len(SITE) - 2}" in res.err
    assert "js/site.js" in bucket_objects(docs_bucket), "plan must not delete"


def test_report_and_dotenv(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    res = run_cli(
        "publish",
        "--prefix",
        "mr-7",
        "--report-file",
        "out/report.json",
        "--dotenv-file",
        "out/deploy.env",
        "--site-url-template",
        "https://d123.cloudfront.net/{prefix}/",
        cwd=project,
    )
    assert res.code == 0, res.text
    report = json.loads((project / "out/report.json").read_text(encoding="utf-8"))
    assert report["bucket"] == BUCKET and report["prefix"] == "mr-7"
    assert report["role_arn"] == ROLE_ARN and report["account"] == DOCS_ACCOUNT
    assert report["site_url"] == "https://d123.cloudfront.net/mr-7/"
    assert report["counts"]["uploaded"] == len(SITE) and report["counts"]["deleted"] == 0
    assert report["bytes_uploaded"] == sum(len(v) for v in SITE.values())
    assert {u["key"] for u in report["uploaded"]} == {f"mr-7/{k}" for k in SITE}
    assert {u["reason"] for u in report["uploaded"]} == {"new"}
    assert report["duration_seconds"] > 0
    dotenv = (project / "out/deploy.env").read_text(encoding="utf-8")
    assert "DOCS_URL=https://d123.cloudfront.net/mr-7/\n" in dotenv
    raw = (project / "out/report.json").read_text(encoding="utf-8") + dotenv
    for secret_word in ("SecretAccessKey", "SessionToken", "testing-dev", "example-external-id"):
        assert secret_word not in raw

    # second publish with one deletion: the report says which key and why
    (project / "built/js/site.js").unlink()
    run_cli("publish", "--prefix", "mr-7", "--report-file", "out/report.json", cwd=project)
    report = json.loads((project / "out/report.json").read_text(encoding="utf-8"))
    assert report["deleted"] == ["mr-7/js/site.js"] and report["uploaded"] == []
    assert report["site_url"] is None


def test_plugin_writes_the_report_too(site_copy: Path, docs_bucket: Any, tmp_path: Path) -> None:
    """The same writer runs from the plugin: `mkdocs build` with report_file / site_url_template from !ENV."""
    import os
    import subprocess
    import sys

    report = tmp_path / "plugin-report.json"
    env = {
        **os.environ,
        "DOCS_PUBLISH": "true",
        "DOCS_EXTERNAL_ID": EXTERNAL_ID,  # as a CI job sets it (an unset !ENV external_id is an error)
        "DOCS_PREFIX": "docs",
        "DOCS_REPORT_FILE": str(report),
        "DOCS_SITE_URL_TEMPLATE": "http://{bucket}.s3-website-{region}.amazonaws.com/{prefix}/",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(site_copy / "mkdocs.yml")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["site_url"] == "http://example-docs.s3-website-us-east-1.amazonaws.com/docs/"
    assert "docs/index.html" in {u["key"] for u in data["uploaded"]}
    assert "Site URL: http://example-docs.s3-website-us-east-1.amazonaws.com/docs/" in proc.stderr
