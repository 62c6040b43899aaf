"""The publish pipeline.

``publish()`` connects (credentials, the destination, the CDN) and hands over to
``publish_to()``, which reads as its stages, each a function of a few values returning a value:

    lock -> listing (+ manifest) -> plan -> apply -> CDN -> manifest -> result -> reports

Data flows one way. ``publish_to`` only speaks to the Destination and Cdn seams, so the unit
tests run it against the in-memory destination. Follow-up failures (the CDN) are recorded in
the result, the reports are written, and then the error is raised.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any

from mkdocs_s3_crossaccount.aws import crt_transfer
from mkdocs_s3_crossaccount.aws.cf_function import origin_warnings
from mkdocs_s3_crossaccount.aws.cloudfront import CdnLimits, CloudFrontCdn
from mkdocs_s3_crossaccount.aws.destination import S3Destination
from mkdocs_s3_crossaccount.aws.session import AwsContext, Clock, _utcnow, connect
from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core import lock
from mkdocs_s3_crossaccount.core.apply import Applied, apply_plan
from mkdocs_s3_crossaccount.core.cdn import Cdn, CdnOutcome, SubfolderCdn
from mkdocs_s3_crossaccount.core.destination import Destination
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.headers import HeaderRules
from mkdocs_s3_crossaccount.core.history import Commit, check_order, current_commit, save_record
from mkdocs_s3_crossaccount.core.inventory import LocalFile, scan
from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR
from mkdocs_s3_crossaccount.core.manifest import Entry, Manifest, Publisher, deploy_info, serialise
from mkdocs_s3_crossaccount.core.manifest_store import Listing, read_listing, save_manifest
from mkdocs_s3_crossaccount.core.plan import Plan, PlanRules, check_site, make_plan, manifest_objects
from mkdocs_s3_crossaccount.core.report import PublishResult, plan_lines, site_url, write_reports
from mkdocs_s3_crossaccount.core.rollback import RollbackPlan, RollbackRules, apply_rollback, prepare
from mkdocs_s3_crossaccount.core.uploads import abort_stale_uploads
from mkdocs_s3_crossaccount.core.versions import VersionsError
from mkdocs_s3_crossaccount.core.versions_store import (
    AliasMove,
    AliasRules,
    VersionsState,
    alias_rels,
    copy_alias,
    invalidate_paths,
    read_state,
    sub,
    versions_changed,
    with_default,
    write_state,
)

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")
SUMMARY = {"s3xa_summary": True}
"""``extra`` of the summary's log record: a quiet host keeps that one info line (``core.apply.observing``
is the host's other seam: progress)."""


@dataclass(frozen=True)
class Run:
    """One publish's fixed inputs, shared by every stage."""

    site: str
    settings: Settings
    account: str  # the account the destination's identity acts in
    region: str
    clock: Clock = _utcnow
    progress_interval: float = 10.0
    generator: str | None = None  # the site generator's version (the host says which)
    refreshes: Sequence[object] = ()  # role credentials fetched so far (1 + refreshes), live
    started: float = field(default_factory=time.monotonic)
    commit: Commit | None = None  # what is published (for the out-of-order guard and the deploy record)
    waited: Callable[[], float] = field(default=lambda: 0.0)  # seconds spent waiting for the build

    @property
    def seconds(self) -> float:
        """How long the publish has taken so far, without the wait for the build."""
        return time.monotonic() - self.started - self.waited()


class SiteBuiltLater:
    """A site folder that is still being built: ``publish`` connects, takes the lock and lists the
    bucket, and only then calls ``built()``, which returns once the site is complete (or raises to
    stop the publish before anything is written). The MkDocs host starts a publish this way while
    the build runs (``hosts/early.py``). The time spent waiting is not counted as the publish's."""

    def __init__(self, path: str, built: Callable[[], None]) -> None:
        self.path = path
        self._built = built
        self.waited = 0.0

    def wait(self) -> None:
        """Block until the site is built (raises if the build will not be published)."""
        began = time.monotonic()
        try:
            self._built()
        finally:
            self.waited = time.monotonic() - began


