"""`demo`: the whole cross-account publish on one machine, with nothing but this package.

A moto server (S3 + STS, the ``demo`` extra) on 127.0.0.1 plays two AWS accounts: the
development account whose keys the "CI job" holds, and the documents account that owns the
bucket. The packaged example site is built with ``mkdocs build`` (same Python), the plugin
publishes it through the role, and a small front on 127.0.0.1 serves the bucket's objects
as a static website would (``/`` and directory URLs map to ``index.html``).

No real AWS account is ever contacted: every AWS_* variable of the caller is dropped.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from mkdocs_s3_crossaccount.core.errors import PublishError

DEV_ACCOUNT = "123456789012"
DOCS_ACCOUNT = "222222222222"
ROLE_ARN = f"arn:aws:iam::{DOCS_ACCOUNT}:role/docs-publisher"
BUCKET = "example-docs"
REGION = "us-east-1"
# Obviously fake keys: moto accepts any, and they are useless anywhere else.
DEV_KEY = "demo-dev-access-key"
DEV_SECRET = "demo-dev-secret-key-not-real"
EXTERNAL_ID = "demo-external-id"

Echo = Callable[[str], None]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (OSError, urllib.error.URLError) as exc:
            if proc is not None and proc.poll() is not None:
                raise PublishError(f"The local moto server exited at start (code {proc.returncode}).") from exc
            if time.monotonic() > deadline:
                raise PublishError(f"The local moto server did not answer at {url} within {timeout:.0f} s.") from exc
            time.sleep(0.1)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server process on 127.0.0.1 at a free port; yields its URL, stops it on exit."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        raise PublishError(
            "The demo needs moto's server (S3 and STS on this machine), which is not installed.",
            "pip install 'mkdocs-s3-crossaccount[demo]'  (or, in a checkout: pip install -e '.[demo]')",
        )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_clean_env({}),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/moto-api/", proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without any AWS or DOCS_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCS_"))}
    env.update(extra)
    return env


def job_env(moto_url: str, site_url: str, report: Path) -> dict[str, str]:
    """What a CI job would have: development-account keys and the DOCS_* variables the example reads."""
    return _clean_env(
        {
            "AWS_ACCESS_KEY_ID": DEV_KEY,
            "AWS_SECRET_ACCESS_KEY": DEV_SECRET,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "DOCS_PUBLISH": "true",
            "DOCS_BUCKET": BUCKET,
            "DOCS_ROLE_ARN": ROLE_ARN,
            "DOCS_EXTERNAL_ID": EXTERNAL_ID,
            "DOCS_SITE_URL": site_url,
            "DOCS_REPORT_FILE": str(report),
            "DOCS_SITE_URL_TEMPLATE": site_url,
        }
    )


def docs_account_s3(moto_url: str) -> Any:
    """An S3 client acting in the documents account (through the role, as the setup admin would)."""
    dev = boto3.client(
        "sts", endpoint_url=moto_url, region_name=REGION, aws_access_key_id=DEV_KEY, aws_secret_access_key=DEV_SECRET
    )
    creds = dev.assume_role(RoleArn=ROLE_ARN, RoleSessionName="demo-setup", ExternalId=EXTERNAL_ID)["Credentials"]
    return boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def copy_demo_site(dest: Path) -> Path:
    """The packaged example site's sources (mkdocs.yml + docs/), copied to a writable folder."""
    missing = PublishError(
        "The packaged demo site (mkdocs_s3_crossaccount.demo_site) is missing from this installation.",
        "Reinstall the package: pip install -e '.[demo]' in a checkout, else "
        "pip install 'mkdocs-s3-crossaccount[demo]'.",
    )
    try:
        source = files("mkdocs_s3_crossaccount.demo_site")
    except ModuleNotFoundError:
        raise missing from None
    with as_file(source) as src:
        shutil.copytree(
            src,
            dest,
            ignore=shutil.ignore_patterns("site", "__pycache__", "__init__.py", "*.pyc"),
        )
    if not (dest / "mkdocs.yml").is_file():
        raise missing
    return dest


# --- the front: a static-website view of the bucket -----------------------------------


