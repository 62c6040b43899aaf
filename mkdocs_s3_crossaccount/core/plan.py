"""Planning (pure): local inventory + remote listing + manifest -> what to upload, re-header, delete, keep.

Order is part of the plan: assets first, then HTML pages, then the files that point
at pages (sitemap, search index), then in-place header updates, then deletes, so a reader
never gets a page whose assets are not there yet, nor a search hit for a page not yet uploaded.

With a manifest (see manifest.py) a file is compared by its source MD5 and header
fingerprint, and the object's ETag is checked against the one recorded after our last write
(so a change made in the bucket by someone else is repaired). Without one, the object's
ETag is compared with the ETag our upload would give, and headers are re-applied, since
nobody recorded them. Only objects the manifest lists are deletion candidates, unless
``delete_unmanaged``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.globs import matches
from mkdocs_s3_crossaccount.core.headers import Body
from mkdocs_s3_crossaccount.core.inventory import LocalFile
from mkdocs_s3_crossaccount.core.manifest import Entry, Manifest
from mkdocs_s3_crossaccount.core.model import RemoteObject

# Below this many deletes the share guard does not apply: removing 3 of 5 pages of a
# small site is normal editing, not a wiped build.
SHARE_GUARD_MIN = 10
# CopyObject copies at most 5 GB in one request; bigger objects are uploaded again instead.
COPY_MAX = 5 * 1024**3


class Phase(enum.IntEnum):
    """Upload phases, in publishing order."""

    ASSETS = 0
    PAGES = 1
    INDEXES = 2


# Deletes run in this order: stale pages go first (so no live page still uses an asset that is
# about to go), then the files that point at pages, then the assets nothing uses any more.
DELETE_ORDER = (Phase.PAGES, Phase.INDEXES, Phase.ASSETS)


class Reason(enum.Enum):
    """Why a file is uploaded or its headers updated."""

    NEW = "new"
    CHANGED = "content changed"
    HEADERS = "headers changed"
    HEADERS_UNKNOWN = "headers not recorded"
    REMOTE_CHANGED = "changed in the bucket"
    FORCED = "forced"

    def __str__(self) -> str:
        return self.value


_INDEX_NAMES = ("sitemap.xml", "sitemap.xml.gz", "search/search_index.json")


def phase_of(rel: str) -> Phase:
    """The phase a site path is uploaded in."""
    if any(rel == n or rel.endswith("/" + n) for n in _INDEX_NAMES):
        return Phase.INDEXES
    if rel.lower().endswith((".html", ".htm")):
        return Phase.PAGES
    return Phase.ASSETS


@dataclass(frozen=True, slots=True)
class Upload:
    """One planned write and its reason."""

    file: LocalFile
    reason: Reason

    @property
    def phase(self) -> Phase:
        """The phase this upload belongs to."""
        return phase_of(self.file.rel)


@dataclass(frozen=True)
class Plan:
    """What a publish will do, in order, and why."""

    uploads: list[Upload]
    deletes: list[RemoteObject]
    unchanged: list[LocalFile]
    # Set when deletes are needed but a guard refuses them; the publish then stops
    # before it changes anything.
    refusal: str | None = None
    remote_count: int = 0
    local_count: int = field(default=0)
    # objects whose bytes stay and whose headers are replaced in place (CopyObject onto itself)
    copies: list[Upload] = field(default_factory=list)
    # objects that left the site but stay (retain_deploys, keep); rel -> manifest entry
    retained: dict[str, Entry] = field(default_factory=dict)
    unmanaged_left: int = 0  # objects under the prefix not in the manifest, left alone
    deploy: int = 1  # number of this deploy (the manifest's previous number + 1)
    remote: dict[str, RemoteObject] = field(default_factory=dict)

    @property
    def upload_bytes(self) -> int:
        """Bytes the uploads send."""
        return sum(u.file.upload_size for u in self.uploads)

    @property
    def changes(self) -> bool:
        """Whether the plan writes or deletes anything."""
        return bool(self.uploads or self.deletes or self.copies)

    def changed_rels(self) -> list[str]:
        """Every site path whose object this plan writes or deletes (for CDN invalidation)."""
        written = {u.file.rel for u in [*self.uploads, *self.copies]}
        return sorted(written | {d.rel for d in self.deletes})

    def delete_phases(self) -> list[list[RemoteObject]]:
        """Deletes grouped by phase, in deleting order (DELETE_ORDER; empty groups dropped)."""
        groups: dict[Phase, list[RemoteObject]] = {}
        for d in self.deletes:
            groups.setdefault(phase_of(d.rel), []).append(d)
        return [groups[p] for p in DELETE_ORDER if p in groups]

    def phases(self) -> list[list[Upload]]:
        """Uploads grouped by phase, in publishing order (empty phases dropped)."""
        groups: dict[Phase, list[Upload]] = {}
        for u in self.uploads:
            groups.setdefault(u.phase, []).append(u)
        return [groups[p] for p in sorted(groups)]


def _same(local: LocalFile, remote: RemoteObject) -> bool:
    """The remote object holds exactly the bytes we would upload.

    Its ETag is the one S3 gives our upload (MD5, or MD5-of-parts for a multipart upload);
    S3-compatible stores that answer a plain MD5 for multipart objects (rclone, MinIO with
    some settings) match the file's MD5 instead.
    """
    if local.upload_size != remote.size:
        return False
    return remote.etag == local.etag or (local.body == Body.IDENTITY and remote.etag == local.md5)


def compare(f: LocalFile, r: RemoteObject | None, e: Entry | None, force: bool = False) -> tuple[str, Reason | None]:
    """One file's fate: ('upload'|'copy'|'keep', reason)."""
    if r is None:
        return "upload", Reason.NEW
    if force:
        return "upload", Reason.FORCED
    if e is not None and e.md5 is not None and e.headers is not None:
        if e.etag is not None and e.etag != r.etag and not _same(f, r):
            return "upload", Reason.REMOTE_CHANGED
        if e.md5 != f.md5:
            return "upload", Reason.CHANGED
        if e.body != f.body:  # e.g. gzip switched on: same file, other bytes
            return "upload", Reason.HEADERS
        if e.headers != f.header_fp:
            return ("copy" if r.size <= COPY_MAX else "upload"), Reason.HEADERS
        return "keep", None
    if _same(f, r):
        return ("copy" if r.size <= COPY_MAX else "upload"), Reason.HEADERS_UNKNOWN
    return "upload", Reason.CHANGED


