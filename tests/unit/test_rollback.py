"""Rollback against the in-memory destination with bucket versioning: copies of recorded versions only."""

from __future__ import annotations

from pathlib import Path

import pytest

from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.memory import MemoryDestination
from mkdocs_s3_crossaccount.core.rollback import RollbackRules, apply_rollback, prepare
from mkdocs_s3_crossaccount.engine import Run, inventory, publish_to, write_rollback_manifest
from tests.conftest import make_site

SETTINGS = Settings(bucket="memory-bucket", prefix="docs")


def publish_mem(dest: MemoryDestination, root: Path) -> None:
    run = Run(str(root), SETTINGS, "222222222222", "us-east-1", progress_interval=0)
    publish_to(dest, lambda: inventory(str(root), SETTINGS), run, None)


def two_deploys(tmp_path: Path, dest: MemoryDestination) -> tuple[Path, dict[str, bytes]]:
    site = make_site(tmp_path / "site", {"index.html": b"1", "a.css": b"a", "b.js": b"b"})
    publish_mem(dest, site)
    first = {k: v for k, v in dest.site().items() if not k.startswith(".mkdocs")}
    (site / "index.html").write_bytes(b"2")
    (site / "b.js").unlink()
    (site / "c.html").write_bytes(b"c")
    publish_mem(dest, site)
    return site, first


def test_rollback_copies_recorded_versions_and_deletes_later_additions(tmp_path: Path) -> None:
    dest = MemoryDestination(prefix="docs", versioning_status="Enabled")
    site, first = two_deploys(tmp_path, dest)
    dest.calls.clear()
    plan = prepare(dest, RollbackRules())
    assert plan.target.number == 1
    assert [rel for rel, _ in plan.copies] == ["b.js", "index.html"]  # assets before pages
    assert [d.rel for d in plan.deletes] == ["c.html"] and plan.unchanged == 1
    objects = apply_rollback(dest, plan, RollbackRules())
    assert write_rollback_manifest(dest, plan, objects, SETTINGS) == 3
    assert {k: v for k, v in dest.site().items() if not k.startswith(".mkdocs")} == first
    assert dest.ops("upload") == [] and dest.ops("copy_from") == ["docs/b.js", "docs/index.html"]
    # the next publish of deploy 2's site sees the restored objects as they are
    dest.calls.clear()
    publish_mem(dest, site)
    assert sorted(dest.ops("upload")) == ["docs/c.html", "docs/index.html"]


def test_rollback_refused_without_versioning_and_without_recorded_versions(tmp_path: Path) -> None:
    dest = MemoryDestination(prefix="docs")
    two_deploys(tmp_path, dest)
    with pytest.raises(PublishError, match="versioning is not enabled") as caught:
        prepare(dest, RollbackRules())
    assert "put-bucket-versioning" in (caught.value.fix or "")
    dest.versioning_status = "Enabled"  # switched on after the deploys: their versions are unknown
    plan = prepare(dest, RollbackRules())
    assert plan.refusal and "before bucket versioning was on" in plan.refusal
    with pytest.raises(PublishError, match="Nothing was changed"):
        apply_rollback(dest, plan, RollbackRules())
    with pytest.raises(PublishError, match="No deploy #9"):
        prepare(dest, RollbackRules(deploy_id=9))