def publish(
    site_dir: str | os.PathLike[str] | SiteBuiltLater,
    settings: Settings,
    *,
    clock: Clock = _utcnow,
    progress_interval: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    generator: str | None = None,
) -> PublishResult:
    """Publish the built site in ``site_dir`` to ``settings.destination``.

    Raises PublishError (with a fix) on any failure; when it does, nothing was deleted and
    objects already in the bucket are intact. ``generator`` is the site generator's version,
    recorded in the manifest (the host says which: ``hosts.generators.generator_version``).
    """
    started = time.monotonic()
    _limit_malloc_arenas()
    later = site_dir if isinstance(site_dir, SiteBuiltLater) else None
    site = site_dir.path if isinstance(site_dir, SiteBuiltLater) else os.fspath(site_dir)
    # SIGTERM unwinds like Ctrl-C; the site is hashed while the role is assumed and the bucket listed
    with sigterm_unwinds(), _scanning(site, keyed_settings(settings), later) as local:
        ctx = connect(settings, clock=clock)
        dest = s3_destination(ctx, settings)
        for warning in origin_warnings(ctx, settings):  # once per publish, and only with a distribution
            log.warning("%s", warning)
        run = Run(
            site,
            settings,
            ctx.identity.account,
            ctx.region,
            clock,
            progress_interval,
            generator,
            ctx.refreshes,
            started,
            current_commit(os.environ),
            (lambda: later.waited) if later is not None else _no_wait,
        )
        try:
            cdn = cloudfront_cdn(ctx, settings, sleep)
            if settings.version:
                return publish_versioned(dest, local, run, cdn)
            return publish_to(dest, local, run, cdn)
        finally:
            dest.close()


def _no_wait() -> float:
    return 0.0


def publish_to(dest: Destination, local: Callable[[], list[LocalFile]], run: Run, cdn: Cdn | None) -> PublishResult:
    """The pipeline after connecting: everything it does to the bucket goes through ``dest``."""
    settings = run.settings
    with lock.held(dest, settings.lock_timeout, enabled=settings.lock and not settings.dry_run) as held:
        # listed under the lock: no other publish changes the prefix between plan and apply
        listing = read_listing(dest)
        check_order(listing.manifest, run.commit, settings.allow_older, settings.destination)
        files = local()
        plan = plan_publish(files, listing, run)
        result = new_result(dest, plan, run)
        if cdn is not None:
            pending = listing.manifest.pending_invalidation if listing.manifest else ()
            result.invalidation_paths = cdn.paths(plan.changed_rels(), pending)
        if settings.dry_run:
            return dry_run(result, plan, run, cdn)
        if plan.refusal:
            raise PublishError(plan.refusal)
        clean_up_uploads(dest, plan, listing, held, run)
        applied = apply_plan(dest, plan, run.progress_interval, lambda before: lock.confirm(held, before))
        record_applied(result, applied)
        outcome = invalidate(cdn, result.invalidation_paths, plan)
        wait_for_cdn(cdn, outcome, settings)
        record_cdn(result, outcome)
        new = new_manifest(plan, applied, outcome, listing.manifest, run, dest.identity_arn)
        if new is not None:
            lock.confirm(held, "writing the manifest")
            body = serialise(new)
            save_deploy_record(dest, plan.deploy, body, run)  # before the manifest, which stays the last write
            save_manifest(dest, body, settings.kms_key_arn)
        result.manifest_written = new is not None
    return finish(result, run, outcome)


def clean_up_uploads(dest: Destination, plan: Plan, listing: Listing, held: lock.Lock | None, run: Run) -> None:
    """Abort incomplete multipart uploads a killed publish left (only when this one uploads or took over)."""
    if plan.uploads or (held is not None and held.took_over):
        # the listing no longer holds nested publishers' bookkeeping: name their folders to spare their uploads
        listed = [*listing.remote, *(root + INTERNAL_DIR for root in listing.nested)]
        abort_stale_uploads(dest, run.settings.lock_timeout, listed)


