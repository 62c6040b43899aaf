"""Fixtures for the CLI tests: the console script run as a real subprocess against moto."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tests.conftest import BUCKET, DEV_SECRET, EXTERNAL_ID, ROLE_ARN, Accounts

SITE = {
    "index.html": b"<html><head><title>Home</title></head><body>home</body></html>",
    "guide/index.html": b"<html>guide</html>",
    "css/site.css": b"body{color:#333}",
    "js/site.js": b"console.log('hi')",
    "404.html": b"<html>missing</html>",
}

# Strings that must never appear in any output, report or error.
SECRETS = (DEV_SECRET, EXTERNAL_ID)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def assert_clean(self) -> None:
        """No traceback, no secret."""
        assert "Traceback" not in self.text, self.text
        for secret in SECRETS:
            assert secret not in self.text


Run = Callable[..., Result]


@pytest.fixture
def run_cli(accounts: Accounts) -> Run:
    """`python -m mkdocs_s3_crossaccount ARGS` with the CI job's environment (dev keys only)."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
        full_env = {**os.environ, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "mkdocs_s3_crossaccount", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        result.assert_clean()
        return result

    return run


def write_site(root: Path, files: dict[str, bytes] | None = None) -> Path:
    for rel, data in (files or SITE).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def plugin_yaml(**options: str) -> str:
    block = {"bucket": BUCKET, "role_arn": ROLE_ARN, "external_id": "!ENV DOCS_EXTERNAL_ID", **options}
    lines = "".join(f"      {k}: {v}\n" for k, v in block.items())
    return f"site_name: Test\nsite_dir: built\nplugins:\n  - search\n  - s3-crossaccount:\n{lines}"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, accounts: Accounts) -> Path:
    """tmp/proj/mkdocs.yml (plugin block, site_dir: built) and tmp/proj/built/ (a small site)."""
    monkeypatch.setenv("DOCS_EXTERNAL_ID", EXTERNAL_ID)
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "mkdocs.yml").write_text(plugin_yaml(), encoding="utf-8")
    write_site(proj / "built")
    return proj


# --- recording the AWS calls a command makes (botocore's event system, real requests) ---


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    access_key: str | None = None
    response: dict[str, Any] | None = None


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Every API call made by clients created during the test, in order, with its parameters,
    the access key id it was signed with, and the parsed response."""
    calls: list[Call] = []
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name

        def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            call = Call(service, model.name, dict(params))
            context["_recorded_call"] = call
            calls.append(call)

        def created(request: Any, **_: Any) -> None:
            call = request.context.get("_recorded_call")
            auth = request.headers.get("Authorization", b"")
            auth = auth.decode() if isinstance(auth, bytes) else auth
            m = re.search(r"Credential=([^/]+)/", auth)
            if call is not None and m:
                call.access_key = m.group(1)

        def after(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            call = context.get("_recorded_call")
            if call is not None:
                call.response = parsed

        client.meta.events.register("before-parameter-build", before)
        client.meta.events.register("request-created", created)
        client.meta.events.register("after-call", after)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    return calls
