"""The engine: credentials -> local inventory -> remote listing -> plan -> apply -> report."""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import diagnose, lock
from .apply import delete_all, upload_all
from .credentials import AwsContext, Clock, _utcnow, connect
from .errors import PublishError
from .inventory import LocalFile, scan
from .keys import list_prefix
from .plan import check_site, make_plan
from .remote import RemoteObject, list_remote
from .report import PublishResult, plan_lines
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
            _list(s3, ctx, settings, check_only=True)  # bucket missing or denied: say so before locking
            held = None
            if settings.lock and not settings.dry_run:
                held = lock.acquire(
                    s3, settings.bucket, settings.prefix, ctx.owner, ctx.identity.arn, settings.lock_timeout
                )
        except BaseException:
            local_future.cancel()
            raise
        try:
            remote = _list(s3, ctx, settings)
            local = local_future.result()
            return _plan_and_apply(site, settings, ctx, s3, local, remote, started, progress_interval)
        finally:
            lock.release(s3, held)


def _plan_and_apply(
    site: str,
    settings: Settings,
    ctx: AwsContext,
    s3: Any,
    local: list[LocalFile],
    remote: dict[str, RemoteObject],
    started: float,
    progress_interval: float,
) -> PublishResult:
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
    )
    if settings.dry_run:
        for line in plan_lines(plan, settings.bucket):
            log.info("%s", line)
        result.seconds = time.monotonic() - started
        log.info("%s", result.summary())
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
    result.role_sessions = len(ctx.refreshes)
    log.info("%s", result.summary())
    return result


def s3_client(ctx: AwsContext, settings: Settings) -> Any:
    # the pool must fit every concurrent transfer, or threads queue for sockets
    return ctx.client("s3", max_pool_connections=settings.concurrency + 4, endpoint_url=settings.endpoint_url)


def _list(s3: Any, ctx: AwsContext, settings: Settings, check_only: bool = False) -> dict[str, RemoteObject]:
    try:
        if check_only:
            # with the prefix: a least-privilege policy allows ListBucket only under it
            s3.list_objects_v2(
                Bucket=settings.bucket, Prefix=list_prefix(settings.prefix), MaxKeys=1, ExpectedBucketOwner=ctx.owner
            )
            return {}
        return list_remote(s3, settings.bucket, settings.prefix, ctx.owner)
    except (ClientError, BotoCoreError) as exc:
        raise diagnose.bucket_failed(exc, settings.bucket, ctx.owner, ctx.identity.arn, "list") from exc
