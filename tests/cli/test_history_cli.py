"""`history` and the out-of-order guard through the console script against moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Run

pytestmark = pytest.mark.integration

NEWER = {"CI_COMMIT_SHA": "b" * 40, "CI_COMMIT_TIMESTAMP": "2026-11-29T10:00:00Z", "CI_PIPELINE_ID": "42"}
OLDER = {"CI_COMMIT_SHA": "a" * 40, "CI_COMMIT_TIMESTAMP": "2026-11-28T10:00:00Z", "CI_PIPELINE_ID": "41"}


def test_history_and_out_of_order_guard(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    assert run_cli("publish", cwd=project, env=NEWER).code == 0
    (project / "built/guide/index.html").write_bytes(b"<html>guide 2</html>")

    late = run_cli("publish", cwd=project, env=OLDER)
    assert late.code == 1
    assert "Refusing to publish commit aaaaaaaaaaaa (2026-11-28T10:00:00Z)" in late.err
    assert "bbbbbbbbbbbb" in late.err and "--allow-older" in late.err

    forced = run_cli("publish", "--allow-older", cwd=project, env=OLDER)
    assert forced.code == 0, forced.text

    listed = run_cli("history", cwd=project)
    assert listed.code == 0, listed.text
    lines = listed.out.splitlines()
    assert lines[1].split()[:1] == ["ID"]
    assert lines[2].split()[0] == "2" and "aaaaaaaaaaaa" in lines[2] and "41" in lines[2]
    assert lines[3].split()[0] == "1" and "bbbbbbbbbbbb" in lines[3]
    records = json.loads(run_cli("history", "--json", cwd=project).out)
    assert [(r["id"], r["uploaded"], r["pipeline"]) for r in records] == [(2, 1, "41"), (1, 5, "42")]
    assert records[0]["who"].startswith("mkdocs-")
