"""`versions` verbs through the console script against moto, checked against mike for the same operations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Run, plugin_yaml
from tests.conftest import BUCKET, bucket_objects
from tests.integration.test_versions import _git, _mike, mike_repo  # noqa: F401

pytestmark = pytest.mark.integration


def versions_json(s3: Any) -> bytes:
    return bytes(s3.get_object(Bucket=BUCKET, Key="docs/versions.json")["Body"].read())


def publish_version(run_cli: Run, project: Path, version: str, *aliases: str) -> None:
    alias_yaml = "[" + ", ".join(aliases) + "]"
    (project / "mkdocs.yml").write_text(
        plugin_yaml(prefix="docs", version=f"'{version}'", aliases=alias_yaml), encoding="utf-8"
    )
    res = run_cli("publish", cwd=project)
    assert res.code == 0, res.text


def test_versions_verbs(run_cli: Run, project: Path, docs_bucket: Any, mike_repo: Path) -> None:  # noqa: F811
    publish_version(run_cli, project, "1.0", "latest")
    _mike(mike_repo, "deploy", "1.0", "latest", "-u")
    publish_version(run_cli, project, "2.0", "latest")
    _mike(mike_repo, "deploy", "2.0", "latest", "-u")

    def same_as_mike(*mike_args: str) -> None:
        _mike(mike_repo, *mike_args)
        assert versions_json(docs_bucket).decode() == _git(mike_repo, "show", "gh-pages:versions.json"), mike_args

    listed = run_cli("versions", "list", cwd=project)
    assert listed.code == 0, listed.text
    assert listed.out.splitlines()[1].split() == ["2.0", "2.0", "latest"]
    as_json = run_cli("versions", "list", "--json", cwd=project)
    assert json.loads(as_json.out) == json.loads(versions_json(docs_bucket))

    res = run_cli("versions", "alias", "1.0", "stable", cwd=project)
    assert res.code == 0, res.text
    assert "alias stable -> 1.0:" in res.out
    same_as_mike("alias", "1.0", "stable", "-u")
    assert "docs/stable/guide/index.html" in bucket_objects(docs_bucket, prefix="docs/stable/")

    res = run_cli("versions", "retitle", "1.0", "One (old)", cwd=project)
    assert res.code == 0, res.text
    same_as_mike("retitle", "1.0", "One (old)")

    res = run_cli("versions", "set-default", "latest", cwd=project)
    assert res.code == 0, res.text
    same_as_mike("set-default", "latest")
    assert b'"latest/"' in docs_bucket.get_object(Bucket=BUCKET, Key="docs/index.html")["Body"].read()
    assert "(default)" in run_cli("versions", "list", cwd=project).out

    refused = run_cli("versions", "delete", "2.0", cwd=project)
    assert refused.code == 1
    assert "default version" in refused.err and "--force" in refused.err
    assert bucket_objects(docs_bucket, prefix="docs/2.0/")

    dry = run_cli("versions", "delete", "1.0", "--dry-run", cwd=project)
    assert dry.code == 0 and "(dryrun) deleted 1.0/" in dry.out
    assert bucket_objects(docs_bucket, prefix="docs/1.0/")

    res = run_cli("versions", "delete", "1.0", cwd=project)
    assert res.code == 0, res.text
    same_as_mike("delete", "1.0")
    assert not bucket_objects(docs_bucket, prefix="docs/1.0/")
    assert not bucket_objects(docs_bucket, prefix="docs/stable/")  # its alias went with it
    assert bucket_objects(docs_bucket, prefix="docs/2.0/")

    res = run_cli("versions", "delete", "2.0", "--force", cwd=project)
    assert res.code == 0, res.text
    assert "root redirect" in res.out
    assert set(bucket_objects(docs_bucket, prefix="docs/")) <= {
        "docs/versions.json",
        "docs/.mkdocs-s3-crossaccount/versions.json",
    }
    assert json.loads(versions_json(docs_bucket)) == []