def publish_versioned(
    dest: Destination, local: Callable[[], list[LocalFile]], run: Run, cdn: Cdn | None
) -> PublishResult:
    """A version of the site: ``<prefix>/<version>/`` by the whole pipeline, then its aliases, then versions.json.

    ``dest`` is the root prefix; its lock is held throughout, so the version's folder, the alias
    folders and versions.json change together, one publisher at a time.
    """
    settings = run.settings
    version = str(settings.version)
    with lock.held(dest, settings.lock_timeout, enabled=settings.lock and not settings.dry_run):
        before = read_state(dest)
        after = update_versions(before, settings)
        vrun = versioned_run(run, version)
        result = publish_to(sub(dest, version), local, vrun, SubfolderCdn(cdn, version) if cdn else None)
        info = after.versions.get(version)
        moves = move_aliases(dest, version, info.aliases if info else (), settings)
        if settings.dry_run:
            for move in moves:
                log.info("(dryrun) %s", move.line())
            if versions_changed(before, after):
                log.info("(dryrun) versions.json: %s", ", ".join(after.versions.names()))
            return result
        for move in moves:
            log.info("%s", move.line())
        rels = [rel for move in moves for rel in alias_rels(move)]
        if versions_changed(before, after) or (after.default and not before.default):
            rels += write_state(dest, after, settings.redirects, settings.kms_key_arn)
            log.info(
                "versions.json: %s%s",
                ", ".join(
                    f"{i.version}{' [' + ', '.join(i.aliases) + ']' if i.aliases else ''}" for i in after.versions
                ),
                f"; {settings.prefix or '/'} redirects to {after.default}/" if after.default else "",
            )
        result.invalidation_ids += invalidate_paths(cdn, rels, salt=f"versions-{version}-{int(time.time())}")
    return result


def update_versions(before: VersionsState, settings: Settings) -> VersionsState:
    """versions.json after this publish (pure): the version added, its aliases moved here, the default checked."""
    try:
        versions = before.versions.add(str(settings.version), settings.version_title, settings.aliases)
    except VersionsError as exc:
        raise PublishError(f"Cannot publish version {settings.version!r}: {exc}", "Change version or aliases.") from exc
    return with_default(before, versions, settings.default_version)


def keyed_settings(settings: Settings) -> Settings:
    """The settings the site's files are keyed with: a version's folder when ``version`` is set."""
    if not settings.version:
        return settings
    return replace(settings, prefix=sub_prefix(settings.prefix, settings.version), lock=False)


def versioned_run(run: Run, version: str) -> Run:
    """The run of the version's own folder: its prefix, its manifest, no second lock (the root's is held)."""
    settings = run.settings
    return replace(run, settings=replace(settings, prefix=sub_prefix(settings.prefix, version), lock=False))


def sub_prefix(prefix: str, name: str) -> str:
    """The prefix of a version's or alias's folder."""
    return f"{prefix}/{name}" if prefix else name


def move_aliases(dest: Destination, version: str, aliases: Sequence[str], settings: Settings) -> list[AliasMove]:
    """Point each alias folder at ``version`` (server-side copies; stale alias objects deleted)."""
    rules = alias_rules(settings, settings.dry_run)
    return [copy_alias(dest, version, alias, rules) for alias in aliases]


@contextmanager
def connected(
    settings: Settings, *, clock: Clock = _utcnow, sleep: Callable[[float], None] = time.sleep
) -> Iterator[tuple[S3Destination, Cdn | None]]:
    """The root prefix's destination and CDN, for commands that are not a publish (versions, history, rollback)."""
    ctx = connect(settings, clock=clock)
    dest = s3_destination(ctx, settings)
    try:
        yield dest, cloudfront_cdn(ctx, settings, sleep)
    finally:
        dest.close()


@dataclass
class RolledBack:
    """What a rollback did (or, with dry_run, would do)."""

    plan: RollbackPlan
    destination: str
    number: int | None = None  # the new deploy's number
    aliases: list[AliasMove] = field(default_factory=list)
    invalidation_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0


