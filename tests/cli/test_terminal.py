"""The terminal experience of the console script against moto: the live bar on a pseudo-terminal,
plain lines without one, -q/--quiet, and `plan --json`."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import SECRETS, SITE, Result, Run, plugin_yaml, write_site
from tests.conftest import BUCKET, DOCS_ACCOUNT, ROLE_ARN, site_keys

pytestmark = pytest.mark.integration

MANY = {**SITE, **{f"assets/f{i:03d}.css": b"x" * (200 + i) for i in range(60)}}


def run_on_pty(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
    """The console script with stderr on a pseudo-terminal (stdout a pipe); what the terminal got is ``err``."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mkdocs_s3_crossaccount", *args],
            cwd=cwd,
            env={**os.environ, "TERM": "xterm", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=slave,
            stdin=subprocess.DEVNULL,
        )
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=timeout)
    result = Result(code, out, b"".join(chunks).decode().replace("\r\n", "\n"))
    result.assert_clean()
    return result


def screen(text: str) -> list[str]:
    """The lines a terminal shows for ``text``: ``\\r`` returns to the line's start, characters overwrite."""
    lines = []
    for raw in text.split("\n"):
        cells: list[str] = []
        col = 0
        for ch in raw:
            if ch == "\r":
                col = 0
                continue
            if col < len(cells):
                cells[col] = ch
            else:
                cells.append(ch)
            col += 1
        lines.append("".join(cells).rstrip())
    return [line for line in lines if line]


def test_a_terminal_gets_a_bar_redrawn_in_place_then_the_summary(project: Path, docs_bucket: Any) -> None:
    write_site(project / "built", MANY)
    res = run_on_pty("publish", cwd=project)
    assert res.code == 0, res.err
    assert site_keys(docs_bucket) == set(MANY)
    assert "\rUploading [" in res.err and f"/{len(MANY)} objects" in res.err
    assert "KB/s" in res.err or " B/s" in res.err
    # what the terminal shows: the bar was erased, no remnant of it on any line
    shown = screen(res.err)
    assert not any("Uploading [" in line for line in shown), shown
    assert shown[-1].startswith(f"INFO    -  Published to s3://{BUCKET}/: uploaded {len(MANY)} "), shown
    assert "Uploading:" not in res.err  # the periodic CI lines are replaced by the bar
    for secret in SECRETS:
        assert secret not in res.err

    for i in range(30):  # deletes get their own bar
        (project / f"built/assets/f{i:03d}.css").unlink()
    res = run_on_pty("publish", "--max-delete-share", "1", cwd=project)
    assert res.code == 0, res.err
    assert "\rDeleting [" in res.err and "/30 objects" in res.err
    shown = screen(res.err)
    assert not any("Deleting [" in line for line in shown) and "deleted 30" in shown[-1], shown


