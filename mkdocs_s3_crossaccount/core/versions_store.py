"""Versioned docs in the bucket, through the Destination seam: versions.json, the root redirect, aliases.

Every function here takes the destination of the *root* prefix (where versions.json lives) and
reaches a version's or an alias's folder with ``dest.at(...)``. The caller holds the root lock.

An alias folder is moved by server-side copies of the version's objects (``copy_many``: no bytes
sent), in the publishing order (assets, pages, indexes), then the alias's stale objects are
deleted, then its manifest (the version's entries with the copies' ETags) is written, so the next
move copies only what differs. The root keeps a small state object naming the default version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from mkdocs_s3_crossaccount.core.cdn import Cdn
from mkdocs_s3_crossaccount.core.destination import CopyItem, Destination
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.headers import fingerprint
from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR, to_key
from mkdocs_s3_crossaccount.core.manifest import GENERATOR, Entry, Manifest, serialise
from mkdocs_s3_crossaccount.core.manifest_store import read_listing, save_manifest
from mkdocs_s3_crossaccount.core.plan import delete_refusal, phase_of
from mkdocs_s3_crossaccount.core.versions import (
    REDIRECT_HEADERS,
    ROOT_INDEX_REL,
    VERSIONS_HEADERS,
    VERSIONS_REL,
    Versions,
    VersionsError,
    alias_redirect_target,
    is_page,
    parse,
    plan_alias,
    redirect_page,
)

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

STATE_REL = INTERNAL_DIR + "versions.json"  # our own state: which version the root redirects to


@dataclass(frozen=True)
class VersionsState:
    """The versions of a root prefix and the default the root redirects to."""

    versions: Versions = field(default_factory=Versions)
    default: str | None = None


def sub(dest: Destination, name: str) -> Destination:
    """The destination of a version's or an alias's folder under the root prefix."""
    return dest.at(to_key(dest.prefix, name))


def read_state(dest: Destination) -> VersionsState:
    """versions.json (mike's, or ours) and the recorded default; empty when there is none yet."""
    fetched = dest.get(VERSIONS_REL)
    versions = Versions()
    if fetched is not None:
        try:
            versions = parse(fetched.body)
        except VersionsError as exc:
            raise PublishError(
                f"s3://{dest.bucket}/{dest.key(VERSIONS_REL)} cannot be read: {exc}.",
                "Fix or delete that object (it lists the versions; each version folder is intact).",
            ) from exc
    default = None
    state = dest.get(STATE_REL)
    if state is not None:
        try:
            doc = json.loads(state.body.decode("utf-8"))
            default = doc.get("default_version") if isinstance(doc, dict) else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning(
                "Ignoring the unreadable %s; the root redirect is rewritten if default_version is set.", STATE_REL
            )
    return VersionsState(versions, default if isinstance(default, str) else None)


def versions_changed(before: VersionsState, after: VersionsState) -> bool:
    """Whether versions.json or the default differ (then they are written)."""
    return before.versions.dumps() != after.versions.dumps() or before.default != after.default


def write_state(dest: Destination, after: VersionsState, redirects: bool, kms_key_arn: str | None = None) -> list[str]:
    """Write versions.json, the root redirect (if there is a default) and our state; returns the rels written."""
    sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_arn} if kms_key_arn else {}
    dest.put(VERSIONS_REL, after.versions.dumps(), {**VERSIONS_HEADERS, **sse})
    written = [VERSIONS_REL]
    if after.default:
        headers = {**REDIRECT_HEADERS, **sse}
        if redirects:
            headers["WebsiteRedirectLocation"] = "/" + to_key(dest.prefix, after.default + "/")
        dest.put(ROOT_INDEX_REL, redirect_page(f"{after.default}/"), headers)
        written.append(ROOT_INDEX_REL)
    doc = {"generator": GENERATOR, "default_version": after.default}
    dest.put(STATE_REL, (json.dumps(doc, indent=2) + "\n").encode(), {"ContentType": "application/json", **sse})
    return written


def with_default(state: VersionsState, versions: Versions, default: str | None) -> VersionsState:
    """The new state: ``default`` (kept as it was when None) must name a version or an alias."""
    chosen = state.default if default is None else default
    if chosen is not None and versions.resolve(chosen) is None:
        if default is None:
            log.warning("The default version %r is gone; the root redirect now points nowhere.", chosen)
        else:
            raise PublishError(
                f"default_version {chosen!r} is neither a version nor an alias "
                f"(versions: {', '.join(versions.names()) or 'none'}).",
                "Set default_version to one of them (or to an alias such as latest), or publish that version first.",
            )
    return VersionsState(versions, chosen)


# --- aliases ----------------------------------------------------------------------------


