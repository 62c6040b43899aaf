"""Which checksums the S3 client sends and checks: the ``checksums`` option.

boto3 >= 1.36 computes a CRC32 for every upload that supports one and checks response
checksums (``when_supported``). Many S3-compatible stores reject or mishandle those headers
(Cloudflare R2, Backblaze B2, Google Cloud Storage's interoperability API, older MinIO), and
older MinIO and some others also insist on ``Content-MD5`` for ``DeleteObjects``, which
botocore no longer sends. The ``checksums`` option picks the behaviour:

* ``auto`` (default): against AWS, boto3's own default; against any other S3 endpoint,
  ``when_required`` for requests and responses, plus ``Content-MD5`` on ``DeleteObjects``.
  A direction set by ``AWS_REQUEST_CHECKSUM_CALCULATION`` /
  ``AWS_RESPONSE_CHECKSUM_VALIDATION`` is left to that variable (the explicit variable wins
  over the guess).
* ``when_required`` / ``when_supported``: that value for both directions, whatever the
  endpoint and the variables say (the option written in the config wins over the variables).
  ``when_required`` also sends ``Content-MD5`` on ``DeleteObjects``.

The endpoint is ``endpoint_url`` if set, else ``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL``
(unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is true), as botocore resolves it; an endpoint
given only in a profile of ``~/.aws/config`` is not seen here, so name the mode explicitly then.
The functions here are pure; :func:`add_content_md5` is the botocore event handler.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from mkdocs_s3_crossaccount.core.errors import PublishError

MODES = ("auto", "when_required", "when_supported")
BOTOCORE_VALUES = ("when_required", "when_supported")
_VARIABLES = {
    "request_checksum_calculation": "AWS_REQUEST_CHECKSUM_CALCULATION",
    "response_checksum_validation": "AWS_RESPONSE_CHECKSUM_VALIDATION",
}
# Host name suffixes of AWS's own S3 endpoints (all partitions, FIPS, dual-stack, PrivateLink).
_AWS_SUFFIXES = (
    ".amazonaws.com",
    ".amazonaws.com.cn",
    ".api.aws",
    ".amazonaws.eu",
    ".c2s.ic.gov",
    ".sc2s.sgov.gov",
    ".cloud.adc-e.uk",
    ".csp.hci.ic.gov",
)


def effective_endpoint(endpoint_url: str | None, environ: Mapping[str, str]) -> str | None:
    """The S3 endpoint botocore will use: the option, else the standard variables; None for AWS's default."""
    if endpoint_url:
        return endpoint_url
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return None
    return environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None


def is_aws_endpoint(endpoint_url: str | None) -> bool:
    """True for no override (AWS's default endpoints) or an override that is an AWS S3 host."""
    if not endpoint_url:
        return True
    host = (urlsplit(endpoint_url if "://" in endpoint_url else f"https://{endpoint_url}").hostname or "").lower()
    return any(host.endswith(suffix) or host == suffix[1:] for suffix in _AWS_SUFFIXES)


def _from_environ(key: str, environ: Mapping[str, str]) -> str | None:
    variable = _VARIABLES[key]
    raw = environ.get(variable)
    if raw is None or not raw.strip():
        return None
    value = raw.strip().lower()
    if value not in BOTOCORE_VALUES:
        raise PublishError(
            f"{variable}={raw.strip()!r} is not a checksum setting botocore knows.",
            f"Set {variable} to when_required or when_supported, or unset it and choose with the "
            "`checksums` option (auto, when_required, when_supported).",
        )
    return value


def effective_checksums(mode: str, endpoint_url: str | None, environ: Mapping[str, str]) -> dict[str, str]:
    """What botocore will do for each direction, and where that comes from.

    Returns ``{"request_checksum_calculation": VALUE, "response_checksum_validation": VALUE}``
    with the value botocore ends up using (``when_supported`` is botocore's default).
    """
    if mode not in MODES:
        raise PublishError(f"checksums: {mode!r} is not one of {', '.join(MODES)}.", "Fix the `checksums` option.")
    if mode != "auto":
        return dict.fromkeys(_VARIABLES, mode)
    third_party = not is_aws_endpoint(effective_endpoint(endpoint_url, environ))
    guessed = "when_required" if third_party else "when_supported"
    return {key: _from_environ(key, environ) or guessed for key in _VARIABLES}


def client_checksum_config(mode: str, endpoint_url: str | None, environ: Mapping[str, str]) -> dict[str, str]:
    """``botocore.config.Config`` keyword arguments for the S3 client (empty: leave botocore alone).

    An explicit mode is passed for both directions; ``auto`` passes ``when_required`` for a
    non-AWS endpoint, except for a direction whose variable is set (botocore reads it itself).
    """
    if mode not in MODES:
        raise PublishError(f"checksums: {mode!r} is not one of {', '.join(MODES)}.", "Fix the `checksums` option.")
    if mode != "auto":
        return dict.fromkeys(_VARIABLES, mode)
    if is_aws_endpoint(effective_endpoint(endpoint_url, environ)):
        for key in _VARIABLES:
            _from_environ(key, environ)  # a bad value is our clear error, not botocore's at client creation
        return {}
    return {key: "when_required" for key in _VARIABLES if _from_environ(key, environ) is None}


def delete_needs_content_md5(mode: str, endpoint_url: str | None, environ: Mapping[str, str]) -> bool:
    """Send Content-MD5 on DeleteObjects: whenever request checksums are only sent when required.

    S3's API reference requires Content-MD5 (or a flexible checksum) on DeleteObjects; botocore
    >= 1.36 sends only a CRC32, which older MinIO and other stores refuse (MissingContentMD5).
    """
    return effective_checksums(mode, endpoint_url, environ)["request_checksum_calculation"] == "when_required"


def add_content_md5(params: dict[str, Any], **_: Any) -> None:
    """``before-call.s3.DeleteObjects`` handler: Content-MD5 of the body instead of botocore's CRC32.

    The request then looks as it did before botocore 1.36 (the form every S3 store accepts):
    the MD5 header is set and botocore's pending flexible checksum is dropped.
    """
    body = params.get("body")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, (bytes, bytearray)):
        return
    headers = params.setdefault("headers", {})
    headers["Content-MD5"] = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode("ascii")
    checksum = params.get("context", {}).get("checksum")
    if isinstance(checksum, dict):
        checksum.pop("request_algorithm", None)
        checksum.pop("request_algorithm_header", None)


def install_content_md5(client: Any) -> None:
    """Register :func:`add_content_md5` on an S3 client's DeleteObjects calls."""
    client.meta.events.register("before-call.s3.DeleteObjects", add_content_md5, unique_id="s3xa-delete-content-md5")
