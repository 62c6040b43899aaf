"""Glob rules for options keyed by path patterns (content_types, and later header rules).

Semantics, chosen to read like .gitignore:

* a pattern without ``/`` matches the file name at any depth: ``*.html``;
* a pattern with ``/`` matches the whole path from the site root: ``assets/**``;
* ``*`` and ``?`` stay inside one path segment, ``**`` spans any number of segments,
  ``[abc]`` is a character class; a trailing ``/`` means "everything below".

Paths are relative to the site dir, with ``/`` separators.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")


class GlobError(ValueError):
    """A glob that cannot be compiled; the message says why."""

    pass


def _segment(seg: str, pattern: str) -> str:
    out = []
    i = 0
    while i < len(seg):
        ch = seg[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = seg.find("]", i + 2 if seg[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end == -1:
                raise GlobError(f"glob {pattern!r} has an unclosed '['")
            body = seg[i + 1 : end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A compiled .gitignore-like glob (``*`` within a segment, ``**`` across, a leading ``/`` anchors)."""
    if not pattern or not pattern.strip():
        raise GlobError("a glob must not be empty")
    if pattern.startswith("!"):
        raise GlobError(f"glob {pattern!r}: negation ('!') is not supported here")
    anchored = "/" in pattern.rstrip("/")
    body = pattern.strip("/") if anchored else pattern.rstrip("/")
    below = pattern.endswith("/")
    if body == "**":
        return re.compile(r"^.*$")
    parts: list[str] = []
    segments = body.split("/")
    for n, seg in enumerate(segments):
        last = n == len(segments) - 1
        if seg == "**":
            parts.append("(?:.*/)?" if not last else ".*")
        else:
            parts.append(_segment(seg, pattern) + ("" if last else "/"))
    regex = "".join(parts)
    if not anchored:
        regex = "(?:.*/)?" + regex
    regex = "^" + regex + ("(?:/.*)?$" if below else "$")
    try:
        return re.compile(regex)
    except re.error as exc:
        raise GlobError(f"glob {pattern!r} is invalid: {exc}") from exc


def matches(path: str, pattern: str) -> bool:
    """Whether the site-relative path ``rel`` matches ``pattern``."""
    return compile_glob(pattern).match(path) is not None


def first_match(path: str, rules: Mapping[str, T]) -> T | None:
    """The value of the first rule (in insertion order) whose glob matches ``path``."""
    for pattern, value in rules.items():
        if compile_glob(pattern).match(path):
            return value
    return None
