"""The engine: credentials -> local inventory -> remote listing + manifest -> plan -> apply -> CDN -> report."""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mkdocs_s3_crossaccount.aws import cloudfront, diagnose, lock
from mkdocs_s3_crossaccount.aws.apply import EtagRecorder, copy_all, delete_all, put_manifest, upload_all
from mkdocs_s3_crossaccount.aws.remote import get_manifest, list_remote
from mkdocs_s3_crossaccount.aws.session import AwsContext, Clock, _utcnow, connect
from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.headers import HeaderRules
from mkdocs_s3_crossaccount.core.inventory import LocalFile, scan
from mkdocs_s3_crossaccount.core.keys import to_key
from mkdocs_s3_crossaccount.core.manifest import (
    MANIFEST_DIR,
    MANIFEST_REL,
    Manifest,
    ManifestError,
    deploy_info,
    parse,
    serialise,
)
from mkdocs_s3_crossaccount.core.model import RemoteObject
from mkdocs_s3_crossaccount.core.plan import check_site, make_plan, manifest_objects
from mkdocs_s3_crossaccount.core.report import PublishResult, plan_lines, site_url, write_dotenv, write_report

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")


def publish(
    site_dir: str | os.PathLike[str],
    settings: Settings,
    *,
    clock: Clock = _utcnow,
    progress_interval: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishResult:
    """Publish the built site in ``site_dir`` to ``settings.destination``.

    Raises PublishError (with a fix) on any failure; when it does, nothing was deleted and
    objects already in the bucket are intact.
    """
    started = time.monotonic()
    _limit_malloc_arenas()
    site = os.fspath(site_dir)
    rules = HeaderRules.from_options(settings.cache_control, settings.gzip, settings.kms_key_arn)
    # Hash the site while the role is assumed and the bucket listed.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3xa-scan") as pool:
        local_future = pool.submit(
            scan,
            site,
            settings.prefix,
            settings.content_types,
            header_rules=rules,
            detect_redirects=settings.redirects,
        )
        try:
            ctx = connect(settings, clock=clock)
            s3 = s3_client(ctx, settings)
            held = None
            if settings.lock and not settings.dry_run:
                held = lock.acquire(
                    s3, settings.bucket, settings.prefix, ctx.owner, ctx.identity.arn, settings.lock_timeout
                )
        except BaseException:
            local_future.cancel()
            raise
        try:
            # listed under the lock: no other publish changes the prefix between plan and apply
            remote = _list(s3, ctx, settings)
            manifest_key = to_key(settings.prefix, MANIFEST_REL)
            manifest = _load_manifest(s3, ctx, settings, remote, manifest_key)
            local = local_future.result()
            return _plan_and_apply(
                site, settings, ctx, s3, local, remote, manifest, manifest_key, started, progress_interval, clock, sleep
            )
        finally:
            lock.release(s3, held)


def _plan_and_apply(
    site: str,
    settings: Settings,
    ctx: AwsContext,
    s3: Any,
    local: list[LocalFile],
    remote: dict[str, RemoteObject],
    manifest: Manifest | None,
    manifest_key: str,
    started: float,
    progress_interval: float,
    clock: Clock,
    sleep: Callable[[float], None],
) -> PublishResult:
    check_site(local, settings.delete, site)
    plan = make_plan(
        local,
        remote,
        delete=settings.delete,
        max_deletes=settings.max_deletes,
        max_delete_share=settings.max_delete_share,
        manifest=manifest,
        delete_unmanaged=settings.delete_unmanaged,
        keep=settings.keep,
        retain_deploys=settings.retain_deploys,
        force=settings.force,
    )
    if plan.unmanaged_left:
        log.info(
            "Left %d object(s) under %s alone: no publish recorded them in the manifest%s. "
            "Set delete_unmanaged: true to remove objects that are not part of the site.",
            plan.unmanaged_left,
            settings.destination,
            " (there is none yet)" if manifest is None else "",
        )
    pending = manifest.pending_invalidation if manifest else ()
    paths = (
        cloudfront.plan_invalidation(settings.prefix, plan.changed_rels(), settings.invalidation_max_paths, pending)
        if settings.cloudfront_distribution_id
        else []
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
        invalidation_paths=paths,
        region=ctx.region,
    )
    if settings.site_url_template:
        result.site_url = site_url(settings.site_url_template, settings.bucket, settings.prefix, ctx.region)
    if settings.dry_run:
        for line in plan_lines(plan, settings.bucket):
            log.info("%s", line)
        for path in paths:
            log.info("(dryrun) invalidate: %s on %s", path, settings.cloudfront_distribution_id)
        result.seconds = time.monotonic() - started
        log.info("%s", result.summary())
        _write_reports(result, settings)
        return result
    if plan.refusal:
        raise PublishError(plan.refusal)

    recorder = EtagRecorder()
    with recorder.attached(s3):
        crt = _crt_transfer(settings, ctx, s3) if plan.uploads else None
        if crt is None:
            done = upload_all(
                s3,
                settings.bucket,
                ctx.owner,
                plan,
                ctx.identity.arn,
                settings.concurrency,
                progress_interval=progress_interval,
            )
        else:
            try:
                done = _upload_through(crt, plan, recorder.etags, progress_interval)
            finally:
                crt.close()
        result.uploaded = [(u.file.key, str(u.reason), u.file.upload_size) for u in done]
        for u in done:
            log.debug("upload: %s (%s)", u.file.key, u.reason)
        copied = copy_all(s3, settings.bucket, ctx.owner, plan.copies, ctx.identity.arn, settings.concurrency)
    result.copied = sorted(copied)
    for key in result.copied:
        log.debug("headers: %s", key)
    if plan.deletes:
        result.deleted = delete_all(s3, settings.bucket, ctx.owner, plan.deletes, ctx.identity.arn)
        for key in result.deleted:
            log.debug("delete: %s", key)

    # CloudFront first, then the manifest: a failed invalidation is recorded in the manifest
    # and retried by the next publish, which would otherwise see nothing changed.
    invalidation_error: PublishError | None = None
    cf: Any = None
    if paths and settings.cloudfront_distribution_id:
        cf = ctx.client("cloudfront")
        try:
            inv = cloudfront.invalidate(
                cf, settings.cloudfront_distribution_id, paths, salt=f"{plan.deploy}-{int(time.time())}", sleep=sleep
            )
            result.invalidation_ids = inv.ids
        except PublishError as exc:
            invalidation_error = exc

    objects = manifest_objects(plan, {**recorder.etags, **copied}, manifest)
    still_pending = tuple(paths) if invalidation_error else ()
    if plan.changes or manifest is None or dict(manifest.objects) != objects or tuple(pending) != still_pending:
        new = Manifest(
            objects=objects,
            deploy=deploy_info(
                plan.deploy,
                clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
                _version("mkdocs-s3-crossaccount") or "unknown",
                _version("mkdocs") or _version("properdocs"),
                settings.role_arn,
                ctx.identity.arn,
                os.environ,
            ),
            pending_invalidation=still_pending,
        )
        put_manifest(
            s3, settings.bucket, manifest_key, ctx.owner, serialise(new), ctx.identity.arn, settings.kms_key_arn
        )
        result.manifest_written = True

    if invalidation_error:
        raise PublishError(
            f"The site was published, but the CloudFront invalidation failed: {invalidation_error.message} "
            "The paths are kept in the manifest and invalidated by the next publish.",
            invalidation_error.fix,
        )
    if cf is not None and settings.invalidation_wait and result.invalidation_ids:
        assert settings.cloudfront_distribution_id
        if not cloudfront.wait(
            cf,
            settings.cloudfront_distribution_id,
            result.invalidation_ids,
            timeout=settings.invalidation_timeout,
            sleep=sleep,
        ):
            raise PublishError(
                f"The site was published, but CloudFront had not completed invalidation "
                f"{', '.join(result.invalidation_ids)} after {settings.invalidation_timeout} s.",
                "Raise invalidation_timeout, or set invalidation_wait: false (the invalidation still finishes).",
            )
    result.seconds = time.monotonic() - started
    result.role_sessions = len(ctx.refreshes)
    log.info("%s", result.summary())
    _write_reports(result, settings)
    return result


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas before our threads start.

    With 16+ upload threads glibc keeps up to 8 arenas per core, each holding freed memory:
    about 18 MB of peak RSS at 10,000 files for no speed gain (the GIL serialises the
    Python work anyway). Same as MALLOC_ARENA_MAX=2; a no-op off glibc or when it is set.
    """
    if sys.platform != "linux" or "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _load_manifest(
    s3: Any, ctx: AwsContext, settings: Settings, remote: dict[str, RemoteObject], key: str
) -> Manifest | None:
    """Take the manifest (and anything else under its folder) out of the listing and read it."""
    listed = remote.pop(MANIFEST_REL, None)
    for rel in [r for r in remote if r.startswith(MANIFEST_DIR + "/")]:
        del remote[rel]
    if listed is None:
        return None
    data = get_manifest(s3, settings.bucket, key, ctx.owner, ctx.identity.arn)
    if data is None:
        return None
    try:
        return parse(data)
    except ManifestError as exc:
        log.warning(
            "The deploy manifest s3://%s/%s is unusable (%s). This publish compares objects by ETag, "
            "re-applies headers, deletes only with delete_unmanaged, and writes a new manifest.",
            settings.bucket,
            key,
            exc,
        )
        return None


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


def _crt_transfer(settings: Settings, ctx: AwsContext, s3: Any) -> Any:
    """The CRT transfer when settings.transfer resolves to it (interim, until S3Destination.use_transfer)."""
    from mkdocs_s3_crossaccount.aws import crt_transfer
    from mkdocs_s3_crossaccount.aws.legacy_transfer import UploadAllTransfer

    fallback = UploadAllTransfer(s3, settings.bucket, ctx.owner, ctx.identity.arn, settings.concurrency)
    crt = crt_transfer.crt_or_none(
        settings.transfer,
        s3=s3,
        credentials=ctx.session.get_credentials(),
        bucket=settings.bucket,
        owner=ctx.owner,
        identity_arn=ctx.identity.arn,
        region=ctx.region,
        concurrency=settings.concurrency,
        fallback=fallback,
    )
    log.debug("transfer: %s", "crt" if crt is not None else "botocore")
    return crt


def _upload_through(transfer: Any, plan: Any, etags: dict[str, str], progress_interval: float) -> list[Any]:
    """Upload phase by phase through a Transfer; the first failure stops the publish (nothing deleted)."""
    from mkdocs_s3_crossaccount.aws.apply import Progress, _Ticker

    progress = Progress(len(plan.uploads), plan.upload_bytes)
    done: list[Any] = []
    with _Ticker(progress, progress_interval):
        for phase in plan.phases():
            batch = transfer.upload_many(phase, lambda up: progress.add(up.file.upload_size))
            done.extend(batch.done)
            etags.update(batch.etags)
            if batch.errors:
                _, err = batch.errors[0]
                more = f" ({len(batch.errors) - 1} more uploads failed)" if len(batch.errors) > 1 else ""
                raise PublishError(
                    f"{err.message.rstrip('.')}{more}. {len(done)} of {len(plan.uploads)} uploads had finished; "
                    "nothing was deleted.",
                    err.fix,
                )
    return done


def s3_client(ctx: AwsContext, settings: Settings) -> Any:
    # the pool must fit every concurrent request (small puts and multipart parts run side by side)
    return ctx.client("s3", max_pool_connections=2 * settings.concurrency + 4, endpoint_url=settings.endpoint_url)


def _list(s3: Any, ctx: AwsContext, settings: Settings) -> dict[str, RemoteObject]:
    try:
        return list_remote(s3, settings.bucket, settings.prefix, ctx.owner)
    except (ClientError, BotoCoreError) as exc:
        raise diagnose.bucket_failed(exc, settings.bucket, ctx.owner, ctx.identity.arn, "list") from exc