@dataclass(frozen=True)
class PlanRules:
    """The options that shape a plan (defaults as in Settings)."""

    delete: bool = True
    max_deletes: int = 500
    max_delete_share: float = 0.5
    delete_unmanaged: bool = False
    keep: tuple[str, ...] = ()
    retain_deploys: int = 0
    force: bool = False


def make_plan(
    local: Iterable[LocalFile],
    remote: Mapping[str, RemoteObject],
    manifest: Manifest | None = None,
    rules: PlanRules | None = None,
    nested: Iterable[str] = (),
) -> Plan:
    """Plan a publish. Without a manifest, nothing is a deletion candidate unless ``rules.delete_unmanaged``.

    ``nested``: folders below the prefix (``"v2/"``) that another publisher owns; their objects
    are deletion candidates only if this publisher's manifest lists them (never by ``delete_unmanaged``).
    """
    nested = tuple(nested)
    rules = rules or PlanRules()
    delete, max_deletes, max_delete_share = rules.delete, rules.max_deletes, rules.max_delete_share
    delete_unmanaged, retain_deploys, force = rules.delete_unmanaged, rules.retain_deploys, rules.force
    local = list(local)
    entries: Mapping[str, Entry] = manifest.objects if manifest else {}
    deploy = (manifest.number if manifest else 0) + 1
    uploads: list[Upload] = []
    copies: list[Upload] = []
    unchanged: list[LocalFile] = []
    for f in local:
        action, reason = compare(f, remote.get(f.rel), entries.get(f.rel), force)
        if action == "keep" or reason is None:
            unchanged.append(f)
        elif action == "copy":
            copies.append(Upload(f, reason))
        else:
            uploads.append(Upload(f, reason))
    uploads.sort(key=lambda u: (u.phase, u.file.key))
    copies.sort(key=lambda u: (u.phase, u.file.key))

    present = {f.rel for f in local}
    keep = rules.keep
    stale: list[RemoteObject] = []
    retained: dict[str, Entry] = {}
    unmanaged = 0
    managed = 0  # objects under the prefix this publisher manages: the share guard's denominator
    for rel in sorted(remote):
        foreign = any(rel.startswith(n) for n in nested)
        if rel in entries or (delete_unmanaged and not foreign):
            managed += 1
        if rel in present:
            continue
        r = remote[rel]
        entry = entries.get(rel)
        if entry is None and (not delete_unmanaged or foreign):
            unmanaged += 1
            continue
        removed_at = entry.removed_at_deploy if entry and entry.removed_at_deploy is not None else deploy
        kept = Entry(
            md5=entry.md5 if entry else None,
            etag=r.etag,
            size=r.size,
            headers=entry.headers if entry else None,
            body=entry.body if entry else "identity",
            removed_at_deploy=removed_at,
        )
        if any(matches(rel, g) for g in keep) or not delete or deploy - removed_at < retain_deploys:
            retained[rel] = kept
        else:
            stale.append(r)
    stale.sort(key=lambda r: (DELETE_ORDER.index(phase_of(r.rel)), r.key))
    refusal = delete_refusal(len(stale), managed, max_deletes, max_delete_share)
    return Plan(
        uploads,
        stale,
        unchanged,
        refusal,
        len(remote),
        len(local),
        copies=copies,
        retained=retained,
        unmanaged_left=unmanaged,
        deploy=deploy,
        remote=dict(remote),
    )