@dataclass
class AliasMove:
    """What moving one alias did (or would do)."""

    alias: str
    version: str
    copied: list[str] = field(default_factory=list)  # rels under the alias folder
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0

    def line(self) -> str:
        """One line saying what the move did."""
        return (
            f"alias {self.alias} -> {self.version}: {len(self.copied)} copied server-side, "
            f"{len(self.deleted)} deleted, {self.unchanged} unchanged"
        )


@dataclass(frozen=True)
class AliasRules:
    """The delete guards and encryption of an alias move (as in Settings)."""

    max_deletes: int = 500
    max_delete_share: float = 0.5
    kms_key_arn: str | None = None
    dry_run: bool = False
    alias_type: str = "copy"  # or "redirect": pages sending readers to the version
    redirects: bool = False  # with redirect aliases, also WebsiteRedirectLocation (S3 website 301s)


def _fingerprints(objects: Mapping[str, Entry]) -> dict[str, tuple[str | None, str | None, str | None]]:
    return {rel: (e.md5, e.headers, e.redirect) for rel, e in objects.items() if e.removed_at_deploy is None}


def copy_alias(dest: Destination, version: str, alias: str, rules: AliasRules) -> AliasMove:
    """Make ``<alias>/`` a server-side copy of ``<version>/``: copy what differs, delete what the version lacks.

    With ``alias_type: redirect`` the alias folder holds redirect pages instead (``redirect_alias``).
    """
    if rules.alias_type == "redirect":
        return redirect_alias(dest, version, alias, rules)
    source = sub(dest, version)
    target = sub(dest, alias)
    vlisting = read_listing(source)
    if vlisting.manifest is None and rules.dry_run:
        return AliasMove(alias, version)  # the version is not there yet: the real publish will copy all of it
    if vlisting.manifest is None:
        raise PublishError(
            f"Version {version!r} has no deploy manifest under s3://{dest.bucket}/{source.key('')}; "
            "its objects cannot be copied to an alias.",
            f"Publish version {version} with this publisher first.",
        )
    alisting = read_listing(target)
    version_objects = {rel: e for rel, e in vlisting.manifest.objects.items() if e.removed_at_deploy is None}
    owned = alisting.manifest.objects if alisting.manifest else {}
    listed = {rel: r.etag for rel, r in alisting.remote.items()}
    plan = plan_alias(_fingerprints(version_objects), _fingerprints(owned), listed)
    # only what an earlier alias move wrote is deleted; objects put there otherwise stay
    deletes = [alisting.remote[rel] for rel in plan.deletes if rel in owned]
    move = AliasMove(alias, version, [c.rel for c in plan.copies], [d.rel for d in deletes], plan.unchanged)
    refusal = delete_refusal(len(deletes), len(alisting.remote), rules.max_deletes, rules.max_delete_share)
    if refusal:
        raise PublishError(f"Moving alias {alias!r} to {version!r}: {refusal}")
    if rules.dry_run or not (plan.copies or deletes):
        return move
    sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": rules.kms_key_arn} if rules.kms_key_arn else {}
    etags: dict[str, str] = {}
    version_ids: dict[str, str] = {}
    for phase in sorted({phase_of(c.rel) for c in plan.copies}):
        items = [
            CopyItem(
                target.key(c.rel),
                source.key(c.source_rel),
                None,
                {**sse, **({"WebsiteRedirectLocation": c.redirect} if c.redirect else {})},
            )
            for c in plan.copies
            if phase_of(c.rel) == phase
        ]
        done = target.copy_many(items)
        etags.update(done.etags)
        version_ids.update(done.version_ids)
        if done.error is not None:
            raise PublishError(
                f"Moving alias {alias!r} to {version!r}: {done.error.message} {len(etags)} of {len(plan.copies)} "
                "copies had finished; nothing was deleted.",
                done.error.fix,
            )
    if deletes:
        gone = target.delete_many(deletes)
        if gone.error is not None:
            raise PublishError(f"Moving alias {alias!r}: {gone.error.message}", gone.error.fix)
    objects: dict[str, Entry] = {}
    for rel, entry in version_objects.items():
        key = target.key(rel)
        if key in etags:
            objects[rel] = replace(entry, etag=etags[key], version_id=version_ids.get(key))
        else:
            prev = owned.get(rel)
            objects[rel] = replace(
                entry, etag=prev.etag if prev else entry.etag, version_id=prev.version_id if prev else None
            )
    deploy = {**dict(vlisting.manifest.deploy), "alias_of": version}
    save_manifest(target, serialise(Manifest(objects=objects, deploy=deploy)), rules.kms_key_arn)
    return move


