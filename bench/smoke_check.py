"""Check that a bucket holds exactly a local site: same keys, sizes and MD5s.

Used by the harness after every measured publish, and on its own::

    python bench/smoke_check.py SITE_DIR --bucket BUCKET [--prefix P]
        [--endpoint-url URL] [--region REGION]

with credentials in the usual ``AWS_*`` environment variables. An ETag that is an MD5
(single-part upload, or rclone's plain MD5 for multipart uploads) is compared with the
file's MD5; a multipart ETag (``…-N``) is checked by downloading the object. Keys
under ``.mkdocs-s3-crossaccount/`` (our publisher's manifest) are not site files and
are skipped. Exits 1 and lists the differences if there are any. It measures no time.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

from sitegen import inventory

PUBLISHER_DIR = ".mkdocs-s3-crossaccount/"  # our manifest and lock, not site content


def verify_bucket(
    s3: Any, site: Path, bucket: str, prefix: str = "", ignore: tuple[str, ...] = (PUBLISHER_DIR,)
) -> list[str]:
    """Differences between ``site`` and ``s3://bucket/prefix`` (none: they match)."""
    local = inventory(site)
    problems: list[str] = []
    remote: dict[str, tuple[int, str]] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = str(obj["Key"])[len(prefix) :]
            if key.startswith(ignore):
                continue
            remote[key] = (int(obj["Size"]), str(obj["ETag"]).strip('"'))
    for key in sorted(local.keys() - remote.keys()):
        problems.append(f"missing in bucket: {key}")
    for key in sorted(remote.keys() - local.keys()):
        problems.append(f"extra in bucket: {key}")
    for key in sorted(local.keys() & remote.keys()):
        want = local[key]
        size, etag = remote[key]
        if size != want.size:
            problems.append(f"size differs: {key}: local {want.size}, bucket {size}")
            continue
        if "-" in etag:
            body = s3.get_object(Bucket=bucket, Key=prefix + key)["Body"].read()
            etag = hashlib.md5(body).hexdigest()
        if etag != want.md5:
            problems.append(f"content differs: {key}: md5 {want.md5}, bucket {etag}")
    return problems


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--endpoint-url")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    s3 = boto3.client("s3", endpoint_url=args.endpoint_url, region_name=args.region)
    problems = verify_bucket(s3, args.site, args.bucket, args.prefix)
    for line in problems[:50]:
        print(line)
    if problems:
        print(f"FAIL: {len(problems)} difference(s)")
        return 1
    print(f"OK: s3://{args.bucket}/{args.prefix} matches {args.site}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
