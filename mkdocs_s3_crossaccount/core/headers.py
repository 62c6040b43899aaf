"""Per-object headers (pure): Cache-Control rules, gzip selection, the full header set and its fingerprint.

Every header an object gets is computed here, from its site-relative path and the options,
so the upload, the in-place header update (CopyObject) and the manifest's fingerprint
all see the same set.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mkdocs_s3_crossaccount.core.globs import first_match, matches

# Glob -> Cache-Control, used after the user's own rules (which come first, so they win).
# Pages and the files that list pages must revalidate, so a publish shows at once; Material's
# fingerprinted bundles (name.<8 hex>.min.js/.css and their maps) never change under one
# name; everything else (images, fonts, unhashed css/js) gets an hour.
_HEX8 = "[0-9a-f]" * 8
DEFAULT_CACHE_CONTROL: dict[str, str] = {
    "*.html": "no-cache",
    "*.htm": "no-cache",
    "sitemap.xml": "no-cache",
    "sitemap.xml.gz": "no-cache",
    "search/search_index.json": "no-cache",
    f"assets/**/*.{_HEX8}.min.*": "public, max-age=31536000, immutable",
    "**": "public, max-age=3600",
}

# What `gzip: true` compresses: text that compresses well. Never *.gz (see gzip_applies).
DEFAULT_GZIP: tuple[str, ...] = (
    "*.html",
    "*.htm",
    "*.css",
    "*.js",
    "*.mjs",
    "*.json",
    "*.xml",
    "*.svg",
    "*.txt",
    "*.map",
)

_HEADER_VALUE = re.compile(r"^[\x20-\x7e]*$")


class Body:
    """What bytes an object holds, relative to the file in the site."""

    IDENTITY = "identity"  # the file as it is
    GZIP = "gzip"  # the file gzip-compressed (Content-Encoding: gzip)
    EMPTY = "empty"  # zero bytes: a redirect object


def check_header_value(value: str) -> bool:
    """True if ``value`` can go into an HTTP header as it is (printable ASCII, no CR/LF)."""
    return bool(_HEADER_VALUE.match(value))


def cache_control_rules(user: Mapping[str, str]) -> dict[str, str]:
    """User rules first (first match wins), then the defaults. A value of '' means: no header."""
    rules = dict(user)
    for pattern, value in DEFAULT_CACHE_CONTROL.items():
        rules.setdefault(pattern, value)
    return rules


def cache_control_for(rel: str, rules: Mapping[str, str]) -> str | None:
    """The Cache-Control for ``rel``: the user's rules first (first match wins), then the defaults."""
    value = first_match(rel, rules)
    return value or None


def gzip_globs(option: bool | Iterable[str]) -> tuple[str, ...]:
    """The `gzip` option (bool or list of globs) as the globs it selects; () means off."""
    if option is True:
        return DEFAULT_GZIP
    if option is False or option is None:
        return ()
    return tuple(option)


def gzip_applies(rel: str, globs: Iterable[str]) -> bool:
    """Whether to store ``rel`` gzip-compressed. Files that are gzip already never are."""
    name = rel.rsplit("/", 1)[-1].lower()
    if name.endswith((".gz", ".tgz", ".zip", ".br", ".zst")):
        return False
    return any(matches(rel, g) for g in globs)


@dataclass(frozen=True)
class HeaderRules:
    """The options that decide headers, compiled once per publish."""

    cache_control: Mapping[str, str]  # full rule list (user + defaults), see cache_control_rules
    gzip: tuple[str, ...] = ()
    kms_key_arn: str | None = None

    @classmethod
    def from_options(
        cls, cache_control: Mapping[str, str], gzip: bool | Iterable[str], kms_key_arn: str | None
    ) -> HeaderRules:
        """The rules from the cache_control, gzip and kms_key_arn options."""
        return cls(cache_control_rules(cache_control), gzip_globs(gzip), kms_key_arn)

    def headers(self, rel: str, content_type: str, body: str, redirect: str | None = None) -> dict[str, str]:
        """The S3 request parameters (PutObject / CopyObject names) for one object, sorted.

        ExpectedBucketOwner is not a header of the object and is added by the caller.
        """
        out: dict[str, str] = {"ContentType": content_type}
        cc = cache_control_for(rel, self.cache_control)
        if cc:
            out["CacheControl"] = cc
        if body == Body.GZIP:
            out["ContentEncoding"] = "gzip"
        if redirect:
            out["WebsiteRedirectLocation"] = redirect
        if self.kms_key_arn:
            out["ServerSideEncryption"] = "aws:kms"
            out["SSEKMSKeyId"] = self.kms_key_arn
        return dict(sorted(out.items()))


def fingerprint(headers: Mapping[str, str]) -> str:
    """A short, stable digest of a header set: equal sets give equal fingerprints."""
    canonical = json.dumps(dict(sorted(headers.items())), separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
