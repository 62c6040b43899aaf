"""Incomplete multipart uploads left by a killed publish: found and aborted by a later one.

A publish killed during a multipart upload (SIGKILL, an OOM kill, a lost runner) leaves the
upload's parts stored, invisible in listings and billed, until someone aborts it. While
holding the prefix's lock, a publish that uploads something (or took over a stale lock)
lists the incomplete uploads under its prefix and aborts those started more than
``lock_timeout`` seconds ago: no live publish of this prefix can own them (it would hold a
fresh lock). Uploads under a nested prefix that another publisher manages (it has its own
``.mkdocs-s3-crossaccount/`` folder) are left to that publisher. A failure only warns.

Cost: one ListMultipartUploads request (a page per 1,000 uploads), plus one
AbortMultipartUpload per stale upload; none on a publish that uploads nothing.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from mkdocs_s3_crossaccount.core.destination import Destination
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")


def foreign_roots(listed: Iterable[str]) -> set[str]:
    """Nested prefixes ('sub/dir/') holding another publisher's bookkeeping folder."""
    roots = set()
    for rel in listed:
        at = rel.find("/" + INTERNAL_DIR)
        if at > 0:
            roots.add(rel[: at + 1])
    return roots


def abort_stale_uploads(
    dest: Destination, older_than: float, listed: Iterable[str], now: datetime.datetime | None = None
) -> list[str]:
    """Abort this prefix's incomplete multipart uploads older than ``older_than`` seconds. Returns their keys."""
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    roots = foreign_roots(listed)
    try:
        pending = dest.pending_uploads()
    except PublishError as exc:
        log.warning("Could not list incomplete multipart uploads under %s: %s", dest.url, exc.message)
        return []
    aborted = []
    for up in pending:
        if up.initiated is None or (moment - up.initiated).total_seconds() <= older_than:
            continue
        if any(up.rel.startswith(root) for root in roots):
            continue
        try:
            dest.abort_upload(up)
        except PublishError as exc:
            log.warning("Could not abort the incomplete upload of %s: %s", up.key, exc.message)
            continue
        aborted.append(up.key)
    if aborted:
        log.info(
            "Aborted %d incomplete multipart upload(s) left under %s by an earlier publish", len(aborted), dest.url
        )
    return aborted
