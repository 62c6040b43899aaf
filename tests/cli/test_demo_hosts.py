"""demo end to end, and the plugin under ProperDocs; both as real subprocesses."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXTERNAL_ID, bucket_objects

pytestmark = pytest.mark.e2e


def _fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return int(resp.status), str(resp.headers.get("Content-Type")), resp.read()


def test_demo_publishes_and_serves_until_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_ACCESS_KEY_ID"] = "must-be-ignored-by-the-demo"  # the demo never uses the caller's AWS settings
    env["AWS_PROFILE"] = "no-such-profile-here"  # not even an unknown profile
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs_s3_crossaccount", "demo", "--keep-serving"],
        cwd=tmp_path,  # any folder: the site comes from the package
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    url = None
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Browse the published site at "):
                url = line.split(" at ", 1)[1].strip()
            if line.startswith("Serving until Ctrl-C"):
                break
        output = "".join(lines)
        assert url and url.startswith("http://127.0.0.1:"), output
        assert "Assumed arn:aws:sts::222222222222:assumed-role/docs-publisher/" in output
        assert "Published to s3://example-docs/: uploaded" in output

        status, ctype, body = _fetch(url)
        assert status == 200 and ctype == "text/html; charset=utf-8"
        assert b"Example Docs" in body
        status, ctype, body = _fetch(url + "guide/install/")
        assert status == 200 and ctype.startswith("text/html") and b"Install" in body
        status, ctype, _ = _fetch(url + "css/extra.css")
        assert ctype.startswith("text/css")
        with urllib.request.urlopen(url + "css/extra.css", timeout=10) as resp:  # the front passes it through
            assert resp.headers.get("Cache-Control") == "public, max-age=3600"
        status, ctype, body = _fetch(url + "guide/caf%C3%A9-cr%C3%A8me/")
        assert status == 200 and ctype.startswith("text/html")
        status, _, _ = _fetch(url + "guide/install")  # redirected to the directory URL
        assert status == 200
        with pytest.raises(urllib.error.HTTPError) as missing:
            _fetch(url + "no/such/page/")
        assert missing.value.code == 404

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output += rest
    assert proc.returncode == 0, output
    assert "Stopped." in output and "Traceback" not in output
    with pytest.raises(OSError):
        _fetch(url)  # the front is gone


@pytest.mark.skipif(
    importlib.util.find_spec("properdocs") is None or importlib.util.find_spec("properdocs_theme_mkdocs") is None,
    reason="properdocs (+ properdocs-theme-mkdocs for the example site's theme) is not installed here; "
    "CI runs this in a venv with `pip install properdocs==1.6.7 properdocs-theme-mkdocs`",
)
def test_properdocs_build_publishes_with_our_log_lines(site_copy: Path, docs_bucket: Any) -> None:
    # as a CI job sets it (an unset `!ENV DOCS_EXTERNAL_ID` in a publishing block is an error)
    env = {**os.environ, "DOCS_PUBLISH": "true", "DOCS_PREFIX": "pd", "DOCS_EXTERNAL_ID": EXTERNAL_ID}
    proc = subprocess.run(
        [sys.executable, "-m", "properdocs", "build", "-f", str(site_copy / "mkdocs.yml")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    # our logger (mkdocs.plugins.s3_crossaccount) reaches ProperDocs' handler
    assert "Assumed arn:aws:sts::222222222222:assumed-role/docs-publisher/" in output
    assert "Published to s3://example-docs/pd/: uploaded" in output
    objects = bucket_objects(docs_bucket, prefix="pd/")
    assert "pd/index.html" in objects and "pd/search/search_index.json" in objects
    head = docs_bucket.head_object(Bucket="example-docs", Key="pd/index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"
