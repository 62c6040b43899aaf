"""Command line: the same engine as the plugin, for pipelines that build and publish apart.

Exit codes: 0 success, 1 failure (the message says what to fix), 2 usage error (a flag,
the config file or an option is wrong; nothing was contacted), 3 `plan --exit-code`:
something would change.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from mkdocs_s3_crossaccount.cli.progress import Bar, BarHandler, is_terminal
from mkdocs_s3_crossaccount.config.reader import load
from mkdocs_s3_crossaccount.config.schema import Option, cli_options
from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core import policy as policies
from mkdocs_s3_crossaccount.core.apply import observing
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.redact import redact
from mkdocs_s3_crossaccount.core.report import plan_data
from mkdocs_s3_crossaccount.hosts.generators import generator_version

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CHANGES = 3


class UsageProblem(Exception):
    """The command line, config file or options are wrong: exit 2."""

    def __init__(self, err: PublishError) -> None:
        self.err = err
        super().__init__(str(err))


def _quiet_filter(record: logging.LogRecord) -> bool:
    """-q: warnings, errors and the final summary line (the engine marks it) pass."""
    return record.levelno >= logging.WARNING or bool(getattr(record, "s3xa_summary", False))


def _setup_logging(verbose: bool, quiet: bool = False, bar: Bar | None = None) -> None:
    handler = BarHandler(sys.stderr, bar) if bar is not None else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    if quiet:
        handler.addFilter(_quiet_filter)
    root = logging.getLogger("mkdocs")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def echo(message: str, err: bool = False, nl: bool = True) -> None:
    """Every line the CLI prints (stdout or stderr) goes through the one redaction point."""
    click.echo(redact(message), err=err, nl=nl)


def _fail(err: PublishError, code: int = EXIT_FAILURE) -> NoReturn:
    echo(f"Error: {err}", err=True)
    sys.exit(code)


def _flag(opt: Option) -> Callable[[F], F]:
    """The click option of a schema option: ``--name`` (``--name/--no-name`` for a boolean)."""
    assert opt.meta.cli is not None
    kwargs: dict[str, Any] = {"help": opt.meta.cli.help}
    if opt.meta.cli.envvar:
        kwargs.update(envvar=opt.meta.cli.envvar, show_envvar=True)
    if opt.kind is bool:
        return click.option(f"{opt.flag}/--no-{opt.flag[2:]}", opt.name, default=None, **kwargs)
    if opt.kind in (int, float):
        kwargs["type"] = opt.kind
    return click.option(opt.flag, opt.name, **kwargs)


def _apply(func: F, flags: list[Callable[[F], F]]) -> F:
    for flag in reversed(flags):
        func = flag(func)
    return func


SCHEMA_FLAGS = tuple(o for o in cli_options())
"""The options that are flags (the others are file-only); each flag overrides the file."""


def _config_flags(func: F) -> F:
    """Flags of every command that reads the config (flag wins over the file)."""
    return _apply(
        func,
        [
            click.option(
                "-f", "--config-file", "config_file", help="mkdocs.yml or zensical.toml (default: ./mkdocs.yml)."
            ),
            *(_flag(o) for o in SCHEMA_FLAGS if o.meta.cli and o.meta.cli.scope == "all"),
            click.option("-v", "--verbose", is_flag=True, help="Debug output (secrets are never printed)."),
        ],
    )


def _publish_flags(func: F) -> F:
    """Flags of publish and plan only."""
    return _apply(func, [_flag(o) for o in SCHEMA_FLAGS if o.meta.cli and o.meta.cli.scope == "publish"])


def _quiet_flag(func: F) -> F:
    """-q/--quiet (publish, plan, remove): only warnings, errors and the final summary line."""
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Only warnings, errors and the final one-line summary: no progress, no per-object lines.",
    )(func)


def _settings(kwargs: dict[str, Any], *, require_block: bool = True, **extra: Any) -> tuple[Settings, Path]:
    """Config file + flags -> validated settings and the site dir; UsageProblem if either is wrong."""
    if kwargs.get("quiet") and kwargs.get("verbose"):
        raise UsageProblem(PublishError("-q/--quiet and -v/--verbose contradict each other.", "Pass one of them."))
    _setup_logging(bool(kwargs.get("verbose")), bool(kwargs.get("quiet")))
    overrides = {o.name: kwargs.get(o.name) for o in SCHEMA_FLAGS}
    overrides.update(extra)
    try:
        loaded = load(kwargs.get("config_file"), overrides, require_block=require_block)
        return loaded.settings, loaded.site_dir
    except PublishError as exc:
        raise UsageProblem(exc) from None


def _check_site_dir(site: Path) -> None:
    """The site folder exists: the first error, before credentials are looked for or AWS is contacted."""
    if not site.is_dir():
        raise PublishError(
            f"Site dir {str(site)!r} does not exist or is not a folder.",
            "Run `mkdocs build` first, or point site_dir / SITE_DIR at the built site.",
        )


def _guarded(func: Callable[[], int]) -> NoReturn:
    """Run a command body: exit 2 for usage problems, 1 for failures, never a traceback."""
    try:
        code = func()
    except UsageProblem as exc:
        _fail(exc.err, EXIT_USAGE)
    except PublishError as exc:
        _fail(exc)
    except KeyboardInterrupt as exc:
        from mkdocs_s3_crossaccount.engine import Terminated

        if isinstance(exc, Terminated):
            echo("Terminated (SIGTERM): the publish stopped and released its lock.", err=True)
            sys.exit(Terminated.exit_code)
        echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug or an unforeseen environment: still one line, no traceback
        _fail(
            PublishError(
                f"Unexpected {type(exc).__name__}: {exc}",
                "Please report this with the command you ran (run with -v for more detail).",
            )
        )
    sys.exit(code)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """--version: the installed version, looked up only when asked (it costs an importlib.metadata scan)."""
    if not value or ctx.resilient_parsing:
        return
    from mkdocs_s3_crossaccount import __version__

    echo(f"mkdocs-s3-crossaccount, version {__version__}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """Publish a built MkDocs site to an S3 bucket in another AWS account.

    Options come from the s3-crossaccount block of mkdocs.yml (or [project.plugins.s3-crossaccount]
    in zensical.toml); flags override them. Run `COMMAND --help` for each command.
    """


def _publish_or_plan(site_dir: str | None, kwargs: dict[str, Any], *, dry_run: bool, as_json: bool = False) -> int:
    """publish / plan: the site folder, then the engine; a terminal gets the live bar (``cli/progress.py``).

    Without a terminal (CI) the engine's periodic progress lines stay; -q drops both.
    """
    from mkdocs_s3_crossaccount.engine import publish

    extra = {"dry_run": True} if dry_run else {}
    settings, config_site = _settings(kwargs, require_block=site_dir is None, **extra)
    site = Path(site_dir) if site_dir else config_site
    _check_site_dir(site)
    quiet = bool(kwargs.get("quiet"))
    bar = Bar(sys.stderr) if not (quiet or settings.dry_run) and is_terminal(sys.stderr, os.environ) else None
    if bar is not None:
        _setup_logging(bool(kwargs.get("verbose")), quiet, bar)
    interval = 0.0 if bar is not None or quiet else 10.0
    try:
        with observing(bar.update if bar is not None else None):
            result = publish(site, settings, progress_interval=interval, generator=generator_version())
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        echo(json.dumps(plan_data(result), indent=2, ensure_ascii=False))
    if dry_run and result.plan.changes:
        return EXIT_CHANGES
    return 0


@cli.command("publish")
@click.argument("site_dir", required=False, type=click.Path(file_okay=False))
@_config_flags
@_publish_flags
@_quiet_flag
@click.option("--dry-run", is_flag=True, help="Plan and print; change nothing.")
def publish_cmd(site_dir: str | None, dry_run: bool, **kwargs: Any) -> None:
    """Publish SITE_DIR (default: site_dir of the config, relative to it) with the plugin block's options."""

    def body() -> int:
        code = _publish_or_plan(site_dir, kwargs, dry_run=dry_run)
        return 0 if code == EXIT_CHANGES else code

    _guarded(body)


