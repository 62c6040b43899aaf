"""`demo --site docs`: our own documentation site published to the local bucket and served."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.demo.run import checkout_docs

pytestmark = pytest.mark.e2e


def test_demo_publishes_the_docs_site_from_the_checkout(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_PROFILE"] = "no-such-profile-here"
    env["NO_MKDOCS_2_WARNING"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs_s3_crossaccount", "demo", "--site", "docs"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "this project's documentation site" in output
    assert "Published to s3://example-docs/: uploaded" in output
    assert "Checked: GET http://127.0.0.1:" in output and "text/html; charset=utf-8" in output


def test_demo_docs_says_where_the_sources_are_when_not_a_checkout(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "mkdocs_s3_crossaccount"
    package.mkdir(parents=True)
    with pytest.raises(PublishError) as info:
        checkout_docs(package)
    text = str(info.value)
    assert "docs/mkdocs.yml" in text and "checkout" in text and "pip install -e '.[demo,docs]'" in text
