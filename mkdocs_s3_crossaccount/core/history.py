"""Deploy history and the out-of-order guard (through the Destination seam).

Every publish that changes something writes, next to the manifest, a deploy record:
``<prefix>/.mkdocs-s3-crossaccount/deploys/<number>.json``. It is the manifest of that deploy
(same format: every object with its MD5, ETag, header fingerprint and, with bucket versioning
on, its VersionId) whose ``deploy`` block also holds the commit, its time, the pipeline, who
published and the counts. The last ``history_limit`` records are kept; older ones are deleted.
``rollback`` restores a record's object versions; ``history`` lists them.

The out-of-order guard compares the commit being published with the live deploy's: a commit
older than the one live is refused before anything changes (unless ``allow_older``).
"""

from __future__ import annotations

import datetime
import logging
import os
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mkdocs_s3_crossaccount.core.destination import Destination
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR, to_key
from mkdocs_s3_crossaccount.core.manifest import Manifest, ManifestError, parse

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

DEPLOYS_DIR = INTERNAL_DIR + "deploys"
RECORD_HEADERS = {"ContentType": "application/json; charset=utf-8", "CacheControl": "no-store"}


@dataclass(frozen=True)
class Commit:
    """The commit being published: its SHA and commit time (epoch seconds)."""

    sha: str | None
    time: int | None

    @property
    def iso_time(self) -> str | None:
        """The commit time as ISO 8601 UTC (None when unknown)."""
        if self.time is None:
            return None
        return datetime.datetime.fromtimestamp(self.time, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> int | None:
    """An ISO 8601 time (GitLab's CI_COMMIT_TIMESTAMP, or ours) -> epoch seconds."""
    try:
        stamp = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return int(stamp.timestamp())


def current_commit(environ: Mapping[str, str], cwd: str | None = None) -> Commit:
    """CI_COMMIT_SHA / GITHUB_SHA and CI_COMMIT_TIMESTAMP; what they leave out comes from `git log -1`."""
    sha = environ.get("CI_COMMIT_SHA") or environ.get("GITHUB_SHA") or None
    when = parse_time(environ["CI_COMMIT_TIMESTAMP"]) if environ.get("CI_COMMIT_TIMESTAMP") else None
    if sha is None or when is None:
        git_sha, git_time = _git_head(cwd or os.getcwd(), sha)
        if sha is None:
            sha = git_sha
        if when is None and (sha == git_sha or git_sha is None):
            when = git_time
    return Commit(sha, when)


def _git_head(cwd: str, rev: str | None) -> tuple[str | None, int | None]:
    try:
        out = subprocess.run(
            ["git", "-C", cwd, "log", "-1", "--format=%H %ct", rev or "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None, None
    if len(out) != 2 or not out[1].isdigit():
        return None, None
    return out[0], int(out[1])


def check_order(live: Manifest | None, commit: Commit | None, allow_older: bool, where: str) -> None:
    """Refuse to publish a commit older than the live deploy's (naming both), unless allowed."""
    if live is None or commit is None or commit.time is None or allow_older:
        return
    live_sha = live.deploy.get("commit_sha")
    live_time = parse_time(str(live.deploy.get("commit_time", ""))) if live.deploy.get("commit_time") else None
    if live_time is None or commit.time >= live_time or (live_sha and live_sha == commit.sha):
        return
    ours = f"{_short(commit.sha)} ({commit.iso_time})"
    theirs = f"{_short(live_sha)} ({live.deploy.get('commit_time')})"
    raise PublishError(
        f"Refusing to publish commit {ours}: deploy #{live.number} under {where} is of the newer commit "
        f"{theirs}. Nothing was changed (a late pipeline of an older commit must not overwrite newer docs).",
        "If you mean to publish the older commit, set allow_older: true or pass --allow-older; "
        "to go back to an earlier deploy, use `mkdocs-s3-crossaccount rollback`.",
    )


def _short(sha: object) -> str:
    return str(sha)[:12] if sha else "(unknown commit)"


# --- records ----------------------------------------------------------------------------


def record_rel(number: int) -> str:
    """Where deploy ``number``'s record lives (zero-padded, so names sort by number)."""
    return f"{DEPLOYS_DIR}/{number:08d}.json"


def records_dest(dest: Destination) -> Destination:
    """The folder of the deploy records (listed alone, without the site)."""
    return dest.at(to_key(dest.prefix, DEPLOYS_DIR))


def save_record(dest: Destination, number: int, body: bytes, limit: int, kms_key_arn: str | None = None) -> None:
    """Write deploy ``number``'s record, then delete records beyond the last ``limit``."""
    headers = dict(RECORD_HEADERS)
    if kms_key_arn:
        headers.update({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_arn})
    dest.put(record_rel(number), body, headers)
    if number > limit:  # the record that just fell out of the window (one request, no listing)
        try:
            dest.delete(record_rel(number - limit))
        except PublishError as exc:
            log.warning("Could not delete the old deploy record #%d: %s", number - limit, exc)


def read_records(dest: Destination) -> list[Manifest]:
    """Every kept deploy record, newest first (unreadable ones skipped with a warning)."""
    folder = records_dest(dest)
    rels = sorted(folder.list(), reverse=True)

    def one(rel: str) -> Manifest | None:
        fetched = folder.get(rel)
        if fetched is None:
            return None
        try:
            return parse(fetched.body)
        except ManifestError as exc:
            log.warning("Skipping the unreadable deploy record %s: %s", folder.key(rel), exc)
            return None

    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="s3xa-history") as pool:
        found = list(pool.map(one, rels))
    return [m for m in found if m is not None]


def summary(record: Manifest) -> dict[str, Any]:
    """One line of `history`: id, time, commit, pipeline, counts, who."""
    d = record.deploy
    identity = str(d.get("identity_arn") or "")
    return {
        "id": record.number,
        "time": d.get("time"),
        "commit": d.get("commit_sha"),
        "commit_time": d.get("commit_time"),
        "pipeline": d.get("pipeline_id"),
        "pipeline_url": d.get("pipeline_url"),
        "uploaded": d.get("uploaded", 0),
        "deleted": d.get("deleted", 0),
        "objects": len([e for e in record.objects.values() if e.removed_at_deploy is None]),
        "who": identity.rsplit("/", 1)[-1] if identity else None,
        "identity_arn": identity or None,
        "rollback_of": d.get("rollback_of"),
        "versioned": all(e.version_id for e in record.objects.values()) if record.objects else False,
    }


def table(records: list[Manifest]) -> list[str]:
    """`history` as aligned text lines, a header first."""
    rows = [("ID", "TIME", "COMMIT", "PIPELINE", "UPLOADED", "DELETED", "WHO")]
    for record in records:
        s = summary(record)
        note = f" (rollback to #{s['rollback_of']})" if s["rollback_of"] else ""
        rows.append(
            (
                f"{s['id']}{note}",
                str(s["time"] or ""),
                str(s["commit"] or "")[:12],
                str(s["pipeline"] or ""),
                str(s["uploaded"]),
                str(s["deleted"]),
                str(s["who"] or ""),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(f"{c:<{w}}" for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
