"""`check`: a preflight that writes nothing, and `remove`: a guarded removal of a prefix.

Each check is one step with a result line and, when it fails, the exact fix (the policy
statement to add, the principal to trust). Translations come from ``diagnose`` and the
credentials from ``credentials.connect``, so check says what publish would say.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from mkdocs_s3_crossaccount.aws import cf_function, diagnose
from mkdocs_s3_crossaccount.aws.destination import S3Destination
from mkdocs_s3_crossaccount.aws.session import AwsContext, TokenLoader, connect, source_identity
from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.model import RemoteObject

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")


@dataclass(frozen=True)
class Step:
    """One result line of `check`, with the fix when it failed."""

    name: str
    ok: bool | None  # None: skipped or informational
    detail: str
    fix: str | None = None

    def lines(self) -> list[str]:
        """The step as the terminal shows it."""
        mark = {True: "[ok]  ", False: "[FAIL]", None: "[--]  "}[self.ok]
        out = [f"{mark} {self.name}: {self.detail}"]
        if self.fix:
            out.append(f"       Fix: {self.fix}")
        return out


def _failed(name: str, err: PublishError) -> Step:
    return Step(name, False, err.message, err.fix)


def run_checks(settings: Settings) -> Iterator[Step]:
    """Yield each step as it completes; stop after the first failure that later steps depend on."""
    # 1. the source credentials
    if settings.uses_web_identity:
        loader = TokenLoader(settings.web_identity_token_env, settings.web_identity_token_file)
        try:
            loader()
        except PublishError as err:
            yield _failed("source identity", err)
            return
        yield Step("source identity", True, f"OIDC token present in {loader.source} (not shown)")
    else:
        try:
            ident = source_identity(settings)
        except PublishError as err:
            yield _failed("source identity", err)
            return
        yield Step("source identity", True, f"{ident.arn} (account {ident.account})")

    # 2. the role, and 3. the account it acts in
    try:
        ctx = connect(settings)
    except PublishError as err:
        yield _failed("role assumption" if settings.role_arn else "target account", err)
        return
    if settings.role_arn:
        yield Step("role assumption", True, f"{settings.role_arn} -> {ctx.identity.arn}")
    yield Step("target account", True, f"{ctx.identity.account}; every bucket request expects owner {ctx.owner}")

    # 4. the bucket (exists, owner, region) and 5. listing under the prefix: one ListObjectsV2, the call
    # publish makes. (HeadBucket would need s3:ListBucket without the s3:prefix condition.)
    yield from _check_bucket(_destination(ctx, settings), ctx, settings)

    # 6. the CloudFront distribution's origin: website endpoint or REST (OAC/OAI), and its function
    for ok, detail, fix in cf_function.check_steps(ctx, settings):
        yield Step("CloudFront origin", ok, detail, fix)


def _destination(ctx: AwsContext, settings: Settings) -> S3Destination:
    s3 = ctx.client("s3", endpoint_url=settings.endpoint_url, checksums=settings.checksums)
    return S3Destination(s3, settings.bucket, settings.prefix, ctx)


def _check_bucket(dest: S3Destination, ctx: AwsContext, settings: Settings) -> Iterator[Step]:
    where = dest.url
    try:
        resp = dest.probe()
    except (ClientError, BotoCoreError) as exc:
        denied = diagnose.code_of(exc) in ("AccessDenied", "403", "Forbidden")
        if denied and _answers_without_owner(dest):
            yield Step(
                "bucket",
                False,
                f"s3://{settings.bucket} exists but is not owned by account {ctx.owner}.",
                "Check the bucket name (bucket names are global: this one belongs to another account), or set "
                "expected_bucket_owner to the account that owns it.",
            )
            return
        if denied:
            yield Step("bucket", None, f"s3://{settings.bucket}: not known (listing was denied)")
            yield _failed("list permission", _list_denied(exc, ctx, settings))
            return
        yield _failed("bucket", diagnose.bucket_failed(exc, settings.bucket, ctx.owner, ctx.identity.arn, "list"))
        return
    region = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
    if region and region != ctx.region:
        yield Step(
            "bucket",
            False,
            f"s3://{settings.bucket} is in region {region}, but the publish is configured for {ctx.region}.",
            f"Set region: {region} (or --region {region}).",
        )
        return
    yield Step("bucket", True, f"s3://{settings.bucket} exists, owned by account {ctx.owner}")
    found = "objects already there" if resp.get("KeyCount") else "empty so far"
    yield Step("list permission", True, f"{where} can be listed ({found})")
    objects = f"arn:aws:s3:::{settings.bucket}/{settings.prefix + '/' if settings.prefix else ''}*"
    yield Step(
        "write permissions",
        None,
        f"not tested (check writes nothing): s3:PutObject and s3:DeleteObject on {objects}; "
        "`mkdocs-s3-crossaccount policy` prints the statements",
    )
    yield versioning_step(dest)


def versioning_step(dest: S3Destination) -> Step:
    """Informational: whether `rollback` can work (bucket versioning keeps the earlier objects)."""
    try:
        status = dest.versioning()
    except PublishError as err:
        return Step("bucket versioning", None, f"not known: {err.message}", err.fix)
    if status == "Enabled":
        return Step("bucket versioning", True, f"enabled on {dest.bucket}: deploys can be rolled back")
    return Step(
        "bucket versioning",
        None,
        f"{'suspended' if status else 'not enabled'} on {dest.bucket}: `rollback` is not possible",
        f"To allow rollbacks: aws s3api put-bucket-versioning --bucket {dest.bucket} "
        f"--versioning-configuration Status=Enabled --expected-bucket-owner {dest.owner}",
    )


def _answers_without_owner(dest: S3Destination) -> bool:
    try:
        dest.probe(with_owner=False)
    except (ClientError, BotoCoreError):
        return False
    return True


def _list_denied(exc: BaseException, ctx: AwsContext, settings: Settings) -> PublishError:
    err = diagnose.bucket_failed(exc, settings.bucket, ctx.owner, ctx.identity.arn, "list")
    if not settings.prefix:
        return err
    return PublishError(
        err.message,
        "Add to the role's permission policy: "
        f'{{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::{settings.bucket}", '
        f'"Condition": {{"StringLike": {{"s3:prefix": ["{settings.prefix}/", "{settings.prefix}/*"]}}}}}}',
    )


# --- remove ------------------------------------------------------------------------


@dataclass
class Removal:
    """What `remove` found and deleted."""

    destination: str
    objects: list[RemoteObject]
    deleted: list[str]
    identity_arn: str


def remove_prefix(settings: Settings, *, execute: bool) -> Removal:
    """Everything under ``prefix/`` (at a '/' boundary), listed as the role; with ``execute`` deleted
    in batches of 1,000 (each with ExpectedBucketOwner)."""
    dest = _destination(connect(settings), settings)
    objects = sorted(dest.list().values(), key=lambda o: o.key)
    deleted: list[str] = []
    if execute and objects:
        outcome = dest.delete_many(objects)
        if outcome.error is not None:
            err = outcome.error
            raise PublishError(
                f"{err.message} {len(outcome.keys)} of {len(objects)} stale objects had been deleted.", err.fix
            )
        deleted = outcome.keys
    return Removal(settings.destination, objects, deleted, dest.identity_arn)
