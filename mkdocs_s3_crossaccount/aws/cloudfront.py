"""CloudFront invalidation: which paths (pure) and the API calls (retry, our own wait loop).

Only what a publish changed is invalidated: every uploaded, re-headered or deleted object,
and for a directory page ``x/index.html`` also the URL readers use, ``/prefix/x/``
(``/prefix/`` for the root page). Above ``max_paths`` paths one wildcard ``/prefix/*``
replaces them (CloudFront bills per path, a wildcard counts as one).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from mkdocs_s3_crossaccount.aws import diagnose
from mkdocs_s3_crossaccount.core.errors import PublishError

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

MAX_PATHS_PER_REQUEST = 3000  # CloudFront: paths per invalidation batch (and in progress)
MAX_WILDCARDS_PER_REQUEST = 15  # CloudFront: wildcard paths in progress
_SAFE = "/-_.~!$&'()+,;=:@"  # kept as they are; everything else (space, %, *, ?, #, non-ASCII) is %-encoded


def encode(path: str) -> str:
    """A URL path as CloudFront wants it: RFC 3986 percent-encoding, '*' encoded (it is a wildcard)."""
    return quote(path, safe=_SAFE)


def paths_for(prefix: str, rels: Iterable[str]) -> list[str]:
    """Invalidation paths for the changed site-relative paths, sorted, without duplicates."""
    base = "/" + (prefix + "/" if prefix else "")
    out: set[str] = set()
    for rel in rels:
        out.add(encode(base + rel))
        if rel == "index.html":
            out.add(encode(base))
        elif rel.endswith("/index.html"):
            out.add(encode(base + rel[: -len("index.html")]))
    return sorted(out)


def wildcard(prefix: str) -> str:
    """The one path that invalidates everything under the prefix."""
    return encode("/" + (prefix + "/" if prefix else "")) + "*"


def plan_invalidation(prefix: str, rels: Iterable[str], max_paths: int, pending: Iterable[str] = ()) -> list[str]:
    """The paths to invalidate: exact paths, or the prefix wildcard above ``max_paths``."""
    paths = sorted(set(paths_for(prefix, rels)) | set(pending))
    if not paths:
        return []
    if len(paths) > max_paths:
        return [wildcard(prefix)]
    return paths


def batches(paths: Sequence[str]) -> list[list[str]]:
    """Split into requests within CloudFront's limits (3,000 paths, 15 wildcards each)."""
    out: list[list[str]] = []
    current: list[str] = []
    wild = 0
    for p in paths:
        is_wild = p.endswith("*")
        if current and (len(current) >= MAX_PATHS_PER_REQUEST or (is_wild and wild >= MAX_WILDCARDS_PER_REQUEST)):
            out.append(current)
            current, wild = [], 0
        current.append(p)
        wild += is_wild
    if current:
        out.append(current)
    return out


def caller_reference(paths: Sequence[str], salt: str) -> str:
    """A CallerReference unique to these paths and this publish (CloudFront dedupes on it)."""
    digest = hashlib.sha256("\n".join(paths).encode()).hexdigest()[:16]
    return f"mkdocs-s3xa-{salt}-{digest}"


def is_completed(status: str) -> bool:
    """CloudFront says 'Completed'; moto says 'COMPLETED'."""
    return status.strip().lower() == "completed"


@dataclass
class InvalidationResult:
    """The invalidations created for one publish."""

    ids: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    completed: bool = False


Sleep = Callable[[float], None]


