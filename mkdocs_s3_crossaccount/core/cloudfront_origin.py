"""What kind of S3 origin a CloudFront distribution reads the site from, and what that means (pure).

Two ways to put a bucket behind CloudFront behave differently for a static site:

- the **website endpoint** (``BUCKET.s3-website-REGION.amazonaws.com``, a custom origin):
  answers ``/dir/`` with ``dir/index.html`` and turns redirect objects into 301s, but only
  for a public bucket (it supports neither OAC nor OAI);
- the **REST endpoint** (``BUCKET.s3.REGION.amazonaws.com`` with ``S3OriginConfig``),
  private through Origin Access Control (or the older OAI): knows keys only, so ``/dir/``
  is a 403 and redirect objects are empty 200s unless a viewer-request function (see
  ``core/cf_function.py``) does the website endpoint's work.

:func:`classify` reads a ``DistributionConfig`` (as GetDistributionConfig returns it) and
:func:`findings` says what the publisher should know; ``aws/cf_function.py`` makes the call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WEBSITE = "website"
REST_OAC = "rest-oac"
REST_OAI = "rest-oai"
REST_PUBLIC = "rest-public"
OTHER = "other"

_WEBSITE = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3-website[.-](?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$", re.ASCII
)
_REST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3(?:[.-](?P<region>[a-z]{2}(?:-[a-z]+)+-\d+))?"
    r"(?:\.dualstack\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$",
    re.ASCII,
)


@dataclass(frozen=True)
class OriginInfo:
    """The default cache behaviour's origin and its viewer-request function, if any."""

    kind: str  # WEBSITE, REST_OAC, REST_OAI, REST_PUBLIC or OTHER
    origin_id: str
    domain: str
    bucket: str | None
    origin_path: str  # '' or '/path' (CloudFront prepends it to every key it asks for)
    access_id: str = ""  # the OAC id or the OAI path
    function_arn: str | None = None  # CloudFront Function on viewer-request of the default behaviour
    lambda_viewer_request: str | None = None  # Lambda@Edge on viewer-request (excludes a function)

    @property
    def is_rest(self) -> bool:
        """Read through the S3 REST API (OAC, OAI or public): index pages and redirects need the function."""
        return self.kind in (REST_OAC, REST_OAI, REST_PUBLIC)

    @property
    def function_name(self) -> str | None:
        """The attached viewer-request function's name (the last part of its ARN)."""
        return self.function_arn.rsplit("/", 1)[-1] if self.function_arn else None


