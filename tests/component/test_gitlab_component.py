"""The GitLab CI/CD component (templates/publish/template.yml) run end to end by gitlab-ci-local.

A throwaway GitLab project (a git repository whose origin is docs-team/handbook) includes the
component with ``component: $CI_SERVER_FQDN/docs-team/handbook/publish@$CI_COMMIT_SHA`` — the
form GitLab documents for testing a component in its own project, which gitlab-ci-local resolves
from the working tree. Its jobs run with the shell executor (the ``image`` input is not used), with
this venv's Python first on PATH, against a moto server on 127.0.0.1 that plays both accounts: the
jobs hold only a (fake) GitLab OIDC token, and AssumeRoleWithWebIdentity makes them act in the
documents account.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.motoserver import MotoServer, docs_client, start_moto_server

pytestmark = [pytest.mark.integration, pytest.mark.component]

REPO = Path(__file__).resolve().parents[2]
BUCKET = "example-docs"
ROLE_ARN = "arn:aws:iam::222222222222:role/docs-publisher"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.fake-gitlab-claims.fake-signature"
GCL = shutil.which("gitlab-ci-local")
MISSING = [name for name in ("gitlab-ci-local", "git", "rsync") if shutil.which(name) is None]
if MISSING:
    pytest.skip(
        f"{', '.join(MISSING)} not installed: npm install -g gitlab-ci-local@4.64.1; apt-get install -y git rsync "
        "(.ci/run installs them)",
        allow_module_level=True,
    )

PIPELINE = """\
stages: [deploy]
include:
  - component: $CI_SERVER_FQDN/docs-team/handbook/publish@$CI_COMMIT_SHA
    inputs:
      bucket: example-docs
      role_arn: arn:aws:iam::222222222222:role/docs-publisher
      region: us-east-1
      prefix: handbook
      site_url_template: "https://docs.example.test/{prefix}/"
      auto_stop_in: 3 days
{extra}"""


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    moto.reset()
    client = docs_client("s3", moto.url)
    client.create_bucket(Bucket=BUCKET)
    return client


def git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.test", *args],
        cwd=project,
        check=True,
        capture_output=True,
    )


def make_project(root: Path, extra_inputs: str = "") -> Path:
    """A docs project whose own repository is the component project (as GitLab tests components)."""
    project = root / "handbook"
    (project / "docs" / "guide").mkdir(parents=True)
    shutil.copytree(REPO / "templates", project / "templates")
    (project / "docs" / "index.md").write_text("# Handbook\n\nSee the [guide](guide/index.md).\n", encoding="utf-8")
    (project / "docs" / "guide" / "index.md").write_text("# Guide\n", encoding="utf-8")
    # The plugin block is optional with the component (its inputs are flags); here it is off for builds.
    (project / "mkdocs.yml").write_text(
        "site_name: Handbook\nplugins:\n  - search\n  - s3-crossaccount:\n      enabled: !ENV [DOCS_PUBLISH, false]\n"
        "      bucket: example-docs\n",
        encoding="utf-8",
    )
    (project / ".gitlab-ci.yml").write_text(PIPELINE.replace("{extra}", extra_inputs), encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    git(project, "remote", "add", "origin", "git@gitlab.example.test:docs-team/handbook.git")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "docs")
    return project


def run_jobs(project: Path, moto: MotoServer, *args: str, variables: dict[str, str] | None = None) -> str:
    """gitlab-ci-local with the shell executor; returns its output, failing the test on a failed job."""
    assert GCL is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCS_", "CI_", "GITLAB_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    job_vars = {
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "GITLAB_OIDC_TOKEN": TOKEN,  # gitlab-ci-local mints no id_tokens: the job gets this one
        **(variables or {}),
    }
    cmd = [GCL, "--force-shell-executor", "--no-color", "--max-job-name-padding", "0"]
    if "--list" not in args:  # the listing validated the pipeline against GitLab's schema already
        cmd.append("--no-json-schema-validation")
    for name, value in job_vars.items():
        cmd += ["--variable", f"{name}={value}"]
    proc = subprocess.run([*cmd, *args], cwd=project, env=env, capture_output=True, text=True, timeout=420, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert TOKEN not in output and "fake-gitlab-claims" not in output
    return output


def listed(output: str) -> dict[str, str]:
    """``gitlab-ci-local --list``: job name -> its line."""
    return {line.split()[0]: line for line in output.splitlines() if line.startswith("docs-")}


def keys(s3: Any, prefix: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {obj["Key"][len(prefix) :] for page in pages for obj in page.get("Contents", [])}


def expanded(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((project / ".gitlab-ci-local" / "expanded-gitlab-ci.yml").read_text())
    return data


def template_jobs() -> dict[str, Any]:
    """The component's jobs as written (before inputs are interpolated)."""
    _spec, jobs = yaml.safe_load_all((REPO / "templates" / "publish" / "template.yml").read_text(encoding="utf-8"))
    assert isinstance(jobs, dict)
    return jobs


