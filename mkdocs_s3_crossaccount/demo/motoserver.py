"""A real ``moto`` server process on 127.0.0.1 (S3, STS, IAM, CloudFront), for the demo and the tests.

One launcher for both: ``mkdocs-s3-crossaccount demo`` starts it to play two AWS accounts on this
machine, and the test suite's fixtures (``tests/support/motoserver.py``) import it from here.

Two accounts take part:

* the *development* account ``123456789012``: any caller whose access key moto does not know acts
  there (the keys a CI job holds);
* the *documents* account ``222222222222``: reached with STS ``AssumeRole`` into :data:`DOCS_ROLE_ARN`.
  Outside auth mode the role need not exist.

The server never sees the caller's ``AWS_*`` settings (nor ``MOTO_ACCOUNT_ID``/``MOTO_PORT``, which
would pin every request to one account and defeat AssumeRole). Auth mode
(``POST /moto-api/reset-auth``) is global to the process: :meth:`MotoServer.auth_enforced` switches it
on for a ``with`` block and off again.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEV_ACCOUNT_ID = "123456789012"
DOCS_ACCOUNT_ID = "222222222222"
DOCS_ROLE_ARN = f"arn:aws:iam::{DOCS_ACCOUNT_ID}:role/docs-publisher"
REGION = "us-east-1"
HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """Return a TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _request(
    url_host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(url_host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class MotoServer:
    """A ``moto_server`` child process bound to ``127.0.0.1:port``."""

    def __init__(self, port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.host = HOST
        self.port = port
        self.process = process
        self.log_path = log_path

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:PORT`` (no trailing ``/``)."""
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"MotoServer(url={self.url!r}, pid={self.process.pid})"

    def is_running(self) -> bool:
        """Whether the process is still alive."""
        return self.process.poll() is None

    def log_tail(self, max_bytes: int = 4000) -> str:
        """The last ``max_bytes`` of the server's log (for error messages)."""
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-max_bytes:].decode("utf-8", "replace")

    def _post(self, path: str, body: bytes | None = None) -> bytes:
        status, data = _request(self.host, self.port, "POST", path, body)
        if status != 200:
            raise RuntimeError(f"moto {path} answered {status}: {data[:500]!r}")
        return data

    def reset(self) -> None:
        """Drop all state of all services (``POST /moto-api/reset``)."""
        self._post("/moto-api/reset")

    def set_unauthenticated_requests(self, count: float) -> None:
        """Let the next ``count`` requests skip IAM checks, then enforce IAM.

        ``0`` enforces from now on, ``math.inf`` turns auth checks off (moto's
        default).
        """
        body = "inf" if math.isinf(count) else str(int(count))
        self._post("/moto-api/reset-auth", body.encode())

    def enforce_auth(self) -> None:
        """Enforce IAM auth from the next request on."""
        self.set_unauthenticated_requests(0)

    def disable_auth(self) -> None:
        """Switch IAM auth checks off (moto's default)."""
        self.set_unauthenticated_requests(math.inf)

    @contextlib.contextmanager
    def auth_enforced(self) -> Iterator[MotoServer]:
        """Enforce IAM auth inside the ``with`` block, off again afterwards."""
        self.enforce_auth()
        try:
            yield self
        finally:
            self.disable_auth()

    def stop(self, timeout: float = 10.0, *, keep_log: bool = False) -> None:
        """Terminate (then kill) the process; delete its log unless ``keep_log``."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout)
        finally:
            if not keep_log:
                self.log_path.unlink(missing_ok=True)


def _moto_env() -> dict[str, str]:
    """The caller's environment without AWS_* settings and the MOTO_* ones that pin one account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # These would pin every request to one account and defeat AssumeRole.
    env.pop("MOTO_ACCOUNT_ID", None)
    env.pop("MOTO_PORT", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_moto_server(
    port: int | None = None,
    *,
    startup_timeout: float = 30.0,
    log_dir: Path | None = None,
    attempts: int = 3,
    module: str = "moto.server",
    cwd: str | None = None,
) -> MotoServer:
    """Start ``python -m moto.server -H 127.0.0.1 -p PORT`` and wait until it answers.

    ``module`` runs another launcher with the same arguments instead (the tests' moto extended
    for CloudFront Functions), from ``cwd`` (so such a launcher can be imported).

    With ``port=None`` a free port is picked (retried ``attempts`` times if the
    port is taken before moto binds it). Output goes to a log file, never to a
    pipe that could fill up. The caller must call :meth:`MotoServer.stop`.
    """
    last_error = ""
    for _ in range(max(1, attempts)):
        chosen = port if port is not None else free_port()
        log_fd, log_name = tempfile.mkstemp(
            prefix=f"moto-{chosen}-", suffix=".log", dir=str(log_dir) if log_dir else None
        )
        log_path = Path(log_name)
        with os.fdopen(log_fd, "wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", module, "-H", HOST, "-p", str(chosen)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_moto_env(),
                cwd=cwd,
                start_new_session=True,
            )
        server = MotoServer(chosen, process, log_path)
        deadline = time.monotonic() + startup_timeout
        try:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                try:
                    _request(HOST, chosen, "GET", "/moto-api/data.json", timeout=2.0)
                    return server
                except OSError:
                    time.sleep(0.1)
            last_error = server.log_tail()
            server.stop()
        except BaseException:
            server.stop()
            raise
        if port is not None:
            break
    raise RuntimeError(f"moto server did not start; log tail:\n{last_error}")


@contextlib.contextmanager
def moto_server(port: int | None = None, **kwargs: Any) -> Iterator[MotoServer]:
    """Context manager: a running moto server, stopped (killed if needed) on exit."""
    server = start_moto_server(port, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def isolated_client(
    service: str,
    endpoint_url: str,
    *,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None = None,
    region: str = REGION,
) -> Any:
    """A boto3 client with explicit keys that reads none of the caller's AWS settings.

    No profile (an unknown ``AWS_PROFILE`` is ignored, not an error), no config or credentials file,
    no endpoint variables: only what is passed here.
    """
    import boto3
    import botocore.session

    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
        region_name=region,
        botocore_session=core,
    )
    return session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]