def rollback(settings: Settings, deploy_id: int | None = None, *, dry_run: bool = False) -> RolledBack:
    """Restore the prefix (the version's folder, when ``version`` is set) to deploy ``deploy_id`` (default:
    the one before the live deploy) by server-side copies of its recorded object versions."""
    started = time.monotonic()
    with connected(settings) as (root, cdn):
        folder = keyed_settings(settings).prefix
        dest = root.at(folder)
        with lock.held(root, settings.lock_timeout, enabled=settings.lock and not dry_run):
            rules = RollbackRules(deploy_id, settings.max_deletes, settings.max_delete_share, settings.kms_key_arn)
            plan = prepare(dest, rules)
            out = RolledBack(plan, f"s3://{settings.bucket}/{folder}/" if folder else settings.destination)
            if dry_run:
                if plan.refusal:
                    raise PublishError(plan.refusal + " Nothing was changed.")
                out.seconds = time.monotonic() - started
                return out
            objects = apply_rollback(dest, plan, rules)
            out.number = write_rollback_manifest(dest, plan, objects, settings)
            rels = plan.changed_rels()
            if settings.version:
                info = read_state(root).versions.get(settings.version)
                out.aliases = move_aliases(root, settings.version, info.aliases if info else (), settings)
                rels = [f"{settings.version}/{rel}" for rel in rels]
                rels += [rel for move in out.aliases for rel in alias_rels(move)]
            salt = f"rollback-{out.number}-{int(time.time())}"
            out.invalidation_ids = invalidate_paths(cdn, rels, salt)
    out.seconds = time.monotonic() - started
    return out


def write_rollback_manifest(
    dest: Destination, plan: RollbackPlan, objects: dict[str, Entry], settings: Settings
) -> int:
    """The manifest and deploy record after a rollback: the target's objects, a new number, ``rollback_of``."""
    number = max(plan.live.number if plan.live else 0, plan.target.number) + 1
    publisher = Publisher(_version("mkdocs-s3-crossaccount") or "unknown", None, settings.role_arn, dest.identity_arn)
    deploy = deploy_info(number, _utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), publisher, os.environ)
    for name in ("commit_sha", "commit_time"):  # what is live now is the target's commit
        if plan.target.deploy.get(name):
            deploy[name] = plan.target.deploy[name]
    deploy.update({"rollback_of": plan.target.number, "uploaded": 0, "restored": len(plan.copies)})
    deploy["deleted"] = len(plan.deletes)
    body = serialise(Manifest(objects=objects, deploy=deploy))
    save_manifest(dest, body, settings.kms_key_arn)
    save_record(dest, number, body, settings.history_limit, settings.kms_key_arn)
    return number


def alias_rules(settings: Settings, dry_run: bool) -> AliasRules:
    """How alias folders are written and guarded (from the settings)."""
    return AliasRules(
        settings.max_deletes,
        settings.max_delete_share,
        settings.kms_key_arn,
        dry_run,
        settings.alias_type,
        settings.redirects,
    )


def inventory(site: str, settings: Settings) -> list[LocalFile]:
    """The local walk: every file of the site, hashed, with its headers and body decided."""
    rules = HeaderRules.from_options(settings.cache_control, settings.gzip, settings.kms_key_arn)
    return scan(site, settings.prefix, settings.content_types, header_rules=rules, detect_redirects=settings.redirects)


@contextmanager
def _scanning(
    site: str, settings: Settings, later: SiteBuiltLater | None = None
) -> Iterator[Callable[[], list[LocalFile]]]:
    """The local inventory, computed in the background (once ``later`` says the site is built);
    yields the call that waits for it."""

    def scan_when_built() -> list[LocalFile]:
        if later is not None:
            later.wait()
        return inventory(site, settings)

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3xa-scan")
    future = pool.submit(scan_when_built)
    try:
        yield future.result
    except BaseException:
        future.cancel()
        pool.shutdown(wait=later is None)  # a scan still waiting for the build is not waited for
        raise
    pool.shutdown(wait=True)


def s3_destination(ctx: AwsContext, settings: Settings) -> S3Destination:
    """The bucket prefix as the role sees it, with the transfer path ``settings.transfer`` picks."""
    dest = S3Destination(
        s3_client(ctx, settings), settings.bucket, settings.prefix, ctx, concurrency=settings.concurrency
    )
    crt_transfer.attach(
        dest,
        settings.transfer,
        credentials=ctx.session.get_credentials(),
        region=ctx.region,
        concurrency=settings.concurrency,
    )
    return dest