def with_backoff(
    call: Callable[[], Any],
    *,
    retry_codes: tuple[str, ...] = ("TooManyInvalidationsInProgress",),
    attempts: int = 8,
    first_delay: float = 2.0,
    max_delay: float = 60.0,
    sleep: Sleep = time.sleep,
) -> Any:
    """Run ``call``; when it fails with one of ``retry_codes``, wait (doubling) and try again."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ClientError as exc:
            if diagnose.code_of(exc) not in retry_codes or attempt == attempts:
                raise
            log.info(
                "CloudFront: %s; retrying in %.0f s (attempt %d of %d)",
                diagnose.code_of(exc),
                delay,
                attempt,
                attempts,
            )
            sleep(delay)
            delay = min(max_delay, delay * 2)
    raise AssertionError("unreachable")  # pragma: no cover


def invalidate(
    cloudfront: Any,
    distribution_id: str,
    paths: Sequence[str],
    *,
    salt: str,
    sleep: Sleep = time.sleep,
    attempts: int = 8,
) -> InvalidationResult:
    """Create the invalidation(s); TooManyInvalidationsInProgress is retried with backoff."""
    result = InvalidationResult(paths=list(paths))
    for n, batch in enumerate(batches(paths)):
        ref = caller_reference(batch, f"{salt}-{n}")

        def create(batch: list[str] = batch, ref: str = ref) -> Any:
            return cloudfront.create_invalidation(
                DistributionId=distribution_id,
                InvalidationBatch={"Paths": {"Quantity": len(batch), "Items": batch}, "CallerReference": ref},
            )

        try:
            resp = with_backoff(create, sleep=sleep, attempts=attempts)
        except (ClientError, BotoCoreError) as exc:
            raise invalidation_failed(exc, distribution_id) from exc
        inv = resp["Invalidation"]
        result.ids.append(str(inv["Id"]))
        log.info(
            "CloudFront: invalidation %s of %d path(s) on %s (%s)",
            inv["Id"],
            len(batch),
            distribution_id,
            inv.get("Status", "?"),
        )
    return result


def poll_until_completed(
    status: Callable[[str], str],
    ids: Sequence[str],
    *,
    timeout: float,
    interval: float,
    sleep: Sleep,
    clock: Callable[[], float],
) -> bool:
    """The polling loop: ask ``status`` for each id still running, every ``interval`` s, until ``timeout``."""
    deadline = clock() + timeout
    pending = list(ids)
    while True:
        pending = [inv_id for inv_id in pending if not is_completed(status(inv_id))]
        if not pending:
            return True
        now = clock()
        if now >= deadline:
            return False
        sleep(min(interval, deadline - now))


def invalidation_failed(exc: BaseException, distribution_id: str) -> PublishError:
    """A CloudFront error as the fix to apply (the id, the permission, the wait)."""
    code = diagnose.code_of(exc)
    if code == "NoSuchDistribution":
        return PublishError(
            f"CloudFront distribution {distribution_id!r} was not found by the role session.",
            "Check cloudfront_distribution_id: it must be the distribution's id (e.g. E2ABCDEF123456) in the "
            "documents account, the account of role_arn.",
        )
    if code in ("AccessDenied", "AccessDeniedException"):
        return PublishError(
            f"Access denied to invalidate CloudFront distribution {distribution_id}.",
            'The role\'s permission policy must allow "cloudfront:CreateInvalidation" (and '
            '"cloudfront:GetInvalidation" for invalidation_wait) on '
            f'"arn:aws:cloudfront::<account>:distribution/{distribution_id}".',
        )
    if code == "TooManyInvalidationsInProgress":
        return PublishError(
            f"CloudFront kept refusing the invalidation on {distribution_id}: too many invalidations in progress.",
            "Wait for running invalidations to finish, or lower invalidation_max_paths so a wildcard is used.",
        )
    return diagnose.unexpected(exc, f"invalidating CloudFront distribution {distribution_id}")


class CloudFrontCdn:
    """The Cdn seam on one CloudFront distribution (in the documents account, as the role)."""

    def __init__(self, client: Any, distribution_id: str, prefix: str, limits: CdnLimits, sleep: Sleep = time.sleep):
        self._client = client
        self._id = distribution_id
        self._prefix = prefix
        self._limits = limits
        self._sleep = sleep

    @property
    def name(self) -> str:
        return f"CloudFront distribution {self._id}"

    @property
    def distribution_id(self) -> str:
        """The distribution's id."""
        return self._id

    def paths(self, rels: Iterable[str], pending: Iterable[str] = ()) -> list[str]:
        return plan_invalidation(self._prefix, rels, self._limits.max_paths, pending)

    def invalidate(self, paths: Sequence[str], salt: str) -> list[str]:
        return invalidate(self._client, self._id, paths, salt=salt, sleep=self._sleep).ids

    def wait(self, ids: Sequence[str]) -> bool:
        def status(inv_id: str) -> str:
            try:
                resp = self._client.get_invalidation(DistributionId=self._id, Id=inv_id)
            except (ClientError, BotoCoreError) as exc:
                raise invalidation_failed(exc, self._id) from exc
            return str(resp["Invalidation"].get("Status", ""))

        return poll_until_completed(
            status,
            ids,
            timeout=self._limits.timeout,
            interval=self._limits.interval,
            sleep=self._sleep,
            clock=time.monotonic,
        )


@dataclass(frozen=True)
class CdnLimits:
    """How many paths before one wildcard, and how long invalidation_wait waits."""

    max_paths: int
    timeout: float
    interval: float = 10.0
