"""`rollback` through the console script against moto: restored exactly, refused without versioning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Run, plugin_yaml
from tests.conftest import BUCKET, bucket_objects, site_keys

pytestmark = pytest.mark.integration


def snapshot(s3: Any) -> dict[str, tuple[bytes, str, str | None, str | None, str | None]]:
    """Keys, bytes and headers of the site (bookkeeping left out)."""
    out = {}
    for key in site_keys(s3):
        obj = s3.get_object(Bucket=BUCKET, Key=key)
        out[key] = (
            obj["Body"].read(),
            obj["ContentType"],
            obj.get("CacheControl"),
            obj.get("ContentEncoding"),
            obj.get("WebsiteRedirectLocation"),
        )
    return out


REDIRECT = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Redirecting...</title>'
    b'<link rel="canonical" href="../guide/"><script>var anchor=window.location.hash.substr(1);'
    b'location.href="../guide/"+(anchor?"#"+anchor:"");</script>'
    b'<meta http-equiv="refresh" content="0; url=../guide/"></head><body>Redirecting...</body></html>'
)


def test_rollback_restores_the_earlier_deploy(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    docs_bucket.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    (project / "mkdocs.yml").write_text(plugin_yaml(redirects="true", gzip="true"), encoding="utf-8")
    (project / "built/old/index.html").parent.mkdir(parents=True)
    (project / "built/old/index.html").write_bytes(REDIRECT)
    assert run_cli("publish", cwd=project).code == 0
    first = snapshot(docs_bucket)
    assert first["old/index.html"][4] == "/guide/"

    # deploy 2: a page changed, an asset gone, a page added, other headers for the CSS
    (project / "built/guide/index.html").write_bytes(b"<html>guide 2</html>")
    (project / "built/js/site.js").unlink()
    (project / "built/new.html").write_bytes(b"<html>new</html>")
    (project / "mkdocs.yml").write_text(
        plugin_yaml(redirects="true", gzip="true", cache_control="{'*.css': 'max-age=60'}"), encoding="utf-8"
    )
    assert run_cli("publish", cwd=project).code == 0
    assert snapshot(docs_bucket) != first

    check = run_cli("check", cwd=project)
    assert "[ok]   bucket versioning: enabled" in check.out

    dry = run_cli("rollback", "--dry-run", cwd=project)
    assert dry.code == 0, dry.text
    assert f"(dryrun) restore: s3://{BUCKET}/guide/index.html" in dry.out
    assert f"(dryrun) delete: s3://{BUCKET}/new.html" in dry.out
    assert snapshot(docs_bucket) != first

    res = run_cli("rollback", "--to", "1", cwd=project)
    assert res.code == 0, res.text
    assert "back to deploy #1" in res.out and "(new deploy #3)" in res.out
    assert snapshot(docs_bucket) == first
    assert "deploys/00000003.json" in " ".join(bucket_objects(docs_bucket, records=True))

    history = json.loads(run_cli("history", "--json", cwd=project).out)
    assert [(h["id"], h["rollback_of"]) for h in history] == [(3, 1), (2, None), (1, None)]
    # the next publish after a rollback compares against the restored manifest: the site of deploy 1 is unchanged
    again = run_cli("plan", "--exit-code", cwd=project)
    assert again.code == 3  # the built folder is still deploy 2's site


def test_rollback_refused_without_versioning(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    assert run_cli("publish", cwd=project).code == 0
    (project / "built/guide/index.html").write_bytes(b"<html>guide 2</html>")
    assert run_cli("publish", cwd=project).code == 0
    before = snapshot(docs_bucket)
    res = run_cli("rollback", cwd=project)
    assert res.code == 1
    assert "versioning is not enabled" in res.err
    assert f"aws s3api put-bucket-versioning --bucket {BUCKET} --versioning-configuration Status=Enabled" in res.err
    assert snapshot(docs_bucket) == before
    check = run_cli("check", cwd=project)
    assert "bucket versioning: not enabled" in check.out


def test_policy_rollback_adds_the_version_permissions(run_cli: Run, project: Path) -> None:
    plain = run_cli("policy", "--only", "permissions", "--principal", "arn:aws:iam::123456789012:user/ci", cwd=project)
    assert "s3:GetObjectVersion" not in plain.out
    res = run_cli(
        "policy", "--only", "permissions", "--rollback", "--principal", "arn:aws:iam::123456789012:user/ci", cwd=project
    )
    assert res.code == 0, res.text
    actions = {
        a
        for s in json.loads(res.out)["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"s3:GetObjectVersion", "s3:GetBucketVersioning", "s3:PutObject"} <= actions
