"""CloudFront calls for the viewer-request function: deploy (create/update, publish, attach) and origin checks.

``deploy`` is idempotent: it compares the function's DEVELOPMENT and LIVE code and the
default cache behaviour's viewer-request association with what is wanted and changes only
what differs (a second deploy makes no call that writes). With ``dry_run`` it only says what
it would change. ``origin_warnings`` / ``check_steps`` read the distribution's config and
say what its origin type means for the site (``core/cloudfront_origin.py`` decides).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mkdocs_s3_crossaccount.aws import diagnose
from mkdocs_s3_crossaccount.aws.destination import S3Destination
from mkdocs_s3_crossaccount.aws.session import AwsContext, connect
from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core import cloudfront_origin
from mkdocs_s3_crossaccount.core.cf_function import (
    RUNTIME,
    VERSIONS_FILE,
    FunctionInputs,
    GeneratedFunction,
    check_function_name,
    collect_redirects,
    default_version,
    function_name,
    generate,
)
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.policy import (
    DISTRIBUTION_CONFIG_ACTIONS,
    FUNCTION_ACTIONS,
    distribution_arn,
    function_arn,
    partition_of,
)

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

VIEWER_REQUEST = "viewer-request"


@dataclass
class DeployResult:
    """What a deploy did (or, with ``dry_run``, would do) to the function and the distribution."""

    name: str
    arn: str
    distribution_id: str
    size: int
    redirects: int
    prefix: str  # as readers see it
    default_version: str | None
    changes: list[str] = field(default_factory=list)  # what was (or, in a dry run, would be) changed
    dry_run: bool = False

    def lines(self) -> list[str]:
        """One line per change, for the terminal and the log."""
        head = "(dryrun) " if self.dry_run else ""
        if not self.changes:
            return [f"CloudFront function {self.name} on {self.distribution_id} is up to date; nothing changed."]
        return [head + change for change in self.changes]


# --- errors --------------------------------------------------------------------------


def _failed(exc: BaseException, ctx: AwsContext, distribution_id: str, name: str) -> PublishError:
    code = diagnose.code_of(exc)
    op = getattr(exc, "operation_name", "") or "a CloudFront call"
    partition = _partition(ctx)
    fn_arn = function_arn(partition, ctx.identity.account, name)
    dist_arn = distribution_arn(partition, ctx.identity.account, distribution_id)
    if code == "NoSuchDistribution":
        return PublishError(
            f"CloudFront distribution {distribution_id!r} was not found by {ctx.identity.arn}.",
            "Check cloudfront_distribution_id: the distribution's id (e.g. E2ABCDEF123456) in the account of role_arn.",
        )
    if code in ("AccessDenied", "AccessDeniedException"):
        action = f"cloudfront:{op}"
        resource = fn_arn if action in FUNCTION_ACTIONS else dist_arn
        return PublishError(
            f"Access denied: {ctx.identity.arn} may not call {action} on {resource}.",
            "Add the statements `mkdocs-s3-crossaccount policy --cloudfront-function` prints to the role's "
            f'permission policy: {{"Action": {list(FUNCTION_ACTIONS)}, "Resource": "{fn_arn}"}} and '
            f'{{"Action": {list(DISTRIBUTION_CONFIG_ACTIONS)}, "Resource": "{dist_arn}"}}.',
        )
    if code in ("PreconditionFailed", "InvalidIfMatchVersion"):
        return PublishError(
            f"The CloudFront function {name} or distribution {distribution_id} changed while it was being "
            f"deployed ({op}: {code}).",
            "Run the deploy again; it starts from what is there now.",
        )
    if code == "FunctionSizeLimitExceeded":
        return PublishError(
            f"CloudFront refused the function {name} as too large ({op}).",
            "Drop old entries from mkdocs-redirects' redirect_maps (cloudfront-function prints the size).",
        )
    if code == "TooManyFunctions":
        return PublishError(
            f"The account {ctx.identity.account} has as many CloudFront functions as its quota allows.",
            "Delete unused functions, or ask for a higher quota (Service Quotas: CloudFront Functions).",
        )
    return diagnose.unexpected(exc, f"on CloudFront ({op}) for function {name} and distribution {distribution_id}")


def _partition(ctx: AwsContext) -> str:
    arn = ctx.identity.arn
    return partition_of(arn) if arn.startswith("arn:") else "aws"


# --- reading -------------------------------------------------------------------------


@dataclass
class _FunctionState:
    exists: bool
    arn: str | None = None
    dev_etag: str | None = None
    dev_code: bytes | None = None
    runtime: str | None = None
    live_code: bytes | None = None


def _is_missing(exc: ClientError) -> bool:
    return diagnose.code_of(exc) in ("NoSuchFunctionExists", "NoSuchResource", "404")


def _read_function(cf: Any, name: str) -> _FunctionState:
    try:
        described = cf.describe_function(Name=name, Stage="DEVELOPMENT")
    except ClientError as exc:
        if _is_missing(exc):
            return _FunctionState(False)
        raise
    summary = described["FunctionSummary"]
    state = _FunctionState(
        True,
        arn=summary["FunctionMetadata"]["FunctionARN"],
        dev_etag=described["ETag"],
        runtime=summary.get("FunctionConfig", {}).get("Runtime"),
    )
    state.dev_code = cf.get_function(Name=name, Stage="DEVELOPMENT")["FunctionCode"].read()
    try:
        state.live_code = cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read()
    except ClientError as exc:
        if not _is_missing(exc):
            raise
    return state


def distribution_config(cf: Any, distribution_id: str) -> tuple[dict[str, Any], str]:
    """GetDistributionConfig: the config and its ETag (UpdateDistribution's IfMatch)."""
    resp = cf.get_distribution_config(Id=distribution_id)
    return resp["DistributionConfig"], resp["ETag"]


def _remote_versions(ctx: AwsContext, settings: Settings) -> str | None:
    """The default version named by ``versions.json`` at the prefix in the bucket, if there is one."""
    s3 = ctx.client("s3", endpoint_url=settings.endpoint_url, checksums=settings.checksums)
    dest = S3Destination(s3, settings.bucket, settings.prefix, ctx)
    try:
        found = dest.get(VERSIONS_FILE, max_bytes=1024 * 1024)
    except PublishError as err:
        log.debug("%s under %s not read: %s", VERSIONS_FILE, settings.destination, err)
        return None
    return default_version(found.body) if found else None


def local_default_version(site_dir: str | os.PathLike[str]) -> str | None:
    """The default version named by ``versions.json`` in the built site, if there is one."""
    path = os.path.join(os.fspath(site_dir), VERSIONS_FILE)
    try:
        with open(path, "rb") as fh:
            return default_version(fh.read())
    except OSError:
        return None


def build_function(
    settings: Settings,
    site_dir: str | os.PathLike[str],
    *,
    prefix: str | None = None,
    version: str | None = None,
) -> tuple[GeneratedFunction, FunctionInputs]:
    """Generate the function for the built site (``prefix``: as readers see it; default the bucket prefix)."""
    viewer = settings.prefix if prefix is None else prefix
    found = collect_redirects(site_dir, viewer) if settings.redirects else {}
    inputs = FunctionInputs(prefix=viewer, redirects=found, default_version=version)
    return generate(inputs), inputs


# --- deploy --------------------------------------------------------------------------


def _with_association(config: dict[str, Any], arn: str) -> dict[str, Any]:
    new = copy.deepcopy(config)
    behaviour = new["DefaultCacheBehavior"]
    items = [
        item
        for item in (behaviour.get("FunctionAssociations") or {}).get("Items") or []
        if item.get("EventType") != VIEWER_REQUEST
    ]
    items.append({"FunctionARN": arn, "EventType": VIEWER_REQUEST})
    behaviour["FunctionAssociations"] = {"Quantity": len(items), "Items": items}
    return new


def deploy(
    settings: Settings,
    site_dir: str | os.PathLike[str],
    *,
    name: str | None = None,
    version: str | None = None,
    dry_run: bool = False,
    replace: bool = False,
) -> DeployResult:
    """Create or update, publish and attach the viewer-request function on ``cloudfront_distribution_id``.

    The prefix the function uses is the bucket prefix without the origin's OriginPath. The
    default version is ``version``, else the one ``versions.json`` names (in the bucket at
    the prefix, else in the site dir), else none. The session is not narrowed by
    ``scope_session`` (its policy covers publishing only); the role's own policy applies.
    """
    distribution_id = settings.cloudfront_distribution_id
    if not distribution_id:
        raise PublishError(
            "No cloudfront_distribution_id: the function is attached to a distribution.",
            "Set cloudfront_distribution_id in the plugin block (the distribution's id, e.g. E2ABCDEF123456).",
        )
    name = check_function_name(name or function_name(distribution_id))
    ctx = connect(dataclasses.replace(settings, scope_session=False) if settings.scope_session else settings)
    cf = ctx.client("cloudfront")
    try:
        config, dist_etag = distribution_config(cf, distribution_id)
        info = cloudfront_origin.classify(config)
        viewer = cloudfront_origin.viewer_prefix(settings.prefix, info.origin_path)
        if viewer is None:
            raise PublishError(
                f"CloudFront distribution {distribution_id} reads the bucket under origin path {info.origin_path!r}, "
                f"which does not contain the prefix {settings.prefix!r}: a function there cannot reach this site.",
                "Publish under the origin path, or change the origin path of the distribution's default origin.",
            )
        if info.kind == cloudfront_origin.WEBSITE:
            log.info(
                "CloudFront distribution %s reads the S3 website endpoint, which already serves index pages and "
                "redirects; the function is deployed anyway (it answers before the origin).",
                distribution_id,
            )
        chosen = version or _remote_versions(ctx, settings) or local_default_version(site_dir)
        fn, _ = build_function(settings, site_dir, prefix=viewer, version=chosen)
        code = fn.code.encode("utf-8")
        state = _read_function(cf, name)
        result = DeployResult(
            name=name,
            arn=state.arn or function_arn(_partition(ctx), ctx.identity.account, name),
            distribution_id=distribution_id,
            size=fn.size,
            redirects=fn.redirect_count,
            prefix=viewer,
            default_version=chosen,
            dry_run=dry_run,
        )
        comment = f"mkdocs-s3-crossaccount: {settings.destination}"[:128]
        function_config = {"Comment": comment, "Runtime": RUNTIME}

        # 1. the DEVELOPMENT stage
        etag = state.dev_etag
        if not state.exists:
            result.changes.append(
                f"create CloudFront function {name} ({fn.size:,} bytes, {fn.redirect_count} redirects)"
            )
            if not dry_run:
                created = cf.create_function(Name=name, FunctionConfig=function_config, FunctionCode=code)
                etag = created["ETag"]
                result.arn = created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
        elif state.dev_code != code or state.runtime != RUNTIME:
            old = len(state.dev_code or b"")
            result.changes.append(
                f"update CloudFront function {name} ({old:,} -> {fn.size:,} bytes, {fn.redirect_count} redirects)"
            )
            if not dry_run:
                etag = cf.update_function(Name=name, IfMatch=etag, FunctionConfig=function_config, FunctionCode=code)[
                    "ETag"
                ]
        # 2. LIVE
        if result.changes or state.live_code != code:
            result.changes.append(f"publish CloudFront function {name} to LIVE")
            if not dry_run:
                cf.publish_function(Name=name, IfMatch=etag)
        # 3. the association
        if info.function_arn != result.arn:
            if info.lambda_viewer_request:
                raise PublishError(
                    f"The default cache behaviour of {distribution_id} runs Lambda@Edge "
                    f"{info.lambda_viewer_request} on viewer-request; CloudFront allows no function beside it there.",
                    "Remove that association first, or make the Lambda@Edge function serve dir/index.html.",
                )
            if info.function_arn and not replace:
                raise PublishError(
                    f"The default cache behaviour of {distribution_id} already runs another viewer-request function, "
                    f"{info.function_arn}.",
                    "Pass --replace to attach this one instead, or detach it yourself.",
                )
            what = f" (replacing {info.function_name})" if info.function_arn else ""
            result.changes.append(
                f"attach {name} to viewer-request of the default cache behaviour of {distribution_id}{what}"
            )
            if not dry_run:
                cf.update_distribution(
                    Id=distribution_id, IfMatch=dist_etag, DistributionConfig=_with_association(config, result.arn)
                )
    except (ClientError, BotoCoreError) as exc:
        raise _failed(exc, ctx, distribution_id, name) from exc
    for line in result.lines():
        log.info("%s", line)
    return result


# --- origin checks -------------------------------------------------------------------


def inspect(ctx: AwsContext, settings: Settings) -> cloudfront_origin.OriginInfo:
    """The distribution's default origin (GetDistributionConfig); PublishError with the fix on failure."""
    assert settings.cloudfront_distribution_id
    cf = ctx.client("cloudfront")
    try:
        config, _ = distribution_config(cf, settings.cloudfront_distribution_id)
    except (ClientError, BotoCoreError) as exc:
        raise _failed(
            exc, ctx, settings.cloudfront_distribution_id, function_name(settings.cloudfront_distribution_id)
        ) from exc
    return cloudfront_origin.classify(config)


def findings(ctx: AwsContext, settings: Settings) -> list[cloudfront_origin.Finding]:
    """What the distribution's origin means for this publish (PublishError if it cannot be read)."""
    assert settings.cloudfront_distribution_id
    info = inspect(ctx, settings)
    return cloudfront_origin.findings(
        info,
        distribution_id=settings.cloudfront_distribution_id,
        bucket=settings.bucket,
        prefix=settings.prefix,
        function_name=function_name(settings.cloudfront_distribution_id),
    )


def origin_warnings(ctx: AwsContext, settings: Settings) -> list[str]:
    """Warnings for a publish (empty without a distribution, or when it cannot be read: publish goes on)."""
    if not settings.cloudfront_distribution_id:
        return []
    try:
        return [f.text for f in findings(ctx, settings) if not f.ok]
    except PublishError as err:
        log.debug("CloudFront origin not inspected: %s", err)
        return []


def check_steps(ctx: AwsContext, settings: Settings) -> Iterator[tuple[bool | None, str, str | None]]:
    """(ok, detail, fix) for ``check``: ok None for a warning or a distribution that could not be read."""
    if not settings.cloudfront_distribution_id:
        return
    try:
        found = findings(ctx, settings)
    except PublishError as err:
        yield None, f"not inspected: {err.message}", err.fix
        return
    for f in found:
        yield (True if f.ok else None), ("" if f.ok else "Warning: ") + f.text, None