def s3_client(ctx: AwsContext, settings: Settings) -> Any:
    # the pool must fit every concurrent request (small puts and multipart parts run side by side)
    """The target account's S3 client, its pool sized to the concurrency."""
    return ctx.client(
        "s3",
        max_pool_connections=2 * settings.concurrency + 4,
        endpoint_url=settings.endpoint_url,
        checksums=settings.checksums,
    )


def cloudfront_cdn(ctx: AwsContext, settings: Settings, sleep: Callable[[float], None]) -> CloudFrontCdn | None:
    """The distribution to invalidate, if one is configured."""
    if not settings.cloudfront_distribution_id:
        return None
    limits = CdnLimits(settings.invalidation_max_paths, settings.invalidation_timeout)
    return CloudFrontCdn(ctx.client("cloudfront"), settings.cloudfront_distribution_id, settings.prefix, limits, sleep)


# --- stages --------------------------------------------------------------------------


def plan_publish(local: list[LocalFile], listing: Listing, run: Run) -> Plan:
    """The pure diff of the site against the bucket, with the guards applied."""
    settings = run.settings
    check_site(local, settings.delete, run.site, settings.allow_project_dir)
    rules = PlanRules(
        delete=settings.delete,
        max_deletes=settings.max_deletes,
        max_delete_share=settings.max_delete_share,
        delete_unmanaged=settings.delete_unmanaged,
        keep=tuple(settings.keep),
        retain_deploys=settings.retain_deploys,
        force=settings.force,
    )
    plan = make_plan(local, listing.remote, listing.manifest, rules, listing.nested)
    if plan.unmanaged_left:
        log.info(
            "Left %d object(s) under %s alone: no publish recorded them in the manifest%s. "
            "Set delete_unmanaged: true to remove objects that are not part of the site.",
            plan.unmanaged_left,
            settings.destination,
            " (there is none yet)" if listing.manifest is None else "",
        )
    return plan


def new_result(dest: Destination, plan: Plan, run: Run) -> PublishResult:
    """The result before anything is applied."""
    settings = run.settings
    result = PublishResult(
        destination=settings.destination,
        bucket=settings.bucket,
        prefix=settings.prefix,
        identity_arn=dest.identity_arn,
        account=run.account,
        role_arn=settings.role_arn,
        dry_run=settings.dry_run,
        plan=plan,
        region=run.region,
    )
    if settings.site_url_template:
        result.site_url = site_url(settings.site_url_template, settings.bucket, settings.prefix, run.region)
    return result


def dry_run(result: PublishResult, plan: Plan, run: Run, cdn: Cdn | None) -> PublishResult:
    """Print the plan, write the reports, change nothing."""
    for line in plan_lines(plan, run.settings.bucket):
        log.info("%s", line)
    for path in result.invalidation_paths:
        log.info("(dryrun) invalidate: %s on %s", path, cdn.name if cdn else "the CDN")
    result.seconds = run.seconds
    log.info("%s", result.summary(), extra=SUMMARY)
    write_reports(result, run.settings.report_file, run.settings.dotenv_file)
    return result


def record_applied(result: PublishResult, applied: Applied) -> None:
    """Copy what the apply stage did into the result."""
    result.uploaded = [(u.file.key, str(u.reason), u.file.upload_size) for u in applied.uploaded]
    result.copied = sorted(applied.copied)
    result.deleted = list(applied.deleted)
    result.retries = applied.retries


def invalidate(cdn: Cdn | None, paths: list[str], plan: Plan) -> CdnOutcome:
    """Invalidate the changed paths (then wait, if asked); a failure is kept in the outcome, not raised."""
    outcome = CdnOutcome(paths=list(paths))
    if cdn is None or not paths:
        return outcome
    try:
        outcome.ids = cdn.invalidate(paths, salt=f"{plan.deploy}-{int(time.time())}")
    except PublishError as exc:
        outcome.error = PublishError(
            f"The site was published, but the CloudFront invalidation failed: {exc.message} "
            "The paths are kept in the manifest and invalidated by the next publish.",
            exc.fix,
        )
    return outcome


