"""Planning (pure): local inventory + remote listing -> what to upload, delete, keep.

Order is part of the plan: assets first, then HTML pages, then the files that point
at pages (sitemap, search index), then deletes, so a reader never gets a page whose
assets are not there yet, nor a search hit for a page not yet uploaded.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .errors import PublishError
from .inventory import LocalFile
from .remote import RemoteObject

# Below this many deletes the share guard does not apply: removing 3 of 5 pages of a
# small site is normal editing, not a wiped build.
SHARE_GUARD_MIN = 10


class Phase(enum.IntEnum):
    ASSETS = 0
    PAGES = 1
    INDEXES = 2


class Reason(enum.Enum):
    NEW = "new"
    CHANGED = "content changed"

    def __str__(self) -> str:
        return self.value


_INDEX_NAMES = ("sitemap.xml", "sitemap.xml.gz", "search/search_index.json")


def phase_of(rel: str) -> Phase:
    if any(rel == n or rel.endswith("/" + n) for n in _INDEX_NAMES):
        return Phase.INDEXES
    if rel.lower().endswith((".html", ".htm")):
        return Phase.PAGES
    return Phase.ASSETS


@dataclass(frozen=True)
class Upload:
    file: LocalFile
    reason: Reason

    @property
    def phase(self) -> Phase:
        return phase_of(self.file.rel)


@dataclass(frozen=True)
class Plan:
    uploads: list[Upload]
    deletes: list[RemoteObject]
    unchanged: list[LocalFile]
    # Set when deletes are needed but a guard refuses them; the publish then stops
    # before it changes anything.
    refusal: str | None = None
    remote_count: int = 0
    local_count: int = field(default=0)

    @property
    def upload_bytes(self) -> int:
        return sum(u.file.size for u in self.uploads)

    @property
    def changes(self) -> bool:
        return bool(self.uploads or self.deletes)

    def phases(self) -> list[list[Upload]]:
        """Uploads grouped by phase, in publishing order (empty phases dropped)."""
        groups: dict[Phase, list[Upload]] = {}
        for u in self.uploads:
            groups.setdefault(u.phase, []).append(u)
        return [groups[p] for p in sorted(groups)]


def _same(local: LocalFile, remote: RemoteObject) -> bool:
    return local.size == remote.size and local.etag == remote.etag


def make_plan(
    local: Iterable[LocalFile],
    remote: Mapping[str, RemoteObject],
    *,
    delete: bool = True,
    max_deletes: int = 500,
    max_delete_share: float = 0.5,
) -> Plan:
    local = list(local)
    uploads: list[Upload] = []
    unchanged: list[LocalFile] = []
    for f in local:
        r = remote.get(f.rel)
        if r is None:
            uploads.append(Upload(f, Reason.NEW))
        elif _same(f, r):
            unchanged.append(f)
        else:
            uploads.append(Upload(f, Reason.CHANGED))
    uploads.sort(key=lambda u: (u.phase, u.file.key))

    present = {f.rel for f in local}
    stale = sorted((r for rel, r in remote.items() if rel not in present), key=lambda r: r.key) if delete else []
    refusal = delete_refusal(len(stale), len(remote), max_deletes, max_delete_share)
    return Plan(uploads, stale, unchanged, refusal, len(remote), len(local))


def delete_refusal(n_deletes: int, n_remote: int, max_deletes: int, max_delete_share: float) -> str | None:
    """Why the guard refuses ``n_deletes`` of ``n_remote`` objects, or None if it allows them."""
    if n_deletes == 0:
        return None
    if n_deletes > max_deletes:
        return (
            f"{n_deletes} stale objects would be deleted, more than max_deletes ({max_deletes}). "
            f"Nothing was changed. If this is intended, set max_deletes: {n_deletes} (or more) for this "
            "publish, or delete: false to publish without deleting."
        )
    share = n_deletes / n_remote if n_remote else 0.0
    if n_deletes > SHARE_GUARD_MIN and share > max_delete_share:
        return (
            f"{n_deletes} of {n_remote} remote objects ({share:.0%}) would be deleted, more than "
            f"max_delete_share ({max_delete_share:.0%}). Nothing was changed. Check that site_dir and prefix "
            f"are right; if this is intended, set max_delete_share: {min(1.0, round(share + 0.005, 2))} "
            "(or 1 to turn the share guard off), or delete: false."
        )
    return None


def check_site(local: list[LocalFile], delete: bool, site_dir: str) -> None:
    """Refuse to publish a site that looks broken, before anything is changed."""
    if not local:
        raise PublishError(
            f"The site dir {site_dir!r} is empty; refusing to publish (with delete on, this would wipe the prefix).",
            "Build the site first (`mkdocs build`) and check site_dir.",
        )
    if delete and not any(f.rel == "index.html" for f in local):
        raise PublishError(
            f"The site dir {site_dir!r} has no index.html at its top; refusing to publish with delete on, "
            "since a partial or wrong folder would delete the live site. Nothing was changed.",
            "Point site_dir / SITE_DIR at the built site's root, or set delete: false (--no-delete) to "
            "upload without deleting.",
        )