def dotenv(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_default_branch_builds_and_publishes_with_a_dotenv(tmp_path: Path, moto: MotoServer, s3: Any) -> None:
    project = make_project(tmp_path)
    assert set(listed(run_jobs(project, moto, "--list"))) == {"docs-build", "docs-publish"}  # no MR, no gate

    output = run_jobs(project, moto, "docs-build", "docs-publish")
    assert "PASS  docs-build" in output and "PASS  docs-publish" in output
    assert "Assumed arn:aws:sts::222222222222:assumed-role/docs-publisher/mkdocs-docs-team-handbook-job-" in output
    published = keys(s3, "handbook/")
    assert {"index.html", "guide/index.html", "sitemap.xml", "search/search_index.json"} <= published
    head = s3.head_object(Bucket=BUCKET, Key="handbook/index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert dotenv(project / "s3xa.env") == {
        "DOCS_URL": "https://docs.example.test/handbook/",
        "DOCS_BUCKET": "example-docs",
        "DOCS_PREFIX": "handbook",
    }

    jobs = expanded(project)
    publish = jobs["docs-publish"]
    assert publish["resource_group"] == "mkdocs-s3-crossaccount/example-docs/docs"
    assert publish["environment"]["name"] == "docs"
    assert template_jobs()["docs-publish"]["environment"] == {"name": "$[[ inputs.environment ]]", "url": "$DOCS_URL"}
    assert publish["artifacts"]["reports"] == {"dotenv": "s3xa.env"}
    assert publish["id_tokens"] == {"GITLAB_OIDC_TOKEN": {"aud": "https://gitlab.com"}}


def test_merge_request_review_app_and_its_stop_job(tmp_path: Path, moto: MotoServer, s3: Any) -> None:
    project = make_project(tmp_path)
    s3.put_object(Bucket=BUCKET, Key="handbook/index.html", Body=b"production")  # must survive the stop job
    git(project, "checkout", "-q", "-b", "Fix/Nav")
    mr = {"CI_PIPELINE_SOURCE": "merge_request_event"}
    listing = listed(run_jobs(project, moto, "--list", variables=mr))
    assert set(listing) == {"docs-build", "docs-review", "docs-review-stop"}
    assert " manual " in listing["docs-review-stop"]

    output = run_jobs(project, moto, "docs-build", "docs-review", variables=mr)
    assert "PASS  docs-review" in output
    assert {"index.html", "guide/index.html"} <= keys(s3, "review/fix-nav/")
    assert dotenv(project / "s3xa.env")["DOCS_URL"] == "https://docs.example.test/review/fix-nav/"

    jobs = expanded(project)
    assert jobs["docs-review"]["environment"]["name"] == "review/fix-nav"
    assert jobs["docs-review"]["environment"]["auto_stop_in"] == "3 days"
    assert template_jobs()["docs-review"]["environment"] == {
        "name": "review/$CI_COMMIT_REF_SLUG",
        "url": "$DOCS_URL",
        "on_stop": "docs-review-stop",
        "auto_stop_in": "$[[ inputs.auto_stop_in ]]",
    }
    stop = jobs["docs-review-stop"]
    assert stop["variables"]["GIT_STRATEGY"] == "none"
    assert template_jobs()["docs-review-stop"]["environment"] == {
        "name": "review/$CI_COMMIT_REF_SLUG",
        "action": "stop",
    }
    assert stop["resource_group"] == jobs["docs-review"]["resource_group"]

    output = run_jobs(project, moto, "docs-review-stop", variables=mr)
    assert "Deleted " in output and "under s3://example-docs/review/fix-nav/" in output
    assert keys(s3, "review/fix-nav/") == set()
    assert keys(s3, "handbook/") == {"index.html"}


def test_manual_gate_shows_the_plan_and_versioned_publishing_targets_the_tag(
    tmp_path: Path, moto: MotoServer, s3: Any
) -> None:
    project = make_project(tmp_path, "      manual_gate: true\n      versioned: true\n      review_apps: false\n")
    lines = listed(run_jobs(project, moto, "--list"))
    assert set(lines) == {"docs-build", "docs-plan", "docs-publish"}
    assert " manual " in lines["docs-publish"] and " manual " not in lines["docs-plan"]

    output = run_jobs(project, moto, "docs-build", "docs-plan")
    assert "PASS  docs-plan" in output
    assert "upload: handbook/latest/index.html" in output or "handbook/latest/index.html" in output
    assert keys(s3, "handbook/") == set()  # the plan changed nothing

    output = run_jobs(project, moto, "--manual", "docs-publish", "docs-publish")
    assert "PASS  docs-publish" in output
    assert "index.html" in keys(s3, "handbook/latest/")
    assert dotenv(project / "s3xa.env")["DOCS_URL"] == "https://docs.example.test/handbook/latest/"
