"""The floor of a no-op publish: the calls an unchanged publish cannot skip, made bare with boto3.

Assume the role (dev-account keys from the environment), take the lock (a conditional
PutObject), list the prefix, read the manifest, hash every file of the site, release the
lock (DeleteObject), and print how many files would be uploaded (always 0 here: it knows
nothing to compare but sizes and ETags, and a primed bucket matches). No retries beyond
botocore's defaults, no checks, no report: what is left when everything but the required
work is taken away. ``bench/run.py --tools floor`` measures it next to ours; our no-op
target is a ratio to it.

Usage: python bench/floor.py SITE --bucket B --role-arn ARN --region R
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3

LOCK_KEY = ".mkdocs-s3-crossaccount/lock.json"
MANIFEST_KEY = ".mkdocs-s3-crossaccount/manifest.json"
PART = 8 * 1024 * 1024


def etags_of(path: str) -> set[str]:
    """The ETags an object of this file may have: its MD5, and above 8 MiB s3transfer's MD5 of 8-MiB parts."""
    whole = hashlib.md5(usedforsecurity=False)
    parts: list[bytes] = []
    with open(path, "rb") as fh:
        while block := fh.read(PART):
            whole.update(block)
            parts.append(hashlib.md5(block, usedforsecurity=False).digest())
    found = {whole.hexdigest()}
    if os.path.getsize(path) >= PART:
        found.add(hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest() + f"-{len(parts)}")
    return found


def local_files(site: str) -> dict[str, set[str]]:
    paths = {}
    for top, _dirs, names in os.walk(site):
        for name in names:
            path = os.path.join(top, name)
            paths[os.path.relpath(path, site).replace(os.sep, "/")] = path
    with ThreadPoolExecutor(4) as pool:
        return dict(zip(paths, pool.map(etags_of, paths.values()), strict=True))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("site")
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--role-arn", required=True)
    ap.add_argument("--region", required=True)
    args = ap.parse_args()
    with ThreadPoolExecutor(1) as pool:
        hashed = pool.submit(local_files, args.site)
        sts = boto3.client("sts", region_name=args.region)
        creds = sts.assume_role(RoleArn=args.role_arn, RoleSessionName="floor")["Credentials"]
        s3 = boto3.client(
            "s3",
            region_name=args.region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        s3.put_object(Bucket=args.bucket, Key=LOCK_KEY, Body=b"{}", IfNoneMatch="*")
        remote: dict[str, str] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket):
            for obj in page.get("Contents", []):
                remote[obj["Key"]] = obj["ETag"].strip('"')
        with contextlib.suppress(s3.exceptions.NoSuchKey):
            s3.get_object(Bucket=args.bucket, Key=MANIFEST_KEY)["Body"].read()
        local = hashed.result()
        s3.delete_object(Bucket=args.bucket, Key=LOCK_KEY)
    changed = sum(1 for key, etags in local.items() if remote.get(key) not in etags)
    print(f"floor: {len(local)} files, uploads={changed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