def wait_for_cdn(cdn: Cdn | None, outcome: CdnOutcome, settings: Settings) -> None:
    """With invalidation_wait, wait for the invalidations; a timeout is kept in the outcome."""
    if cdn is None or outcome.error or not outcome.ids or not settings.invalidation_wait:
        return
    try:
        completed = cdn.wait(outcome.ids)
    except PublishError as exc:
        outcome.timed_out = exc
        return
    if not completed:
        outcome.timed_out = PublishError(
            f"The site was published, but CloudFront had not completed invalidation "
            f"{', '.join(outcome.ids)} after {settings.invalidation_timeout} s.",
            "Raise invalidation_timeout, or set invalidation_wait: false (the invalidation still finishes).",
        )


def record_cdn(result: PublishResult, outcome: CdnOutcome) -> None:
    """Copy the invalidation ids into the result."""
    result.invalidation_ids = list(outcome.ids)


def new_manifest(
    plan: Plan, applied: Applied, outcome: CdnOutcome, manifest: Manifest | None, run: Run, identity_arn: str
) -> Manifest | None:
    """What this publisher now owns (written last: after uploads, deletes and the CDN). None: nothing changed."""
    objects = manifest_objects(plan, {**applied.etags, **applied.copied}, manifest, applied.version_ids)
    pending = manifest.pending_invalidation if manifest else ()
    unchanged = manifest is not None and dict(manifest.objects) == objects and tuple(pending) == outcome.pending
    if not plan.changes and unchanged:
        return None
    publisher = Publisher(
        _version("mkdocs-s3-crossaccount") or "unknown", run.generator, run.settings.role_arn, identity_arn
    )
    deploy = deploy_info(plan.deploy, run.clock().strftime("%Y-%m-%dT%H:%M:%SZ"), publisher, os.environ)
    deploy.update(deploy_extras(run, applied))
    return Manifest(objects=objects, deploy=deploy, pending_invalidation=outcome.pending)


def deploy_extras(run: Run, applied: Applied) -> dict[str, object]:
    """What the deploy record adds to the manifest's deploy block: the commit, its time, the counts."""
    extras: dict[str, object] = {
        "uploaded": len(applied.uploaded),
        "deleted": len(applied.deleted),
        "headers_updated": len(applied.copied),
    }
    if run.commit is not None and run.commit.sha:
        extras["commit_sha"] = run.commit.sha
    if run.commit is not None and run.commit.iso_time:
        extras["commit_time"] = run.commit.iso_time
    return extras


def save_deploy_record(dest: Destination, number: int, body: bytes, run: Run) -> None:
    """The deploy's record for `history` and `rollback` (the last history_limit are kept); a failure is a warning."""
    try:
        save_record(dest, number, body, run.settings.history_limit, run.settings.kms_key_arn)
    except PublishError as exc:
        log.warning("The site was published, but its deploy record was not written: %s", exc)


def finish(result: PublishResult, run: Run, outcome: CdnOutcome) -> PublishResult:
    """Summary and reports; then the follow-up failure, if any, is raised."""
    result.followup_error = outcome.failure
    result.seconds = run.seconds
    result.role_sessions = len(run.refreshes)
    log.info("%s", result.summary(), extra=SUMMARY)
    write_reports(result, run.settings.report_file, run.settings.dotenv_file)
    if outcome.failure is not None:
        raise outcome.failure
    return result


# --- process-level details -----------------------------------------------------------


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a publish (``docker stop``, a cancelled CI job).

    Raised in the main thread like Ctrl-C's KeyboardInterrupt, so the publish unwinds the same
    way: uploads in flight finish or are cancelled, nothing more starts, nothing is deleted
    after an unfinished write, and the lock is released. The CLI exits 143 (128 + SIGTERM).
    """

    exit_code = 128 + signal.SIGTERM


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While a publish runs, SIGTERM raises Terminated in the main thread (then further ones are ignored).

    Only where SIGTERM still has its default action (which would kill the process with the lock
    left behind) and only in the main thread: a host that handles SIGTERM itself keeps its handler.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) not in (
        signal.SIG_DFL,
        None,
    ):
        yield
        return
    fired = threading.Event()

    def terminate(signum: int, frame: object) -> None:
        if fired.is_set():
            return  # already unwinding: let the lock release finish
        fired.set()
        log.warning("SIGTERM: stopping the publish (nothing new starts; the lock is released)")
        raise Terminated()

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


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