@cli.command("plan")
@click.argument("site_dir", required=False, type=click.Path(file_okay=False))
@_config_flags
@_publish_flags
@_quiet_flag
@click.option("--exit-code", is_flag=True, help="Exit 3 when something would change, 0 when nothing would.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the plan as one JSON document on stdout (logs stay on stderr); schema in the docs.",
)
def plan_cmd(site_dir: str | None, exit_code: bool, as_json: bool, **kwargs: Any) -> None:
    """Dry run: each upload with its reason, each delete, the unchanged count; changes nothing."""

    def body() -> int:
        code = _publish_or_plan(site_dir, kwargs, dry_run=True, as_json=as_json)
        return code if exit_code or code != EXIT_CHANGES else 0

    _guarded(body)


@cli.command("check")
@_config_flags
def check_cmd(**kwargs: Any) -> None:
    """Preflight that writes nothing: identity, role, account, bucket and owner, list permission, CloudFront origin.

    Each failure comes with its fix (the policy statement to add, the principal to trust).
    """
    from mkdocs_s3_crossaccount.aws.preflight import run_checks

    def body() -> int:
        settings, _ = _settings(kwargs)
        echo(f"Checking the publish to {settings.destination} (nothing is written)")
        failed = False
        for step in run_checks(settings):
            for line in step.lines():
                echo(line)
            failed = failed or step.ok is False
        echo("Some checks failed; see the fixes above." if failed else "All checks passed.")
        return EXIT_FAILURE if failed else 0

    _guarded(body)


