"""Rollback: restore a prefix to an earlier deploy by server-side copies of the object versions it recorded.

With bucket versioning on, every manifest (and so every deploy record) names each object's
VersionId. Restoring deploy N copies, for each object of N whose live version differs, that
version onto its key (CopyObject with ``VersionId``: no bytes leave S3, the headers come
with the version), in the publishing order (assets, pages, indexes), then deletes the objects
later deploys added (only those a manifest owns, within the delete guards), then writes a new
manifest and deploy record (``rollback_of: N``). Without versioning it refuses with the command
that turns it on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from mkdocs_s3_crossaccount.core.destination import CopyItem, Destination
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.history import read_records
from mkdocs_s3_crossaccount.core.manifest import Entry, Manifest
from mkdocs_s3_crossaccount.core.manifest_store import Listing, read_listing
from mkdocs_s3_crossaccount.core.model import RemoteObject
from mkdocs_s3_crossaccount.core.plan import delete_refusal, phase_of


@dataclass
class RollbackPlan:
    """What restoring deploy ``target`` does."""

    target: Manifest
    live: Manifest | None
    copies: list[tuple[str, Entry]] = field(default_factory=list)  # rel, the entry to restore (in order)
    deletes: list[RemoteObject] = field(default_factory=list)
    unchanged: int = 0
    refusal: str | None = None

    def lines(self, url: str) -> list[str]:
        """The plan, one line per object (``url``: the destination, s3://bucket/prefix/)."""
        out = [f"(dryrun) restore: {url}{rel} (version {e.version_id})" for rel, e in self.copies]
        out += [f"(dryrun) delete: {url}{d.rel}" for d in self.deletes]
        return out

    def changed_rels(self) -> list[str]:
        """The site paths the rollback writes or deletes (for the CDN)."""
        return sorted({rel for rel, _ in self.copies} | {d.rel for d in self.deletes})


def require_versioning(dest: Destination) -> None:
    """Refuse unless the bucket keeps object versions (naming the command that turns it on)."""
    status = dest.versioning()
    if status == "Enabled":
        return
    state = "suspended" if status == "Suspended" else "not enabled"
    raise PublishError(
        f"Cannot roll back {dest.url}: versioning is {state} on bucket {dest.bucket}, so the earlier "
        "objects were not kept. Nothing was changed.",
        f"Turn it on (in account {dest.owner}): aws s3api put-bucket-versioning --bucket {dest.bucket} "
        f"--versioning-configuration Status=Enabled --expected-bucket-owner {dest.owner} ; deploys from then "
        "on can be rolled back (add a lifecycle rule expiring noncurrent versions to bound the storage).",
    )


def choose_target(records: list[Manifest], live: Manifest | None, deploy_id: int | None, where: str) -> Manifest:
    """The record to restore: ``deploy_id``, or the one before the live deploy."""
    if not records:
        raise PublishError(f"No deploy records under {where}: there is nothing to roll back to.")
    if deploy_id is not None:
        found = next((r for r in records if r.number == deploy_id), None)
        if found is None:
            raise PublishError(
                f"No deploy #{deploy_id} under {where}; kept: {', '.join(str(r.number) for r in records)}.",
                "Run `mkdocs-s3-crossaccount history` to see the deploys (history_limit bounds how many are kept).",
            )
        return found
    live_number = live.number if live else records[0].number
    earlier = [r for r in records if r.number < live_number]
    if not earlier:
        raise PublishError(f"Deploy #{live_number} under {where} is the oldest one kept: nothing earlier to restore.")
    return earlier[0]


def plan_rollback(
    target: Manifest, listing: Listing, max_deletes: int, max_delete_share: float, live_ids: Mapping[str, str]
) -> RollbackPlan:
    """Copies of the target's versions that differ from what is live; deletes of owned objects it lacks."""
    plan = RollbackPlan(target, listing.manifest)
    missing = sorted(rel for rel, e in target.objects.items() if not e.version_id)
    if missing:
        plan.refusal = (
            f"Deploy #{target.number} did not record the VersionIds of {len(missing)} objects (e.g. {missing[0]}): "
            "it was published before bucket versioning was on, so it cannot be restored."
        )
        return plan
    for rel in sorted(target.objects, key=lambda r: (phase_of(r), r)):
        entry = target.objects[rel]
        if rel in listing.remote and live_ids.get(rel) == entry.version_id:
            plan.unchanged += 1
        else:
            plan.copies.append((rel, entry))
    owned = set(listing.manifest.objects) if listing.manifest else set()
    plan.deletes = [r for rel, r in sorted(listing.remote.items()) if rel not in target.objects and rel in owned]
    plan.refusal = delete_refusal(len(plan.deletes), len(listing.remote), max_deletes, max_delete_share)
    return plan


@dataclass(frozen=True)
class RollbackRules:
    """Which deploy to restore, the delete guards and the encryption (as in Settings)."""

    deploy_id: int | None = None
    max_deletes: int = 500
    max_delete_share: float = 0.5
    kms_key_arn: str | None = None


def prepare(dest: Destination, rules: RollbackRules) -> RollbackPlan:
    """Check versioning, pick the record, plan (nothing is changed)."""
    require_versioning(dest)
    listing = read_listing(dest)
    target = choose_target(read_records(dest), listing.manifest, rules.deploy_id, dest.url)
    live_ids = {rel: e.version_id for rel, e in (listing.manifest.objects if listing.manifest else {}).items()}
    ids = {rel: vid for rel, vid in live_ids.items() if vid}
    return plan_rollback(target, listing, rules.max_deletes, rules.max_delete_share, ids)


def apply_rollback(dest: Destination, plan: RollbackPlan, rules: RollbackRules) -> dict[str, Entry]:
    """Copies phase by phase, then deletes; returns the manifest objects now live."""
    if plan.refusal:
        raise PublishError(plan.refusal + " Nothing was changed.")
    sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": rules.kms_key_arn} if rules.kms_key_arn else {}
    objects = {rel: e for rel, e in plan.target.objects.items()}
    done = 0
    for phase in sorted({phase_of(rel) for rel, _ in plan.copies}):
        items = [
            CopyItem(
                dest.key(rel),
                dest.key(rel),
                e.version_id,
                {**sse, **({"WebsiteRedirectLocation": e.redirect} if e.redirect else {})},
            )
            for rel, e in plan.copies
            if phase_of(rel) == phase
        ]
        copied = dest.copy_many(items)
        for rel, e in plan.copies:
            key = dest.key(rel)
            if key in copied.etags:
                objects[rel] = replace(e, etag=copied.etags[key] or e.etag, version_id=copied.version_ids.get(key))
        done += len(copied.keys)
        if copied.error is not None:
            raise PublishError(
                f"Rollback to deploy #{plan.target.number}: {copied.error.message} {done} of {len(plan.copies)} "
                "objects had been restored; nothing was deleted. Run the rollback again to finish it.",
                copied.error.fix,
            )
    if plan.deletes:
        gone = dest.delete_many(plan.deletes)
        if gone.error is not None:
            raise PublishError(f"Rollback to deploy #{plan.target.number}: {gone.error.message}", gone.error.fix)
    return objects