def delete_folder(dest: Destination, name: str, rules: AliasRules) -> list[str]:
    """Delete a version's or alias's folder: the objects its manifest lists, then the manifest. Returns rels."""
    target = sub(dest, name)
    listing = read_listing(target)
    owned = listing.manifest.objects if listing.manifest else {}
    doomed = [r for rel, r in sorted(listing.remote.items()) if rel in owned]
    if len(doomed) > rules.max_deletes:
        raise PublishError(
            f"Deleting {name!r} would delete {len(doomed)} objects, more than max_deletes ({rules.max_deletes}). "
            "Nothing was changed.",
            f"If this is intended, pass --max-deletes {len(doomed)} (or more).",
        )
    left = len(listing.remote) - len(doomed)
    if left:
        log.info("Left %d object(s) under %s alone: no publish recorded them.", left, target.url)
    if rules.dry_run:
        return [r.rel for r in doomed]
    gone = target.delete_many(doomed)
    if gone.error is not None:
        raise PublishError(f"Deleting {name!r}: {gone.error.message}", gone.error.fix)
    bookkeeping = [r for rel, r in target.list().items() if rel.startswith(INTERNAL_DIR)]
    if bookkeeping:
        target.delete_many(bookkeeping)
    return [r.rel for r in doomed]


def invalidate_paths(cdn: Cdn | None, rels: Iterable[str], salt: str) -> list[str]:
    """Invalidate root-relative paths (alias folders, versions.json); a failure is logged, not raised."""
    if cdn is None:
        return []
    paths = cdn.paths(sorted(set(rels)))
    if not paths:
        return []
    try:
        return cdn.invalidate(paths, salt=salt)
    except PublishError as exc:
        log.warning("The CloudFront invalidation of %s failed: %s", ", ".join(paths), exc)
        return []


def alias_rels(move: AliasMove) -> list[str]:
    """The root-relative paths an alias move wrote or deleted (for the CDN)."""
    return [f"{move.alias}/{rel}" for rel in [*move.copied, *move.deleted]]


def names(values: Sequence[str]) -> str:
    """Names for a message ('none' when empty)."""
    return ", ".join(values) if values else "none"


# --- the `versions` verbs (mike's delete, alias, retitle, set-default) -------------------


@dataclass
class Changed:
    """What a versions verb changed: lines to print, and root-relative paths for the CDN."""

    lines: list[str] = field(default_factory=list)
    rels: list[str] = field(default_factory=list)
    state: VersionsState = field(default_factory=VersionsState)


def _known(state: VersionsState, identifier: str) -> str:
    found = state.versions.resolve(identifier)
    if found is None:
        raise PublishError(
            f"There is no version or alias {identifier!r} in versions.json "
            f"(versions: {names(state.versions.names())}).",
            "Run `mkdocs-s3-crossaccount versions list` to see them.",
        )
    return found


def delete_versions(dest: Destination, identifiers: Sequence[str], force: bool, rules: AliasRules) -> Changed:
    """Remove versions (their folders and their aliases' folders) or single aliases; refuse the default."""
    state = read_state(dest)
    versions = state.versions
    out = Changed()
    folders: list[str] = []
    for identifier in identifiers:
        _known(state, identifier)
        try:
            versions, removed = versions.remove(identifier)
        except VersionsError as exc:
            raise PublishError(str(exc)) from exc
        if isinstance(removed, str):
            folders.append(removed)
        else:
            folders += [removed.version, *removed.aliases]
    default = state.default
    if default is not None and versions.resolve(default) is None:
        if not force:
            raise PublishError(
                f"{default!r} is the default version (the root redirects to it); refusing to delete it. "
                "Nothing was changed.",
                "Set another default first (`versions set-default VERSION`), or pass --force.",
            )
        default = None
    for name in folders:
        gone = delete_folder(dest, name, rules)
        out.lines.append(f"{'(dryrun) ' if rules.dry_run else ''}deleted {name}/: {len(gone)} objects")
        out.rels += [f"{name}/{rel}" for rel in gone]
    out.state = VersionsState(versions, default)
    if not rules.dry_run:
        out.rels += write_state(dest, out.state, False, rules.kms_key_arn)
        if state.default and default is None:
            dest.delete(ROOT_INDEX_REL)
            out.lines.append(f"the root redirect to {state.default}/ was removed")
    out.lines.append(f"versions: {names(versions.names())}")
    return out


def alias_version(dest: Destination, identifier: str, aliases: Sequence[str], rules: AliasRules) -> Changed:
    """Point aliases at a version (copying it into their folders)."""
    state = read_state(dest)
    version = _known(state, identifier)
    try:
        versions = state.versions.alias(version, aliases)
    except VersionsError as exc:
        raise PublishError(str(exc)) from exc
    out = Changed(state=VersionsState(versions, state.default))
    for alias in aliases:
        move = copy_alias(dest, version, alias, rules)
        out.lines.append(("(dryrun) " if rules.dry_run else "") + move.line())
        out.rels += alias_rels(move)
    if not rules.dry_run:
        out.rels += write_state(dest, out.state, False, rules.kms_key_arn)
    return out