def manifest_objects(
    plan: Plan,
    written: Mapping[str, str],
    manifest: Manifest | None,
    version_ids: Mapping[str, str] | None = None,
) -> dict[str, Entry]:
    """The manifest's objects after ``plan`` was applied. ``written``: key -> ETag S3 returned;
    ``version_ids``: key -> VersionId S3 returned (bucket versioning on)."""
    old: Mapping[str, Entry] = manifest.objects if manifest else {}
    out: dict[str, Entry] = dict(plan.retained)
    for rel, kept in plan.retained.items():
        prev_kept = old.get(rel)
        if prev_kept is not None and kept.version_id is None and prev_kept.version_id is not None:
            out[rel] = replace(kept, version_id=prev_kept.version_id, redirect=prev_kept.redirect)
    vids = version_ids or {}

    def entry(f: LocalFile, etag: str | None, version_id: str | None) -> Entry:
        return Entry(
            md5=f.md5,
            etag=etag,
            size=f.upload_size,
            headers=f.header_fp,
            body=f.body,
            version_id=version_id,
            redirect=f.redirect,
        )

    for f in plan.unchanged:
        prev = old.get(f.rel)
        r = plan.remote.get(f.rel)
        out[f.rel] = entry(f, r.etag if r else (prev.etag if prev else None), prev.version_id if prev else None)
    for u in [*plan.uploads, *plan.copies]:
        etag = written.get(u.file.key)
        if etag is None and not any(k == "SSEKMSKeyId" for k, _ in u.file.headers):
            etag = u.file.etag  # what S3 gives a plain upload of these bytes
        out[u.file.rel] = entry(u.file, etag, vids.get(u.file.key))
    return out


def delete_refusal(n_deletes: int, n_managed: int, max_deletes: int, max_delete_share: float) -> str | None:
    """Why the guard refuses ``n_deletes`` of ``n_managed`` objects, or None if it allows them.

    ``n_managed``: the objects under the prefix this publisher manages (listed in its manifest;
    with ``delete_unmanaged``, every object under the prefix). Objects of others beside them
    do not dilute the share.
    """
    if n_deletes == 0:
        return None
    if n_deletes > max_deletes:
        return (
            f"{n_deletes} stale objects would be deleted, more than max_deletes ({max_deletes}). "
            f"Nothing was changed. If this is intended, set max_deletes: {n_deletes} (or more) for this "
            "publish, or delete: false to publish without deleting."
        )
    share = n_deletes / n_managed if n_managed else 1.0
    if n_deletes > SHARE_GUARD_MIN and share > max_delete_share:
        return (
            f"{n_deletes} of the {n_managed} objects this publisher manages under the prefix ({share:.0%}) "
            "would be deleted, more than "
            f"max_delete_share ({max_delete_share:.0%}). Nothing was changed. Check that site_dir and prefix "
            f"are right; if this is intended, set max_delete_share: {min(1.0, round(share + 0.005, 2))} "
            "(or 1 to turn the share guard off), or delete: false."
        )
    return None


# Top-level names that make a folder a project, not a built site (publishing it would upload
# the project's secrets and history).
PROJECT_MARKERS = ("mkdocs.yml", "mkdocs.yaml", ".env", ".git")


def project_markers(local: Iterable[LocalFile]) -> list[str]:
    """The project markers at the top of the site (``.git`` as a folder or a file), sorted."""
    found = set()
    for f in local:
        top = f.rel.split("/", 1)[0]
        if top in PROJECT_MARKERS and (f.rel == top or top == ".git"):
            found.add(top + "/" if f.rel != top else top)
    return sorted(found)


def check_site(local: list[LocalFile], delete: bool, site_dir: str, allow_project_dir: bool = False) -> None:
    """Refuse to publish a site that looks broken or like a project folder, before anything is changed."""
    markers = [] if allow_project_dir else project_markers(local)
    if markers:
        raise PublishError(
            f"The site dir {site_dir!r} looks like a project folder, not a built site: it holds "
            f"{', '.join(markers)}. Refusing to publish it (with or without delete), since that would upload "
            "the project's configuration, secrets and history. Nothing was changed.",
            "Point site_dir / SITE_DIR at the built site (`mkdocs build` writes it to site/), or, if this folder "
            "really is what should be public, set allow_project_dir: true (--allow-project-dir).",
        )
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
