"""What a publish did, as data and as text (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .apply import human_bytes
from .plan import Plan


@dataclass
class PublishResult:
    destination: str  # s3://bucket/prefix/
    bucket: str
    prefix: str
    identity_arn: str
    account: str
    role_arn: str | None
    dry_run: bool
    plan: Plan
    uploaded: list[tuple[str, str, int]] = field(default_factory=list)  # (key, reason, size)
    deleted: list[str] = field(default_factory=list)
    seconds: float = 0.0
    role_sessions: int = 0  # role credentials fetched (1 + refreshes during the publish)
    copied: list[str] = field(default_factory=list)  # keys whose headers were replaced in place
    invalidation_paths: list[str] = field(default_factory=list)  # CloudFront paths (planned in a dry run)
    invalidation_ids: list[str] = field(default_factory=list)
    manifest_written: bool = False

    @property
    def uploaded_bytes(self) -> int:
        return sum(size for _, _, size in self.uploaded)

    @property
    def unchanged(self) -> int:
        return len(self.plan.unchanged)

    def summary(self) -> str:
        if self.dry_run:
            return (
                f"Dry run for {self.destination}: would upload {len(self.plan.uploads)} "
                f"({human_bytes(self.plan.upload_bytes)}), "
                + (f"would update headers of {len(self.plan.copies)}, " if self.plan.copies else "")
                + f"unchanged {self.unchanged}, would delete {len(self.plan.deletes)}"
                + (f", would invalidate {len(self.invalidation_paths)} path(s)" if self.invalidation_paths else "")
                + "; nothing was changed"
            )
        return (
            f"Published to {self.destination}: uploaded {len(self.uploaded)} ({human_bytes(self.uploaded_bytes)}), "
            + (f"headers updated {len(self.copied)}, " if self.copied else "")
            + f"unchanged {self.unchanged}, deleted {len(self.deleted)}"
            + (f", invalidated {len(self.invalidation_paths)} path(s)" if self.invalidation_ids else "")
            + f" in {self.seconds:.1f} s"
        )


def plan_lines(plan: Plan, bucket: str) -> list[str]:
    """One line per planned change, like `aws s3 sync --dryrun`."""
    lines = [f"(dryrun) upload: {u.file.rel} to s3://{bucket}/{u.file.key} ({u.reason})" for u in plan.uploads]
    lines += [f"(dryrun) update headers: s3://{bucket}/{u.file.key} ({u.reason})" for u in plan.copies]
    lines += [f"(dryrun) delete: s3://{bucket}/{d.key}" for d in plan.deletes]
    if plan.refusal:
        lines.append(f"(dryrun) deletes would be refused: {plan.refusal}")
    return lines
