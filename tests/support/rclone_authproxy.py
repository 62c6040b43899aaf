"""``rclone serve s3 --auth-proxy`` program: secrets of moto's assumed-role sessions.

Shared by the benchmark (``bench/servers.py``) and the integration tests
(``tests/support/s3servers.py``), both through :func:`tests.support.s3servers.rclone_command`.

rclone runs this once per new access key ID (and again after 5 minutes), with
``{"user": ACCESS_KEY_ID, ...}`` on stdin. We look the key up among the sessions that
moto's STS handed out (``GET /moto-api/data.json``, ``sts.AssumedRole``) and, if it
belongs to the expected role, answer with rclone's ``local`` backend serving the
root folder and that session's secret key, which rclone then uses to verify the
request's SigV4 signature. Any other key (a dev-account key, a made-up one) gets no
secret, so rclone refuses it: a client must really AssumeRole to write to the bucket.

Settings come from the environment that rclone passes through:
``S3XA_AUTH_MOTO_URL``, ``S3XA_AUTH_S3_ROOT`` and ``S3XA_AUTH_ROLE_ARN``.
Standard library only: it starts on every new key, so it must start fast.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from typing import Any


def lookup_secret(moto_url: str, access_key_id: str, role_arn: str) -> str | None:
    """The secret of the moto session ``access_key_id`` of ``role_arn``, if any."""
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json", timeout=10) as resp:
        data: dict[str, Any] = json.load(resp)
    for session in data.get("sts", {}).get("AssumedRole", []):
        if session.get("access_key_id") == access_key_id:
            if session.get("role_arn") != role_arn:
                return None
            secret = session.get("secret_access_key")
            return str(secret) if secret else None
    return None


def main() -> int:
    request = json.load(sys.stdin)
    user = str(request.get("user", ""))
    secret = lookup_secret(os.environ["S3XA_AUTH_MOTO_URL"], user, os.environ["S3XA_AUTH_ROLE_ARN"])
    if secret is None:
        json.dump({}, sys.stdout)
        return 0
    json.dump(
        {
            "type": "local",
            "_root": os.environ["S3XA_AUTH_S3_ROOT"],
            "_secret_access_key": secret,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
