"""Command line: the same engine as the plugin, for pipelines that build and publish apart.

Exit codes: 0 success, 1 failure (the message says what to fix), 2 usage error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .configfile import load
from .errors import PublishError
from .publish import publish

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    root = logging.getLogger("mkdocs")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def _option_flags(func: F) -> F:
    """Flags that override the plugin block's options."""
    flags = [
        click.option("-f", "--config-file", "config_file", help="mkdocs.yml or zensical.toml (default: ./mkdocs.yml)."),
        click.option("--bucket", help="Docs bucket name."),
        click.option("--prefix", help="Folder in the bucket ('' for the root)."),
        click.option("--region", help="AWS region of the bucket and STS."),
        click.option("--role-arn", help="Role in the documents account to assume."),
        click.option("--external-id", envvar="DOCS_EXTERNAL_ID", show_envvar=True, help="ExternalId for AssumeRole."),
        click.option("--role-session-name", help="STS session name."),
        click.option("--duration-seconds", type=int, help="Role session length (900-43200)."),
        click.option("--profile", help="Named profile for the source credentials."),
        click.option("--endpoint-url", help="S3 endpoint override."),
        click.option("--expected-bucket-owner", help="Account id that must own the bucket."),
        click.option("--delete/--no-delete", default=None, help="Remove stale objects (guarded)."),
        click.option("--max-deletes", type=int, help="Refuse when more deletes than this are needed."),
        click.option("--max-delete-share", type=float, help="Refuse when deletes exceed this share (0-1)."),
        click.option("--concurrency", type=int, help="Parallel transfers (1-64)."),
        click.option("-v", "--verbose", is_flag=True, help="Debug output (secrets are never printed)."),
    ]
    for flag in reversed(flags):
        func = flag(func)
    return func


_OVERRIDE_KEYS = (
    "bucket",
    "prefix",
    "region",
    "role_arn",
    "external_id",
    "role_session_name",
    "duration_seconds",
    "profile",
    "endpoint_url",
    "expected_bucket_owner",
    "delete",
    "max_deletes",
    "max_delete_share",
    "concurrency",
)


def _run(site_dir: str | None, kwargs: dict[str, Any], *, dry_run: bool) -> int:
    _setup_logging(bool(kwargs.get("verbose")))
    overrides = {k: kwargs.get(k) for k in _OVERRIDE_KEYS}
    if dry_run:
        overrides["dry_run"] = True
    try:
        loaded = load(kwargs.get("config_file"), overrides, require_block=site_dir is None)
        site = Path(site_dir) if site_dir else loaded.site_dir
        result = publish(site, loaded.options.to_settings())
    except PublishError as exc:
        click.echo(f"Error: {exc}", err=True)
        return 1
    return 0 if not dry_run or not result.plan.changes else 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mkdocs-s3-crossaccount")
def cli() -> None:
    """Publish a built MkDocs site to an S3 bucket in another AWS account."""


@cli.command("publish")
@click.argument("site_dir", required=False, type=click.Path(file_okay=False))
@_option_flags
@click.option("--dry-run", is_flag=True, help="Plan and print; change nothing.")
def publish_cmd(site_dir: str | None, dry_run: bool, **kwargs: Any) -> None:
    """Publish SITE_DIR (default: site_dir of the config) with the plugin block's options."""
    code = _run(site_dir, kwargs, dry_run=dry_run)
    sys.exit(0 if code == 3 else code)


@cli.command("plan")
@click.argument("site_dir", required=False, type=click.Path(file_okay=False))
@_option_flags
@click.option("--exit-code", is_flag=True, help="Exit 3 when something would change, 0 when nothing would.")
def plan_cmd(site_dir: str | None, exit_code: bool, **kwargs: Any) -> None:
    """Show what publish would upload (with the reason) and delete; change nothing."""
    code = _run(site_dir, kwargs, dry_run=True)
    sys.exit(code if exit_code or code != 3 else 0)


def main() -> None:
    cli(prog_name="mkdocs-s3-crossaccount")


if __name__ == "__main__":  # pragma: no cover
    main()