_ONLY = {
    "trust": ("trust_policy",),
    "permissions": ("permission_policy",),
    "source": ("source_policy",),
    "web-identity-trust": ("web_identity_role", "trust_policy"),
    "web-identity-permissions": ("web_identity_role", "permission_policy"),
}


@dataclass(frozen=True)
class GitLabFlags:
    """The policy command's OIDC flags, as one value."""

    project: str | None
    ref: str
    ref_type: str
    audience: str
    host: str


def _gitlab_flags(func: F) -> F:
    """Add the --gitlab-* flags; the command receives them as one ``gitlab: GitLabFlags``."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        gitlab = GitLabFlags(
            kwargs.pop("gitlab_project"),
            kwargs.pop("ref"),
            kwargs.pop("ref_type"),
            kwargs.pop("audience"),
            kwargs.pop("gitlab_host"),
        )
        return func(gitlab=gitlab, **kwargs)

    flags: list[Callable[[F], F]] = [
        click.option(
            "--gitlab-project",
            help="OIDC instead: trust GitLab id_tokens of this project (group/project) instead of keys.",
        ),
        click.option(
            "--ref", "ref", default="*", show_default=True, help="With --gitlab-project: branch/tag name or glob."
        ),
        click.option(
            "--ref-type",
            type=click.Choice(["branch", "tag", "*"]),
            default="branch",
            show_default=True,
            help="Ref kind.",
        ),
        click.option(
            "--audience",
            default=policies.DEFAULT_AUDIENCE,
            show_default=True,
            help="The id_token's aud (as in id_tokens and the IAM OIDC provider's client ID).",
        ),
        click.option(
            "--gitlab-host", default=policies.DEFAULT_GITLAB_HOST, show_default=True, help="GitLab host (self-managed)."
        ),
    ]
    return _apply(typing.cast(F, wrapper), flags)


@cli.command("policy")
@_config_flags
@click.option(
    "--principal",
    help="ARN of the development-account user or role to trust (default: the current identity, via "
    "GetCallerIdentity; an assumed-role session becomes its role ARN).",
)
@_gitlab_flags
@click.option(
    "--cloudfront-function",
    "cloudfront_function",
    is_flag=True,
    help="Also grant what `cloudfront-function --deploy` needs (the function mkdocs-s3xa-<distribution id>, "
    "and reading/updating cloudfront_distribution_id's config, which `check` reads too).",
)
@click.option("--only", type=click.Choice(sorted(_ONLY)), help="Print just this document (for file://...).")
@click.option(
    "--rollback",
    "with_rollback",
    is_flag=True,
    help="Also allow `rollback` (s3:GetObjectVersion, s3:GetBucketVersioning) and `check`'s versioning line.",
)
@click.option(
    "--write",
    "write_dir",
    type=click.Path(file_okay=False),
    help="Write each document as a JSON file in this folder and print the aws iam commands that use them.",
)
def policy_cmd(
    principal: str | None, gitlab: GitLabFlags, only: str | None, write_dir: str | None, **kwargs: Any
) -> None:
    """Print the documents account's trust policy and least-privilege permission policy (valid JSON).

    Ready for `aws iam create-role --assume-role-policy-document` and `aws iam put-role-policy`.
    """
    cloudfront_function: bool = kwargs.pop("cloudfront_function")  # grants asked for beyond publishing
    with_rollback: bool = kwargs.pop("with_rollback")
    from mkdocs_s3_crossaccount.aws.session import source_identity
    from mkdocs_s3_crossaccount.core.cf_function import function_name as cf_function_name

    def body() -> int:
        settings, _ = _settings(kwargs)
        if not settings.role_arn:
            raise UsageProblem(
                PublishError(
                    "No role_arn: the policies are for the documents-account role.",
                    "Set role_arn in the plugin block or pass --role-arn.",
                )
            )
        if cloudfront_function and not settings.cloudfront_distribution_id:
            raise UsageProblem(
                PublishError(
                    "--cloudfront-function: the function is attached to a distribution, and none is configured.",
                    "Set cloudfront_distribution_id in the plugin block.",
                )
            )
        setup = policies.Setup(
            bucket=settings.bucket,
            prefix=settings.prefix,
            role_arn=settings.role_arn,
            external_id=bool(settings.external_id),
            web_identity_role_arn=settings.web_identity_role_arn,
            cloudfront_distribution_id=settings.cloudfront_distribution_id,
            kms_key_arn=settings.kms_key_arn,
            cloudfront_function=(
                cf_function_name(settings.cloudfront_distribution_id)
                if cloudfront_function and settings.cloudfront_distribution_id
                else None
            ),
            rollback=with_rollback,
        )
        if only == "permissions":  # the role's permissions need neither the GitLab project nor the principal
            try:
                echo(json.dumps(policies.role_permissions(setup), indent=2))
            except ValueError as exc:
                raise UsageProblem(PublishError(str(exc))) from None
            return 0
        oidc = None
        if gitlab.project or settings.uses_web_identity:
            if not gitlab.project:
                raise UsageProblem(
                    PublishError(
                        "The config uses an OIDC token, so the trust policy needs the GitLab project.",
                        "Pass --gitlab-project group/project (and --ref main to allow only that branch).",
                    )
                )
            try:
                oidc = policies.GitLabOidc(gitlab.project, gitlab.ref, gitlab.ref_type, gitlab.audience, gitlab.host)
            except ValueError as exc:
                raise UsageProblem(PublishError(str(exc))) from None
        who = principal
        if oidc is None and who is None:
            ident = source_identity(settings)
            who = ident.arn
        try:
            if who is not None:
                who = policies.principal_from_identity(who)
            docs = policies.policies(dataclasses.replace(setup, principal=who, oidc=oidc))
        except ValueError as exc:
            raise UsageProblem(PublishError(str(exc))) from None
        if only:
            doc: Any = docs
            for key in _ONLY[only]:
                if key not in doc:
                    raise UsageProblem(PublishError(f"--only {only}: this setup has no such document."))
                doc = doc[key]
            echo(json.dumps(doc, indent=2))
            return 0
        if write_dir:
            out = Path(write_dir)
            out.mkdir(parents=True, exist_ok=True)
            for name, document in policies.files(docs).items():
                (out / name).write_text(redact(json.dumps(document, indent=2)) + "\n", encoding="utf-8")
                echo(f"wrote {out / name}", err=True)
            echo(f"# in {out}:", err=True)
            for cmd in policies.aws_cli_commands(docs):
                echo(cmd, err=True)
            return 0
        echo(json.dumps(docs, indent=2))
        return 0

    _guarded(body)


@cli.command("cloudfront-function")
@click.argument("site_dir", required=False, type=click.Path(file_okay=False))
@_config_flags
@click.option("--write", "write_file", type=click.Path(dir_okay=False), help="Write the function's code to this file.")
@click.option(
    "--deploy",
    is_flag=True,
    help="Create or update the function, publish it and attach it to viewer-request of the default cache "
    "behaviour of cloudfront_distribution_id.",
)
@click.option("--dry-run", is_flag=True, help="Show what --deploy would change; change nothing.")
@click.option(
    "--default-version",
    help="Versioned site: the version folder / redirects to (default: what versions.json names, if any).",
)
@click.option("--function-name", help="Name of the CloudFront function (default: mkdocs-s3xa-<distribution id>).")
@click.option("--replace", is_flag=True, help="With --deploy: replace another viewer-request function attached there.")
def cloudfront_function_cmd(site_dir: str | None, write_file: str | None, **kwargs: Any) -> None:
    """Print the CloudFront viewer-request function for a private (OAC) bucket origin.

    It serves dir/index.html for /dir/, redirects /dir to /dir/, answers the mkdocs-redirects
    pages (with redirects: true) with 301s that keep the query string, and on a versioned site
    redirects / to the default version. Built from SITE_DIR (default: the config's site_dir).
    """
    from mkdocs_s3_crossaccount.aws import cf_function

    deploy, dry_run, replace = kwargs.pop("deploy"), kwargs.pop("dry_run"), kwargs.pop("replace")
    default_version, function_name = kwargs.pop("default_version"), kwargs.pop("function_name")

    def body() -> int:
        settings, config_site = _settings(kwargs, require_block=site_dir is None)
        site = Path(site_dir) if site_dir else config_site
        if deploy or dry_run:
            result = cf_function.deploy(
                settings, site, name=function_name, version=default_version, dry_run=dry_run, replace=replace
            )
            for line in result.lines():
                echo(line)
            echo(
                f"Function {result.name}: {result.size:,} bytes, {result.redirects} redirects, prefix "
                f"/{result.prefix + '/' if result.prefix else ''}"
                + (f", / -> {result.default_version}/" if result.default_version else ""),
                err=True,
            )
            return 0
        version = default_version or cf_function.local_default_version(site)
        fn, _ = cf_function.build_function(settings, site, version=version)
        if write_file:
            Path(write_file).write_text(fn.code, encoding="utf-8")
            echo(f"wrote {write_file}", err=True)
        else:
            echo(fn.code, nl=False)
        echo(
            f"{fn.size:,} bytes (CloudFront allows 10,240), {fn.redirect_count} redirects"
            + ("" if settings.redirects else " (redirects: false: redirect pages stay HTML pages)")
            + f", for prefix /{settings.prefix + '/' if settings.prefix else ''} (--deploy subtracts the origin's "
            "OriginPath)",
            err=True,
        )
        return 0

    _guarded(body)


@cli.command("remove")
@_config_flags
@_quiet_flag
@click.option("--yes", is_flag=True, help="Really delete (without it: list what would be deleted).")
@click.option(
    "--whole-bucket",
    is_flag=True,
    help="Allow an empty prefix, i.e. every object in the bucket (never implied).",
)
def remove_cmd(yes: bool, whole_bucket: bool, **kwargs: Any) -> None:
    """Remove every object under --prefix (e.g. a review app's), for GitLab `on_stop` jobs.

    A dry run unless --yes. The prefix matches at a '/' boundary: `mr-1` never touches `mr-10/`.
    """
    from mkdocs_s3_crossaccount.aws.preflight import remove_prefix

    def body() -> int:
        if kwargs.get("prefix") is None:
            raise UsageProblem(
                PublishError(
                    "remove needs --prefix (the folder to remove; the config's prefix is not used implicitly).",
                    'Pass --prefix "$CI_COMMIT_REF_SLUG" (or --prefix "" --whole-bucket to empty the bucket).',
                )
            )
        settings, _ = _settings(kwargs)
        if not settings.prefix and not whole_bucket:
            raise UsageProblem(
                PublishError(
                    f"Refusing to remove with an empty prefix: that is every object in s3://{settings.bucket}.",
                    "Pass the review app's prefix; to empty the whole bucket, add --whole-bucket.",
                )
            )
        removal = remove_prefix(settings, execute=yes)
        n = len(removal.objects)
        if not yes:
            for obj in removal.objects if not kwargs.get("quiet") else ():
                echo(f"(dryrun) delete: s3://{settings.bucket}/{obj.key}")
            echo(
                f"Dry run: would delete {n} objects under {removal.destination}; nothing was changed. "
                "Add --yes to delete."
            )
            return 0
        echo(f"Deleted {len(removal.deleted)} objects under {removal.destination} as {removal.identity_arn}.")
        return 0

    _guarded(body)


@cli.command("demo")
@click.option("--keep-serving", is_flag=True, help="Keep the local site and S3 up until Ctrl-C.")
@click.option("--port", type=int, default=0, help="Port of the local site (default: a free one).")
@click.option(
    "--site",
    type=click.Choice(["example", "docs"]),
    default="example",
    show_default=True,
    help="example: the packaged example site; docs: this project's documentation site (needs a checkout).",
)
@click.option("--versions", is_flag=True, help="Publish two versions (1.0, 2.0) and the alias latest (Material).")
def demo_cmd(keep_serving: bool, port: int, site: str, versions: bool) -> None:
    """Publish a site across two simulated AWS accounts, all on this machine.

    Starts moto (S3 + STS) on 127.0.0.1, builds the site with `mkdocs build` (the packaged example
    site, or with --site docs our own documentation from a checkout), publishes it through the role,
    and serves the bucket at a local URL. Needs the `demo` extra (and `docs` for --site docs).
    """
    from mkdocs_s3_crossaccount.demo.run import run as run_demo

    def body() -> int:
        return run_demo(echo, keep_serving=keep_serving, port=port, site=site, versions=versions)

    _guarded(body)


# Command groups kept in their own modules register themselves on `cli` when imported.
from mkdocs_s3_crossaccount.cli import history as _history  # noqa: E402, F401
from mkdocs_s3_crossaccount.cli import versions as _versions  # noqa: E402, F401


def main() -> None:
    """The console script: `mkdocs-s3-crossaccount`."""
    cli(prog_name="mkdocs-s3-crossaccount")


if __name__ == "__main__":  # pragma: no cover
    main()
