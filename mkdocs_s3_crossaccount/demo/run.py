"""`demo`: the whole cross-account publish on one machine, with nothing but this package.

A moto server (S3 + STS, the ``demo`` extra) on 127.0.0.1 plays two AWS accounts: the
development account whose keys the "CI job" holds, and the documents account that owns the
bucket. A site is built with ``mkdocs build`` (same Python), the plugin publishes it through
the role, and a small front on 127.0.0.1 serves the bucket's objects as a static website would
(``/`` and directory URLs map to ``index.html``; headers such as ``Cache-Control`` pass through).

Two sites: ``example`` (the packaged example site, always there) and ``docs`` (this project's
documentation site, ``docs/mkdocs.yml`` of a checkout: it is not part of an installed wheel).

No real AWS account is ever contacted: every AWS_* variable of the caller is dropped, and an
unknown ``AWS_PROFILE`` does not matter.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Callable
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.demo.motoserver import (
    DEV_ACCOUNT_ID,
    DOCS_ACCOUNT_ID,
    DOCS_ROLE_ARN,
    REGION,
    MotoServer,
    isolated_client,
    start_moto_server,
)
from mkdocs_s3_crossaccount.demo.webfront import WebFront

DEV_ACCOUNT = DEV_ACCOUNT_ID
DOCS_ACCOUNT = DOCS_ACCOUNT_ID
ROLE_ARN = DOCS_ROLE_ARN
BUCKET = "example-docs"
# Obviously fake keys: moto accepts any, and they are useless anywhere else.
DEV_KEY = "demo-dev-access-key"
DEV_SECRET = "demo-dev-secret-key-not-real"
EXTERNAL_ID = "demo-external-id"
SITES = ("example", "docs")

Echo = Callable[[str], None]


def start_moto() -> MotoServer:
    """The shared launcher, with the demo's own message when moto's server is not installed."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        raise PublishError(
            "The demo needs moto's server (S3 and STS on this machine), which is not installed.",
            "In a checkout: pip install -e '.[demo]'; from a wheel: pip install 'WHEEL_FILE[demo]'.",
        )
    try:
        return start_moto_server()
    except RuntimeError as exc:
        raise PublishError(f"The local moto server did not start: {exc}") from None


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
    dev = isolated_client("sts", moto_url, access_key_id=DEV_KEY, secret_access_key=DEV_SECRET)
    creds = dev.assume_role(RoleArn=ROLE_ARN, RoleSessionName="demo-setup", ExternalId=EXTERNAL_ID)["Credentials"]
    return isolated_client(
        "s3",
        moto_url,
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
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


def checkout_docs(package_dir: Path | None = None) -> Path:
    """``docs/mkdocs.yml`` of the checkout this package runs from (an editable install, or the
    repository on ``sys.path``); a PublishError saying how to get it otherwise."""
    root = (package_dir or Path(__file__).resolve().parent.parent).parent
    config = root / "docs" / "mkdocs.yml"
    if not config.is_file():
        raise PublishError(
            "`demo --site docs` builds this project's documentation site from a checkout of the repository "
            f"(docs/mkdocs.yml), and this installation is not one: {root} has no docs/mkdocs.yml "
            "(a wheel carries the package and its example site, not the docs sources).",
            "Clone the repository and install it editable with the docs extra: "
            "pip install -e '.[demo,docs]', then run the demo from there; or run `demo` without --site "
            "for the packaged example site.",
        )
    if importlib.util.find_spec("material") is None:
        raise PublishError(
            "The documentation site uses the Material for MkDocs theme, which is not installed here.",
            "In the checkout: pip install -e '.[demo,docs]'.",
        )
    return config


def fetch(url: str) -> tuple[int, str, bytes]:
    """GET ``url``: status, Content-Type and body."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1: never via a proxy
    with opener.open(url, timeout=10) as resp:
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


def run(echo: Echo, *, keep_serving: bool = False, port: int = 0, site: str = "example", versions: bool = False) -> int:
    """The demo (``versions``: two versions and latest). Returns the exit code; raises PublishError on failure."""
    if site not in SITES:
        raise PublishError(f"Unknown demo site {site!r}.", f"Pass --site with one of: {', '.join(SITES)}.")
    if versions and site != "example":
        raise PublishError("--versions publishes the example site in two versions.", "Leave out --site docs.")
    docs_config = checkout_docs() if site == "docs" else None  # fail before starting anything
    with contextlib.ExitStack() as stack:
        echo("Starting a local S3 + STS server (moto) on 127.0.0.1 ...")
        server = start_moto()
        stack.callback(server.stop)
        moto_url = server.url
        echo(f"  development account {DEV_ACCOUNT} (the CI job's keys), documents account {DOCS_ACCOUNT}")
        s3 = docs_account_s3(moto_url)
        s3.create_bucket(Bucket=BUCKET)
        echo(f"  created bucket s3://{BUCKET} in the documents account {DOCS_ACCOUNT}")

        try:
            front = WebFront(s3, BUCKET, port=port).start()
        except OSError as exc:
            raise PublishError(
                f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}.", "Pick another --port, or leave it out."
            ) from None
        stack.callback(front.close)
        site_url = front.url

        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="s3xa-demo-")))
        if docs_config is not None:
            config, what = docs_config, f"this project's documentation site ({docs_config})"
        else:
            config, what = copy_demo_site(work / "example-site") / "mkdocs.yml", "the example site"
        report = work / "report.json"
        env = job_env(moto_url, site_url, report)
        if versions:
            publish_versions(echo, config.parent, work, env)
        else:
            echo(f"Building {what} with `mkdocs build`; the plugin publishes it as {ROLE_ARN}:")
            _build(echo, config, work / "site", env)

        data = json.loads(report.read_text(encoding="utf-8"))
        counts = data["counts"]
        echo(
            f"Published {counts['uploaded']} files ({data['bytes_uploaded']} bytes) to {data['destination']} "
            f"as {data['identity_arn']} (account {data['account']}); report: {len(data['uploaded'])} uploads "
            "with reasons."
        )

        if versions:
            show_versions(echo, s3, site_url)
            site_url += "latest/"
        status, ctype, body = fetch(site_url)
        if status != 200 or not ctype.startswith("text/html"):
            raise PublishError(f"The published home page did not come back as HTML: {status} {ctype}.")
        echo(f"Checked: GET {site_url} -> {status} {ctype} ({len(body)} bytes)")
        echo(f"Browse the published site at {site_url}")
        if not keep_serving:
            flag = " --site docs" if docs_config is not None else " --versions" if versions else ""
            echo(f"(exiting; run `mkdocs-s3-crossaccount demo{flag} --keep-serving` to keep it up)")
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