def make_front(s3: Any, bucket: str, prefix: str = "", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 serving the bucket's objects with their stored Content-Type."""

    class Front(BaseHTTPRequestHandler):
        server_version = "s3-crossaccount-demo"

        def do_GET(self) -> None:
            self._serve(body=True)

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def _serve(self, body: bool) -> None:
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            rel = path.lstrip("/")
            if rel == "" or rel.endswith("/"):
                rel += "index.html"
            if ".." in rel.split("/"):
                self._send(400, "text/plain; charset=utf-8", b"bad path\n", body)
                return
            obj = self._get(rel)
            if obj is None and "." not in rel.rsplit("/", 1)[-1] and self._get(rel + "/index.html") is not None:
                self.send_response(301)
                self.send_header("Location", urllib.parse.quote(path + "/"))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if obj is None:
                missing = self._get("404.html")
                if missing is not None:
                    self._send(404, missing["ContentType"], missing["Body"].read(), body)
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n", body)
                return
            self._send(200, obj.get("ContentType", "application/octet-stream"), obj["Body"].read(), body)

        def _get(self, rel: str) -> Any:
            key = f"{prefix}/{rel}" if prefix else rel
            try:
                return s3.get_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                    return None
                raise
            except BotoCoreError:
                return None

        def _send(self, status: int, ctype: str, data: bytes, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the demo prints its own lines
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Front)
    server.daemon_threads = True
    return server


def fetch(url: str) -> tuple[int, str, bytes]:
    """GET ``url``: status, Content-Type and body."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        return int(resp.status), str(resp.headers.get("Content-Type", "")), resp.read()


def _build(echo: Echo, config: Path, out: Path, env: dict[str, str]) -> None:
    """`mkdocs build` of the example (the plugin publishes), its output echoed."""
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(config), "-d", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    for line in build.stdout.splitlines():
        echo("  | " + line)
    if build.returncode != 0:
        raise PublishError(f"`mkdocs build` failed with exit code {build.returncode} (its output is above).")


def publish_versions(echo: Echo, project: Path, work: Path, env: dict[str, str]) -> list[str]:
    """Publish the versioned example as 1.0 (latest), then 2.0 (latest moves); returns the version names."""
    if importlib.util.find_spec("material") is None:
        raise PublishError(
            "demo --versions builds the example with Material for MkDocs (its version selector), "
            "which is not installed.",
            "pip install 'mkdocs-s3-crossaccount[demo]'  (or pip install mkdocs-material)",
        )
    names = ["1.0", "2.0"]
    for version in names:
        echo(f"Building version {version} (aliases: latest; the root redirects to latest):")
        _build(
            echo,
            project / "mkdocs-versions.yml",
            work / f"site-{version}",
            {**env, "DOCS_VERSION": version, "DOCS_COPYRIGHT": f"Example Docs {version}"},
        )
    return names


def show_versions(echo: Echo, s3: Any, site_url: str) -> None:
    """What the versioned demo left in the bucket, checked through the front."""
    listing = s3.get_object(Bucket=BUCKET, Key="versions.json")["Body"].read().decode("utf-8")
    echo("versions.json (mike's format, read by Material's version selector):")
    for line in listing.splitlines():
        echo("  " + line)
    status, ctype, body = fetch(site_url)
    if status != 200 or b'"latest/"' not in body:
        raise PublishError(f"The root did not redirect to latest/: {status} {ctype}.")
    echo(f"Checked: GET {site_url} -> {status} {ctype}, a redirect to latest/")
    for folder in ("1.0", "2.0", "latest"):
        status, ctype, body = fetch(f"{site_url}{folder}/guide/install/")
        label = "2.0" if b"Example Docs 2.0" in body else "1.0" if b"Example Docs 1.0" in body else "?"
        echo(f"Checked: GET {site_url}{folder}/guide/install/ -> {status} {ctype} (footer: {label})")


def run(echo: Echo, *, keep_serving: bool = False, port: int = 0, versions: bool = False) -> int:
    """The demo (``versions``: two versions and latest). Returns the exit code; raises PublishError on failure."""
    with contextlib.ExitStack() as stack:
        echo("Starting a local S3 + STS server (moto) on 127.0.0.1 ...")
        moto_url = stack.enter_context(moto_server())
        echo(f"  development account {DEV_ACCOUNT} (the CI job's keys), documents account {DOCS_ACCOUNT}")
        s3 = docs_account_s3(moto_url)
        s3.create_bucket(Bucket=BUCKET)
        echo(f"  created bucket s3://{BUCKET} in the documents account {DOCS_ACCOUNT}")

        try:
            front = make_front(s3, BUCKET, port=port)
        except OSError as exc:
            raise PublishError(
                f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}.", "Pick another --port, or leave it out."
            ) from None
        stack.callback(front.server_close)
        site_url = f"http://127.0.0.1:{front.server_address[1]}/"

        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="s3xa-demo-")))
        project = copy_demo_site(work / "example-site")
        report = work / "report.json"
        env = job_env(moto_url, site_url, report)
        if versions:
            publish_versions(echo, project, work, env)
        else:
            echo(f"Building the example site with `mkdocs build`; the plugin publishes it as {ROLE_ARN}:")
            _build(echo, project / "mkdocs.yml", work / "site", env)

        data = json.loads(report.read_text(encoding="utf-8"))
        counts = data["counts"]
        echo(
            f"Published {counts['uploaded']} files ({data['bytes_uploaded']} bytes) to {data['destination']} "
            f"as {data['identity_arn']} (account {data['account']}); report: {len(data['uploaded'])} uploads "
            "with reasons."
        )

        thread = threading.Thread(target=front.serve_forever, name="s3xa-demo-front", daemon=True)
        thread.start()
        stack.callback(front.shutdown)
        if versions:
            show_versions(echo, s3, site_url)
            site_url += "latest/"
        status, ctype, body = fetch(site_url)
        if status != 200 or not ctype.startswith("text/html") or b"Example Docs" not in body:
            raise PublishError(f"The published home page did not come back as HTML: {status} {ctype}.")
        echo(f"Checked: GET {site_url} -> {status} {ctype} ({len(body)} bytes)")
        echo(f"Browse the published site at {site_url}")
        if not keep_serving:
            echo("(exiting; run `mkdocs-s3-crossaccount demo --keep-serving` to keep it up)")
            return 0
        echo("Serving until Ctrl-C ...")
        _wait_for_stop()
        echo("Stopped.")
    return 0


def _wait_for_stop() -> None:
    """Block until Ctrl-C (SIGINT) or SIGTERM."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