def _items(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        items = value.get("Items")
        return list(items) if isinstance(items, list) else []
    return []


def viewer_association(behaviour: Mapping[str, Any], key: str, arn_field: str) -> str | None:
    """The ARN associated with viewer-request in a cache behaviour's ``key`` list, if any."""
    for item in _items(behaviour.get(key)):
        if isinstance(item, Mapping) and item.get("EventType") == "viewer-request":
            arn = item.get(arn_field)
            return str(arn) if arn else None
    return None


def classify(config: Mapping[str, Any]) -> OriginInfo:
    """The origin the default cache behaviour reads (the first member of an origin group)."""
    behaviour = config.get("DefaultCacheBehavior") or {}
    target = str(behaviour.get("TargetOriginId") or "")
    origins = {str(o.get("Id")): o for o in _items(config.get("Origins")) if isinstance(o, Mapping)}
    if target not in origins:
        for group in _items(config.get("OriginGroups")):
            if isinstance(group, Mapping) and group.get("Id") == target:
                members = _items(group.get("Members"))
                if members and isinstance(members[0], Mapping):
                    target = str(members[0].get("OriginId") or "")
                break
    origin = origins.get(target, {})
    domain = str(origin.get("DomainName") or "").lower()
    path = str(origin.get("OriginPath") or "")
    function_arn = viewer_association(behaviour, "FunctionAssociations", "FunctionARN")
    lambda_arn = viewer_association(behaviour, "LambdaFunctionAssociations", "LambdaFunctionARN")
    common = {"origin_id": target, "domain": domain, "origin_path": path}
    website = _WEBSITE.match(domain)
    if website:
        return OriginInfo(
            WEBSITE,
            bucket=website.group("bucket"),
            function_arn=function_arn,
            lambda_viewer_request=lambda_arn,
            **common,
        )
    rest = _REST.match(domain)
    if rest:
        oac = str(origin.get("OriginAccessControlId") or "")
        oai = str((origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity") or "")
        kind, access = (REST_OAC, oac) if oac else (REST_OAI, oai) if oai else (REST_PUBLIC, "")
        return OriginInfo(
            kind,
            bucket=rest.group("bucket"),
            access_id=access,
            function_arn=function_arn,
            lambda_viewer_request=lambda_arn,
            **common,
        )
    return OriginInfo(OTHER, bucket=None, function_arn=function_arn, lambda_viewer_request=lambda_arn, **common)


def viewer_prefix(prefix: str, origin_path: str) -> str | None:
    """The site's folder as readers see it: ``prefix`` without the origin's OriginPath.

    None when the origin path is not a folder above the prefix (readers cannot reach the
    site through this origin).
    """
    path = origin_path.strip("/")
    if not path:
        return prefix
    if prefix == path:
        return ""
    if prefix.startswith(path + "/"):
        return prefix[len(path) + 1 :]
    return None


@dataclass(frozen=True)
class Finding:
    """One thing to know about the origin: ``ok`` True when it is fine as it is, False when it is a warning."""

    ok: bool
    text: str


def findings(info: OriginInfo, *, distribution_id: str, bucket: str, prefix: str, function_name: str) -> list[Finding]:
    """What a publish to ``bucket``/``prefix`` through this distribution should know (warnings: ``ok`` False)."""
    out: list[Finding] = []
    where = f"CloudFront distribution {distribution_id}"
    if info.kind == OTHER:
        return [
            Finding(
                False,
                f"{where}: its default origin {info.domain or info.origin_id!r} is not an S3 bucket endpoint; "
                f"the origin checks do not apply (make sure it serves s3://{bucket}).",
            )
        ]
    if info.bucket and info.bucket != bucket:
        out.append(
            Finding(
                False,
                f"{where} reads bucket {info.bucket!r} ({info.domain}), not {bucket!r}, the bucket this publishes to: "
                "readers will not see this publish. Check cloudfront_distribution_id and bucket.",
            )
        )
    if viewer_prefix(prefix, info.origin_path) is None:
        out.append(
            Finding(
                False,
                f"{where} reads the bucket under origin path {info.origin_path!r}, which does not contain the prefix "
                f"{prefix!r}: readers cannot reach this site through it. Publish under that path, or change the "
                "origin path.",
            )
        )
    if info.kind == WEBSITE:
        out.append(
            Finding(
                False,
                f"{where} reads s3://{info.bucket} through the S3 website endpoint ({info.domain}): the bucket must be "
                "public (Block Public Access off for it, and a bucket policy granting s3:GetObject to everyone); the "
                "website endpoint supports neither OAC nor OAI. Index pages and redirect objects work there without a "
                "function.",
            )
        )
        return out
    access = {
        REST_OAC: f"with Origin Access Control {info.access_id}",
        REST_OAI: f"with Origin Access Identity {info.access_id}",
        REST_PUBLIC: "without OAC or OAI (so the bucket must be public; prefer OAC)",
    }[info.kind]
    attached = info.function_name == function_name
    if attached:
        state = f"the viewer-request function {function_name} is attached"
        fix = "Redeploy it after redirect changes: mkdocs-s3-crossaccount cloudfront-function --deploy."
    elif info.function_arn:
        state = f"another viewer-request function, {info.function_name}, is attached (not this tool's)"
        fix = (
            "Make sure it rewrites /dir/ to /dir/index.html and answers the redirects, or replace it: "
            "mkdocs-s3-crossaccount cloudfront-function --deploy --replace."
        )
    elif info.lambda_viewer_request:
        state = f"a Lambda@Edge viewer-request function is attached ({info.lambda_viewer_request})"
        fix = "Make sure it rewrites /dir/ to /dir/index.html and answers the redirects."
    else:
        state = "no viewer-request function is attached"
        fix = "Deploy one: mkdocs-s3-crossaccount cloudfront-function --deploy (or --write FILE to review it first)."
    out.append(
        Finding(
            attached,
            f"{where} reads s3://{info.bucket} through the S3 REST endpoint {access}: there /dir/ URLs are not "
            "served from dir/index.html (403) and redirect objects (redirects: true) come back as empty pages, "
            f"unless a viewer-request function handles them; {state}. {fix}",
        )
    )
    return out
