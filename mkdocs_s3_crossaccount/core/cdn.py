"""The CDN seam: which paths a publish makes stale, and asking the CDN to forget them.

``aws.cloudfront.CloudFrontCdn`` is the one implementation today; a second CDN is one module
implementing ``Cdn``. The engine only calls ``paths`` (pure, also for dry runs),
``invalidate`` and ``wait``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mkdocs_s3_crossaccount.core.errors import PublishError


class Cdn(Protocol):
    """A cache in front of the bucket."""

    @property
    def name(self) -> str:
        """For messages, e.g. 'CloudFront distribution E2ABC...'."""
        ...

    def paths(self, rels: Iterable[str], pending: Iterable[str] = ()) -> list[str]:
        """The paths to invalidate for these changed site paths (plus ones left pending)."""
        ...

    def invalidate(self, paths: Sequence[str], salt: str) -> list[str]:
        """Create the invalidation(s); returns their ids. Raises PublishError."""
        ...

    def wait(self, ids: Sequence[str]) -> bool:
        """Wait until every invalidation completed (True) or the configured timeout passed (False)."""
        ...


@dataclass
class CdnOutcome:
    """What the CDN stage did: the paths, the invalidation ids, and a failure kept for after the reports."""

    paths: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    error: PublishError | None = None  # the invalidation failed: its paths stay pending in the manifest
    timed_out: PublishError | None = None  # invalidation_wait gave up

    @property
    def pending(self) -> tuple[str, ...]:
        """Paths the next publish must invalidate again."""
        return tuple(self.paths) if self.error else ()

    @property
    def failure(self) -> PublishError | None:
        """The error to raise after the reports, if any."""
        return self.error or self.timed_out


@dataclass(frozen=True)
class SubfolderCdn:
    """A CDN seen from a folder under its prefix (a version's folder): site paths are made relative to the root."""

    cdn: Cdn
    folder: str

    @property
    def name(self) -> str:
        return self.cdn.name

    def paths(self, rels: Iterable[str], pending: Iterable[str] = ()) -> list[str]:
        return self.cdn.paths([f"{self.folder}/{rel}" for rel in rels], pending)

    def invalidate(self, paths: Sequence[str], salt: str) -> list[str]:
        return self.cdn.invalidate(paths, salt)

    def wait(self, ids: Sequence[str]) -> bool:
        return self.cdn.wait(ids)
