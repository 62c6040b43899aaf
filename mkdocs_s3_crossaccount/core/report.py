"""What a publish did, as data and as text, and the report files written from it.

Reports carry names, keys, ARNs and counts only: never a secret key, session token,
ExternalId or OIDC token.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.plan import Plan
from mkdocs_s3_crossaccount.core.redact import redact

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")


def human_bytes(n: float) -> str:
    """A byte count as people read it (1.2 MB)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


@dataclass
class PublishResult:
    """What a publish did (or, in a dry run, would do)."""

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
    region: str = ""
    site_url: str | None = None
    retries: int = 0  # requests the transport repeated (throttling, transient faults)
    followup_error: PublishError | None = None  # the site was published, a later step (CDN) failed

    @property
    def uploaded_bytes(self) -> int:
        """Bytes uploaded."""
        return sum(size for _, _, size in self.uploaded)

    @property
    def unchanged(self) -> int:
        """Files left as they were."""
        return len(self.plan.unchanged)

    def summary(self) -> str:
        """The one-line summary printed at the end.

        A refused dry run says so and that nothing would be uploaded or deleted (the real publish
        stops before any change); the refusal line above it says what was refused and why.
        """
        if self.dry_run and self.plan.refusal:
            return (
                f"Dry run for {self.destination}: refused by the deletion guard, so this publish would upload 0 "
                f"and delete 0 (unchanged {self.unchanged}); nothing was changed"
            )
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
            + (f" ({self.retries} request(s) retried: throttling or transient faults)" if self.retries else "")
        )


def plan_lines(plan: Plan, bucket: str) -> list[str]:
    """One line per planned change, like `aws s3 sync --dryrun`.

    When the deletion guard refuses, the stale objects are listed as refused deletes and the last
    line says the publish would stop before changing anything.
    """
    lines = [f"(dryrun) upload: {u.file.rel} to s3://{bucket}/{u.file.key} ({u.reason})" for u in plan.uploads]
    lines += [f"(dryrun) update headers: s3://{bucket}/{u.file.key} ({u.reason})" for u in plan.copies]
    verb = "refused delete" if plan.refusal else "delete"
    lines += [f"(dryrun) {verb}: s3://{bucket}/{d.key}" for d in plan.deletes]
    if plan.refusal:
        lines.append(f"(dryrun) refused: {plan.refusal} A publish would stop before any upload or delete.")
    return lines


PLAN_SCHEMA = 1
"""Version of ``plan_data``'s document (`plan --json`); bumped when a field changes meaning or goes."""


def plan_data(result: PublishResult) -> dict[str, Any]:
    """The plan of a dry run as one JSON document (`plan --json`; docs/pages/command-line.md has the schema).

    The lists are what the diff found; ``counts`` is what this publish would do, so a refused plan
    (``refusal`` set) counts 0 uploads and 0 deletes.
    """
    plan = result.plan
    refused = plan.refusal is not None
    return {
        "schema": PLAN_SCHEMA,
        "destination": result.destination,
        "bucket": result.bucket,
        "prefix": result.prefix,
        "region": result.region,
        "role_arn": result.role_arn,
        "identity_arn": result.identity_arn,
        "account": result.account,
        "refusal": plan.refusal,
        "changes": plan.changes and not refused,
        "counts": {
            "uploads": 0 if refused else len(plan.uploads),
            "header_updates": 0 if refused else len(plan.copies),
            "deletes": 0 if refused else len(plan.deletes),
            "unchanged": len(plan.unchanged),
            "local": plan.local_count,
            "remote": plan.remote_count,
        },
        "upload_bytes": 0 if refused else plan.upload_bytes,
        "uploads": [
            {"path": u.file.rel, "key": u.file.key, "reason": str(u.reason), "bytes": u.file.upload_size}
            for u in plan.uploads
        ],
        "header_updates": [{"path": u.file.rel, "key": u.file.key, "reason": str(u.reason)} for u in plan.copies],
        "deletes": [{"path": d.rel, "key": d.key, "bytes": d.size} for d in plan.deletes],
        "invalidation_paths": list(result.invalidation_paths),
    }


def site_url(template: str, bucket: str, prefix: str, region: str) -> str:
    """Fill {bucket} {prefix} {region}; an empty prefix leaves no doubled '/' in the path."""
    url = template.format(bucket=bucket, prefix=prefix, region=region)
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    path = re.sub(r"/{2,}", "/", slash + path)
    return f"{scheme}{sep}{host}{path}"


def report_data(result: PublishResult) -> dict[str, Any]:
    """The JSON report: where, as whom, what changed and why."""
    plan = result.plan
    if result.dry_run and plan.refusal:  # a refused publish stops before any change
        uploads, deletes = [], []
    elif result.dry_run:
        uploads = [{"key": u.file.key, "reason": str(u.reason), "bytes": u.file.size} for u in plan.uploads]
        deletes = [d.key for d in plan.deletes]
    else:
        uploads = [{"key": k, "reason": r, "bytes": n} for k, r, n in result.uploaded]
        deletes = list(result.deleted)
    return {
        "destination": result.destination,
        "bucket": result.bucket,
        "prefix": result.prefix,
        "region": result.region,
        "role_arn": result.role_arn,
        "identity_arn": result.identity_arn,
        "account": result.account,
        "dry_run": result.dry_run,
        "site_url": result.site_url,
        "counts": {
            "uploaded": len(uploads),
            "deleted": len(deletes),
            "unchanged": result.unchanged,
            "local": plan.local_count,
            "remote_before": plan.remote_count,
        },
        "bytes_uploaded": sum(u["bytes"] for u in uploads),
        "duration_seconds": round(result.seconds, 3),
        "retries": result.retries,
        "uploaded": uploads,
        "deleted": deletes,
        **({"refusal": plan.refusal} if result.dry_run and plan.refusal else {}),
        **({"error": str(result.followup_error)} if result.followup_error else {}),
    }


def _write(path: str, text: str) -> None:
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(redact(text))  # every file we write goes through the one redaction point
    except OSError as exc:
        raise PublishError(
            f"The publish finished, but writing {path!r} failed: {exc.strerror or exc}.",
            "Check report_file / dotenv_file: the folder must be writable.",
        ) from None


def write_report(path: str, result: PublishResult) -> None:
    """Write the JSON report (names, keys, counts; never a secret)."""
    _write(path, json.dumps(report_data(result), indent=2, ensure_ascii=False) + "\n")


def dotenv_text(result: PublishResult) -> str:
    """GitLab `artifacts:reports:dotenv`: one KEY=value a line, no quotes, no newlines in values."""
    values = {"DOCS_URL": result.site_url or "", "DOCS_BUCKET": result.bucket, "DOCS_PREFIX": result.prefix}
    return "".join(f"{k}={v}\n" for k, v in values.items() if "\n" not in v)


def write_dotenv(path: str, result: PublishResult) -> None:
    """Write the GitLab dotenv report (DOCS_URL, DOCS_BUCKET, DOCS_PREFIX)."""
    _write(path, dotenv_text(result))


def write_reports(result: PublishResult, report_file: str | None, dotenv_file: str | None) -> None:
    """report_file and dotenv_file, for the plugin and the CLI alike."""
    if result.site_url:
        log.info("Site URL: %s", result.site_url)
    if report_file:
        write_report(report_file, result)
        log.info("Report written to %s", report_file)
    if dotenv_file:
        write_dotenv(dotenv_file, result)
        log.info("DOCS_URL written to %s (GitLab dotenv)", dotenv_file)
