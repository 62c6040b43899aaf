"""The engine: credentials -> local inventory -> remote listing -> plan -> apply -> report."""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError

from . import diagnose
from .apply import delete_all, upload_all
from .credentials import AwsContext, Clock, _utcnow, connect
from .errors import PublishError
from .inventory import scan
from .plan import check_site, make_plan
from .remote import list_remote
from .report import PublishResult, plan_lines, site_url, write_dotenv, write_report
from .settings import Settings

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")


def publish(
    site_dir: str | os.PathLike[str],
    settings: Settings,
    *,
    clock: Clock = _utcnow,
    progress_interval: float = 10.0,
) -> PublishResult:
    """Publish the built site in ``site_dir`` to ``settings.destination``.

    Raises PublishError (with a fix) on any failure; when it does, nothing was deleted and
    objects already in the bucket are intact.
    """
    started = time.monotonic()
    site = os.fspath(site_dir)
    # Hash the site while the role is assumed and the bucket listed.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3xa-scan") as pool:
        local_future = pool.submit(scan, site, settings.prefix, settings.content_types)
        try:
            ctx = connect(settings, clock=clock)
            s3 = s3_client(ctx, settings)
            remote = _list(s3, ctx, settings)
        except BaseException:
            local_future.cancel()
            raise
        local = local_future.result()

    check_site(local, settings.delete, site)
    plan = make_plan(
        local,
        remote,
        delete=settings.delete,
        max_deletes=settings.max_deletes,
        max_delete_share=settings.max_delete_share,
    )
    result = PublishResult(
        destination=settings.destination,
        bucket=settings.bucket,
        prefix=settings.prefix,
        identity_arn=ctx.identity.arn,
        account=ctx.identity.account,
        role_arn=settings.role_arn,
        dry_run=settings.dry_run,
        plan=plan,
        region=ctx.region,
    )
    if settings.site_url_template:
        result.site_url = site_url(settings.site_url_template, settings.bucket, settings.prefix, ctx.region)
    if settings.dry_run:
        for line in plan_lines(plan, settings.bucket):
            log.info("%s", line)
        result.seconds = time.monotonic() - started
        log.info("%s", result.summary())
        _write_reports(result, settings)
        return result
    if plan.refusal:
        raise PublishError(plan.refusal)

    done = upload_all(
        s3,
        settings.bucket,
        ctx.owner,
        plan,
        ctx.identity.arn,
        settings.concurrency,
        progress_interval=progress_interval,
    )
    result.uploaded = [(u.file.key, str(u.reason), u.file.size) for u in done]
    for u in done:
        log.debug("upload: %s (%s)", u.file.key, u.reason)
    if plan.deletes:
        result.deleted = delete_all(s3, settings.bucket, ctx.owner, plan.deletes, ctx.identity.arn)
        for key in result.deleted:
            log.debug("delete: %s", key)
    result.seconds = time.monotonic() - started
    log.info("%s", result.summary())
    _write_reports(result, settings)
    return result


def _write_reports(result: PublishResult, settings: Settings) -> None:
    """report_file and dotenv_file, for the plugin and the CLI alike."""
    if result.site_url:
        log.info("Site URL: %s", result.site_url)
    if settings.report_file:
        write_report(settings.report_file, result)
        log.info("Report written to %s", settings.report_file)
    if settings.dotenv_file:
        write_dotenv(settings.dotenv_file, result)
        log.info("DOCS_URL written to %s (GitLab dotenv)", settings.dotenv_file)


def s3_client(ctx: AwsContext, settings: Settings) -> object:
    # the pool must fit every concurrent transfer, or threads queue for sockets
    return ctx.client("s3", max_pool_connections=settings.concurrency + 4, endpoint_url=settings.endpoint_url)


def _list(s3: object, ctx: AwsContext, settings: Settings) -> dict[str, object]:
    try:
        return list_remote(s3, settings.bucket, settings.prefix, ctx.owner)  # type: ignore[return-value]
    except (ClientError, BotoCoreError) as exc:
        raise diagnose.bucket_failed(exc, settings.bucket, ctx.owner, ctx.identity.arn, "list") from exc