def test_without_a_terminal_there_is_no_carriage_return(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    write_site(project / "built", MANY)
    res = run_cli("publish", cwd=project)
    assert res.code == 0, res.text
    assert "\r" not in res.err and "Uploading [" not in res.err
    assert f"Published to s3://{BUCKET}/: uploaded {len(MANY)} " in res.err


def test_term_dumb_is_not_a_terminal(project: Path, docs_bucket: Any) -> None:
    res = run_on_pty("publish", cwd=project, env={"TERM": "dumb"})
    assert res.code == 0, res.err
    assert "Uploading [" not in res.err and "\r" not in res.err.replace("\r\n", "\n")
    assert "Published to" in res.err


def test_quiet_keeps_warnings_errors_and_the_summary(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    res = run_cli("publish", "-q", cwd=project)
    assert res.code == 0, res.text
    lines = res.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"INFO    -  Published to s3://{BUCKET}/: uploaded {len(SITE)} ")
    assert res.out == ""

    (project / "built/css/site.css").write_bytes(b"body{color:red}")
    res = run_cli("plan", "--quiet", cwd=project)
    assert res.code == 0, res.text
    assert res.err.splitlines() == [
        f"INFO    -  Dry run for s3://{BUCKET}/: would upload 1 (15 B), unchanged {len(SITE) - 1}, would delete 0"
        "; nothing was changed"
    ]

    quiet_pty = run_on_pty("publish", "-q", cwd=project)  # no bar either
    assert quiet_pty.code == 0 and "\r" not in quiet_pty.err.replace("\r\n", "\n")
    assert quiet_pty.err.count("\n") == 1 and "Published to" in quiet_pty.err

    res = run_cli("publish", "-q", "--bucket", "no-such-docs-bucket", cwd=project)  # errors stay
    assert res.code == 1 and res.err.startswith("Error: ") and "does not exist" in res.err

    res = run_cli("publish", "-q", "-v", cwd=project)
    assert res.code == 2 and "-q/--quiet and -v/--verbose" in res.err


def test_plan_json_is_the_only_stdout(run_cli: Run, project: Path, docs_bucket: Any) -> None:
    res = run_cli("plan", "--json", "--prefix", "docs", cwd=project)
    assert res.code == 0, res.text
    doc = json.loads(res.out)  # stdout is exactly one JSON document
    assert doc["schema"] == 1
    assert doc["destination"] == f"s3://{BUCKET}/docs/" and doc["bucket"] == BUCKET and doc["prefix"] == "docs"
    assert doc["role_arn"] == ROLE_ARN and doc["account"] == DOCS_ACCOUNT
    assert doc["refusal"] is None and doc["changes"] is True
    assert doc["counts"] == {
        "uploads": len(SITE),
        "header_updates": 0,
        "deletes": 0,
        "unchanged": 0,
        "local": len(SITE),
        "remote": 0,
    }
    assert {u["key"]: (u["path"], u["reason"], u["bytes"]) for u in doc["uploads"]} == {
        f"docs/{rel}": (rel, "new", len(body)) for rel, body in SITE.items()
    }
    assert doc["upload_bytes"] == sum(len(b) for b in SITE.values())
    assert doc["deletes"] == [] and doc["header_updates"] == []
    assert "(dryrun) upload: index.html" in res.err  # the human lines are logs: stderr

    assert run_cli("publish", "--prefix", "docs", cwd=project).code == 0
    (project / "built/js/site.js").unlink()
    res = run_cli("plan", "--json", "-q", "--prefix", "docs", "--exit-code", cwd=project)
    assert res.code == 3, res.text
    doc = json.loads(res.out)
    assert doc["deletes"] == [{"path": "js/site.js", "key": "docs/js/site.js", "bytes": len(SITE["js/site.js"])}]
    assert doc["counts"]["deletes"] == 1 and doc["counts"]["uploads"] == 0
    assert doc["counts"]["unchanged"] == len(SITE) - 1

    res = run_cli("remove", "--prefix", "docs", "-q", cwd=project)  # quiet remove: just its one result line
    assert res.code == 0, res.text
    assert res.out.splitlines() == [
        f"Dry run: would delete {len(SITE) + 2} objects under s3://{BUCKET}/docs/; nothing was changed. "
        "Add --yes to delete."
    ]
    assert "INFO" not in res.err


def test_a_refused_plan_says_what_was_refused_and_counts_no_deletes(
    run_cli: Run, project: Path, docs_bucket: Any
) -> None:
    """Issue 14: a refused plan said "would delete 3" in its summary as well as that the deletes were refused."""
    assert run_cli("publish", cwd=project).code == 0
    for rel in ("guide/index.html", "css/site.css", "js/site.js"):
        (project / "built" / rel).unlink()
    res = run_cli("plan", "--max-deletes", "2", cwd=project)
    assert res.code == 0, res.text
    assert "3 stale objects would be deleted, more than max_deletes (2)" in res.err  # what and why
    assert "(dryrun) refused delete: s3://example-docs/js/site.js" in res.err
    assert "(dryrun) delete:" not in res.err
    summary = res.err.strip().splitlines()[-1]
    assert "refused by the deletion guard" in summary and "would upload 0 and delete 0" in summary
    assert "would delete 3" not in res.err

    res = run_cli("plan", "--json", "--max-deletes", "2", cwd=project)
    doc = json.loads(res.out)
    assert doc["refusal"].startswith("3 stale objects would be deleted, more than max_deletes (2)")
    assert doc["changes"] is False and doc["counts"]["deletes"] == 0 and doc["counts"]["uploads"] == 0
    assert len(doc["deletes"]) == 3  # what the diff found, refused

    res = run_cli("publish", "--max-deletes", "2", cwd=project)
    assert res.code == 1 and "more than max_deletes (2)" in res.err
    assert "guide/index.html" in site_keys(docs_bucket)


def test_a_missing_site_folder_is_the_first_error_even_without_credentials(
    run_cli: Run, project: Path, docs_bucket: Any
) -> None:
    """Issue 14: `publish SITE` with a wrong folder asked for credentials first."""
    no_keys = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    for cmd in ("publish", "plan"):
        res = run_cli(cmd, str(project / "no-such-site"), cwd=project, env=no_keys)
        assert res.code == 1, res.text
        assert res.err.startswith(f"Error: Site dir {str(project / 'no-such-site')!r} does not exist"), res.err
        assert "credentials" not in res.err
    (project / "mkdocs.yml").write_text(plugin_yaml().replace("site_dir: built", "site_dir: unbuilt"), "utf-8")
    res = run_cli("publish", cwd=project, env=no_keys)
    assert res.code == 1 and "unbuilt" in res.err and "does not exist" in res.err and "credentials" not in res.err
