"""Servers of the benchmark, all on 127.0.0.1: moto (STS), rclone (S3), latency proxy.

Every process is started through ``orphan_guard.py`` (``PR_SET_PDEATHSIG`` = SIGKILL),
so it also stops if the harness dies without running its ``finally`` blocks, and is
stopped by its own pid (terminate, then kill after a grace period) by
:meth:`Server.stop`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR.parent))  # the repository root: tests.support is shared

from tests.support.s3servers import rclone_command  # noqa: E402  (after the path is set)

ORPHAN_GUARD = BENCH_DIR / "orphan_guard.py"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {HOST}:{port}") from None
            time.sleep(0.02)


class Server:
    """A child process that serves on a port until :meth:`stop`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        ports: Sequence[int],
        log_path: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.ports = list(ports)
        self.port = self.ports[0]
        self.log_path = log_path
        self.env = dict(env) if env is not None else dict(os.environ)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            guard = [sys.executable, "-S", "-E", str(ORPHAN_GUARD), str(os.getpid())]
            self.proc = subprocess.Popen(
                [*guard, *self.argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        try:
            for port in self.ports:
                wait_for_port(port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.name} did not start; see {self.log_path}") from None
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def cpu_seconds(self) -> float | None:
        """User + system CPU time used so far by the server and its reaped children."""
        if self.proc is None:
            return None
        try:
            t = psutil.Process(self.proc.pid).cpu_times()
        except psutil.Error:
            return None
        return float(t.user + t.system + t.children_user + t.children_system)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def moto_server(moto_bin: Path, port: int, log_path: Path) -> Server:
    """moto in server mode; only its STS is used."""
    argv = [str(moto_bin), "-H", HOST, "-p", str(port)]
    return Server("moto", argv, [port], log_path)


def moto_reset(moto_url: str) -> None:
    """Forget every moto resource (assumed-role sessions included)."""
    req = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()


def moto_sessions(moto_url: str) -> list[dict[str, object]]:
    """The assumed-role sessions moto has handed out."""
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json", timeout=30) as resp:
        data = json.load(resp)
    return list(data.get("sts", {}).get("AssumedRole", []))


def rclone_s3_server(
    rclone_bin: Path,
    port: int,
    root: Path,
    moto_url: str,
    role_arn: str,
    log_path: Path,
    config_path: Path,
) -> Server:
    """``rclone serve s3`` over ``root`` (each sub-directory is a bucket).

    Requests must be SigV4-signed with a session that moto's STS issued for
    ``role_arn``: rclone asks ``tests/support/rclone_authproxy.py`` for the secret of each
    access key. The command line is built by ``tests/support/s3servers.py``, which the
    integration tests share.
    """
    argv, env = rclone_command(rclone_bin, port, root, moto_url, role_arn, config_path)
    return Server("rclone", argv, [port], log_path, env)


def latency_proxy(maps: Sequence[tuple[int, int]], rtt_ms: float, log_path: Path, max_seconds: float) -> Server:
    """The delaying proxy of :mod:`latency_proxy` for each ``(listen, target)`` pair."""
    argv = [
        sys.executable,
        str(BENCH_DIR / "latency_proxy.py"),
        "--rtt-ms",
        str(rtt_ms),
        "--max-seconds",
        str(max_seconds),
    ]
    for listen, target in maps:
        argv += ["--map", f"{listen}:{target}"]
    return Server("latency-proxy", argv, [listen for listen, _ in maps], log_path)