def retitle_version(dest: Destination, identifier: str, title: str, rules: AliasRules) -> Changed:
    """Change a version's title in versions.json (mike retitle)."""
    state = read_state(dest)
    version = _known(state, identifier)
    out = Changed(state=VersionsState(state.versions.retitle(version, title), state.default))
    out.lines.append(f"{'(dryrun) ' if rules.dry_run else ''}{version}: title {title!r}")
    if not rules.dry_run:
        out.rels += write_state(dest, out.state, False, rules.kms_key_arn)
    return out


def set_default(dest: Destination, identifier: str, redirects: bool, rules: AliasRules) -> Changed:
    """Point the root redirect at a version or alias (mike set-default)."""
    state = read_state(dest)
    _known(state, identifier)
    out = Changed(state=with_default(state, state.versions, identifier))
    out.lines.append(f"{'(dryrun) ' if rules.dry_run else ''}the root now redirects to {identifier}/")
    if not rules.dry_run:
        out.rels += write_state(dest, out.state, redirects, rules.kms_key_arn)
    return out


def redirect_alias(dest: Destination, version: str, alias: str, rules: AliasRules) -> AliasMove:
    """Make ``<alias>/`` pages that send readers to the same page of ``<version>/`` (path, query and anchor kept).

    One small page per HTML page of the version; with ``redirects`` each also carries
    WebsiteRedirectLocation, so the S3 website endpoint answers 301. Pages whose bytes and
    headers are already there are not written again; stale ones the alias's manifest owns are deleted.
    """
    source = sub(dest, version)
    target = sub(dest, alias)
    vlisting = read_listing(source)
    if vlisting.manifest is None:
        if rules.dry_run:
            return AliasMove(alias, version)
        raise PublishError(
            f"Version {version!r} has no deploy manifest under {source.url}; its pages are not known.",
            f"Publish version {version} with this publisher first.",
        )
    alisting = read_listing(target)
    owned = alisting.manifest.objects if alisting.manifest else {}
    sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": rules.kms_key_arn} if rules.kms_key_arn else {}
    wanted: dict[str, tuple[bytes, dict[str, str]]] = {}
    for rel, entry in vlisting.manifest.objects.items():
        if entry.removed_at_deploy is not None or not is_page(rel):
            continue
        headers = {**REDIRECT_HEADERS, **sse}
        if rules.redirects:
            headers["WebsiteRedirectLocation"] = "/" + source.key(page_path(rel))
        wanted[rel] = (redirect_page(alias_redirect_target(rel, version)), headers)
    objects: dict[str, Entry] = {}
    writes = []
    for rel, (page, headers) in sorted(wanted.items()):
        md5, fp = hashlib.md5(page).hexdigest(), fingerprint(headers)
        prev = owned.get(rel)
        if prev is not None and prev.md5 == md5 and prev.headers == fp and rel in alisting.remote:
            objects[rel] = prev
        else:
            writes.append(rel)
            objects[rel] = Entry(
                md5=md5, etag=None, size=len(page), headers=fp, redirect=headers.get("WebsiteRedirectLocation")
            )
    deletes = [r for rel, r in sorted(alisting.remote.items()) if rel in owned and rel not in wanted]
    move = AliasMove(alias, version, writes, [d.rel for d in deletes], len(wanted) - len(writes))
    refusal = delete_refusal(len(deletes), len(alisting.remote), rules.max_deletes, rules.max_delete_share)
    if refusal:
        raise PublishError(f"Moving alias {alias!r} to {version!r}: {refusal}")
    if rules.dry_run or not (writes or deletes):
        return move

    def put(rel: str) -> tuple[str, str]:
        page, headers = wanted[rel]
        return rel, target.put(rel, page, headers)

    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="s3xa-alias") as pool:
        for rel, etag in pool.map(put, writes):
            objects[rel] = replace(objects[rel], etag=etag)
    if deletes:
        gone = target.delete_many(deletes)
        if gone.error is not None:
            raise PublishError(f"Moving alias {alias!r}: {gone.error.message}", gone.error.fix)
    deploy = {**dict(vlisting.manifest.deploy), "alias_of": version, "alias_type": "redirect"}
    save_manifest(target, serialise(Manifest(objects=objects, deploy=deploy)), rules.kms_key_arn)
    return move


def page_path(rel: str) -> str:
    """The URL path of a page: ``guide/index.html`` -> ``guide/``."""
    if rel == "index.html" or rel.endswith("/index.html"):
        return rel[: -len("index.html")]
    return rel
