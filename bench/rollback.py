"""Rollback of 1,000 objects against a local moto server: how long the server-side copies take.

    .venv/bin/python bench/rollback.py [--objects 1000]

Publishes a site of N small files (deploy 1), changes every file (deploy 2), then rolls back to
deploy 1 and prints the seconds the rollback took and how many objects it restored. Speed is
measured here, not asserted in the tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mkdocs_s3_crossaccount import Settings, publish
from mkdocs_s3_crossaccount.engine import rollback
from tests.support.motoserver import Credentials, make_client, start_moto_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    args = parser.parse_args()
    server = start_moto_server()
    try:
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "bench-key",
                "AWS_SECRET_ACCESS_KEY": "bench-secret-not-real",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": server.url,
            }
        )
        s3 = make_client("s3", server.url, Credentials("bench-key", "bench-secret-not-real"))
        s3.create_bucket(Bucket="bench-docs")
        s3.put_bucket_versioning(Bucket="bench-docs", VersioningConfiguration={"Status": "Enabled"})
        settings = Settings(bucket="bench-docs", prefix="docs", max_deletes=10_000, max_delete_share=1.0)
        with tempfile.TemporaryDirectory() as tmp:
            site = Path(tmp)
            for i in range(args.objects):
                name = "index.html" if i == 0 else f"p{i // 100}/page{i}.html"
                (site / name).parent.mkdir(parents=True, exist_ok=True)
                (site / name).write_text(f"<html>{i} v1</html>")
            publish(site, settings)
            for path in site.rglob("*.html"):
                path.write_text(path.read_text().replace("v1", "v2"))
            t0 = time.monotonic()
            publish(site, settings)
            publish_seconds = time.monotonic() - t0
            started = time.monotonic()
            done = rollback(settings, 1)
            seconds = time.monotonic() - started
        print(
            f"rollback of {args.objects} objects on moto: {seconds:.2f} s "
            f"({len(done.plan.copies)} restored by server-side copy, {done.plan.unchanged} unchanged); "
            f"the publish of those {args.objects} changed files took {publish_seconds:.2f} s"
        )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
