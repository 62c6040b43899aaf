"""Versioned docs (pure): mike's ``versions.json``, alias moves, and the redirect pages.

Layout under the prefix, as `mike` lays out a gh-pages branch::

    <prefix>/versions.json        [{"version": "2.0", "title": "2.0", "aliases": ["latest"]}, ...]
    <prefix>/index.html           redirect to default_version (when set)
    <prefix>/<version>/...        each version's site, with its own manifest
    <prefix>/<alias>/...          a copy of the version it points at (or redirect pages)

``versions.json`` is byte-for-byte what mike 2.x writes for the same operations: a JSON list,
two-space indented, a newline at the end, newest version first in mike's order (versions
starting with a digit or ``v<digit>`` by loose version order; others such as ``dev`` above
them), so Material for MkDocs' ``extra.version.provider: mike`` selector reads it unchanged.
mike keeps aliases in a set, so its order of several aliases of one version is arbitrary;
ours is sorted.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR

VERSIONS_REL = "versions.json"
ROOT_INDEX_REL = "index.html"
VERSIONS_HEADERS = {"ContentType": "application/json", "CacheControl": "no-cache"}
REDIRECT_HEADERS = {"ContentType": "text/html; charset=utf-8", "CacheControl": "no-cache"}
_RESERVED = {INTERNAL_DIR.rstrip("/"), VERSIONS_REL, ROOT_INDEX_REL}


class VersionsError(ValueError):
    """A version operation that cannot be done; the message says why and what to do."""


def check_name(value: str, kind: str = "version") -> None:
    """mike's rule (not empty, not '.' or '..', no slashes), plus our reserved names."""
    if not value or value in (".", "..") or re.search(r"[\\/]", value) or value != value.strip():
        raise VersionsError(
            f"{value!r} is not a valid {kind}: it becomes a folder name, so it must not be empty, '.' or '..', "
            "contain '/' or '\\', or start or end with spaces."
        )
    if value in _RESERVED:
        raise VersionsError(f"{value!r} is not a valid {kind}: that name is taken by the versions layout.")


# --- mike's version order ---------------------------------------------------------

_PART = re.compile(r"(\d+|[a-z]+|\.|-)")
_RENAMED = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


def loose_key(version: str) -> tuple[str, ...]:
    """The sort key of a "loose" version (the scheme of setuptools before PEP 440, which mike uses)."""
    parts: list[str] = []
    for raw in _PART.split(version.lower()):
        token = _RENAMED.get(raw, raw)
        if not token or token == ".":
            continue
        token = token.zfill(8) if token[0].isdigit() else "*" + token
        if token.startswith("*"):
            if token < "*final":  # a pre-release tag drops the '-' before it
                while parts and parts[-1] == "*final-":
                    parts.pop()
            while parts and parts[-1] == "00000000":  # 1.0 == 1
                parts.pop()
        parts.append(token)
    while parts and parts[-1] == "00000000":
        parts.pop()
    parts.append("*final")
    return tuple(parts)


def order_key(version: str) -> tuple[int, tuple[str, ...]]:
    """mike's listing order, used descending: releases (leading digit) below development versions."""
    return (0 if re.match(r"v?\d", version) else 1, loose_key(version))


# --- the list ------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    """One entry of versions.json: the version (its folder), its title and its aliases."""

    version: str
    title: str
    aliases: tuple[str, ...] = ()
    properties: Any = None  # mike's optional free-form value, kept as it is

    def to_json(self) -> dict[str, Any]:
        """The entry as mike writes it (properties only when set)."""
        out: dict[str, Any] = {"version": self.version, "title": self.title, "aliases": list(self.aliases)}
        if self.properties:
            out["properties"] = self.properties
        return out


@dataclass(frozen=True)
class Versions:
    """The versions of a prefix, in mike's order (newest first)."""

    items: tuple[VersionInfo, ...] = ()

    def __post_init__(self) -> None:
        ordered = sorted(self.items, key=lambda i: order_key(i.version), reverse=True)
        object.__setattr__(self, "items", tuple(ordered))

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def names(self) -> list[str]:
        """The version names, newest first."""
        return [i.version for i in self.items]

    def get(self, version: str) -> VersionInfo | None:
        return next((i for i in self.items if i.version == version), None)

    def resolve(self, identifier: str) -> str | None:
        """The version a version name or alias stands for."""
        for info in self.items:
            if identifier == info.version or identifier in info.aliases:
                return info.version
        return None

    def alias_owner(self, alias: str) -> str | None:
        """The version ``alias`` points at (None: no such alias)."""
        return next((i.version for i in self.items if alias in i.aliases), None)

    def dumps(self) -> bytes:
        """Exactly mike's file: json.dumps(list, indent=2) and a newline."""
        return (json.dumps([i.to_json() for i in self.items], indent=2) + "\n").encode("utf-8")

    # --- operations (each returns a new Versions) ---

    def add(self, version: str, title: str | None = None, aliases: Iterable[str] = ()) -> Versions:
        """Add or update ``version`` (mike deploy --update-aliases): aliases move here from other versions."""
        check_name(version)
        new_aliases = _checked_aliases(version, aliases)
        if self.get(version) is None and self.alias_owner(version) is not None:
            raise VersionsError(
                f"{version!r} is already an alias of version {self.alias_owner(version)!r}; "
                "pick another version name, or move the alias first."
            )
        for alias in new_aliases:
            if self.get(alias) is not None:
                raise VersionsError(f"alias {alias!r} is already a version; a name is either a version or an alias.")
        out: list[VersionInfo] = []
        for info in self.items:
            if info.version == version:
                continue
            kept = tuple(a for a in info.aliases if a not in new_aliases)
            out.append(replace(info, aliases=kept) if kept != info.aliases else info)
        current = self.get(version)
        merged = tuple(sorted(set(current.aliases if current else ()) | set(new_aliases)))
        if current is None:
            out.append(VersionInfo(version, version if title is None else title, merged))
        else:
            out.append(replace(current, title=current.title if title is None else title, aliases=merged))
        return Versions(tuple(out))

    def alias(self, version: str, aliases: Iterable[str]) -> Versions:
        """Point ``aliases`` at an existing version (mike alias --update-aliases)."""
        found = self.resolve(version)
        if found is None:
            raise VersionsError(
                f"there is no version {version!r}; the versions are {', '.join(self.names()) or 'none'}."
            )
        return self.add(found, None, aliases)

    def retitle(self, identifier: str, title: str) -> Versions:
        """Change the title of a version (named by itself or an alias)."""
        found = self.resolve(identifier)
        if found is None:
            raise VersionsError(f"there is no version {identifier!r}.")
        return Versions(tuple(replace(i, title=title) if i.version == found else i for i in self.items))

    def remove(self, identifier: str) -> tuple[Versions, VersionInfo | str]:
        """Remove a version (with its aliases) or just an alias; returns what was removed."""
        for info in self.items:
            if identifier == info.version:
                return Versions(tuple(i for i in self.items if i is not info)), info
            if identifier in info.aliases:
                kept = replace(info, aliases=tuple(a for a in info.aliases if a != identifier))
                return Versions(tuple(kept if i is info else i for i in self.items)), identifier
        raise VersionsError(f"there is no version or alias {identifier!r}.")


def _checked_aliases(version: str, aliases: Iterable[str]) -> tuple[str, ...]:
    out = []
    for alias in aliases:
        check_name(alias, "alias")
        if alias == version:
            raise VersionsError(f"alias {alias!r} is the version itself; an alias names another folder.")
        out.append(alias)
    return tuple(dict.fromkeys(out))


def parse(data: bytes) -> Versions:
    """A versions.json (ours or mike's); raises VersionsError saying what is wrong."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VersionsError(f"versions.json is not valid JSON ({exc})") from exc
    if not isinstance(doc, list):
        raise VersionsError("versions.json is not a JSON list")
    items = []
    for raw in doc:
        if not isinstance(raw, dict) or not isinstance(raw.get("version"), str):
            raise VersionsError("versions.json has an entry without a 'version' string")
        aliases = raw.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise VersionsError(f"versions.json: the aliases of {raw['version']!r} are not a list of names")
        title = raw.get("title", raw["version"])
        items.append(VersionInfo(raw["version"], str(title), tuple(sorted(aliases)), raw.get("properties")))
    return Versions(tuple(items))


# --- redirect pages -----------------------------------------------------------------


def redirect_page(href: str) -> bytes:
    """A page that sends the reader to ``href`` keeping the query and the anchor (as mike's do)."""
    attr = html.escape(href, quote=True)
    script = json.dumps(href)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n  <meta charset="utf-8">\n  <title>Redirecting</title>\n'
        f'  <noscript>\n    <meta http-equiv="refresh" content="1; url={attr}" />\n  </noscript>\n'
        f"  <script>\n    window.location.replace({script} + window.location.search + window.location.hash);\n"
        f'  </script>\n</head>\n<body>\n  Redirecting to <a href="{attr}">{attr}</a>...\n</body>\n</html>\n'
    ).encode()


def alias_redirect_target(rel: str, version: str) -> str:
    """Relative link from ``<alias>/<rel>`` to the same page of ``<version>`` (path kept; index.html dropped)."""
    depth = rel.count("/")
    page = rel[: -len("index.html")] if rel == "index.html" or rel.endswith("/index.html") else rel
    return "../" * (depth + 1) + f"{version}/{page}"


def is_page(rel: str) -> bool:
    """An HTML page (what a redirect alias gets a redirect for)."""
    return rel.lower().endswith((".html", ".htm"))


@dataclass(frozen=True)
class AliasCopy:
    """One object of an alias folder and where it comes from (a key of the version's folder)."""

    rel: str  # relative to the alias folder
    source_rel: str  # relative to the version folder
    redirect: str | None = None  # WebsiteRedirectLocation to keep (S3 does not copy it)


@dataclass(frozen=True)
class AliasPlan:
    """What moving an alias does: copies (assets, pages, indexes) then deletes of what the version lacks."""

    copies: list[AliasCopy] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    unchanged: int = 0


def plan_alias(
    version_objects: Mapping[str, tuple[str | None, str | None, str | None]],
    alias_objects: Mapping[str, tuple[str | None, str | None, str | None]],
    alias_listed: Mapping[str, str],
) -> AliasPlan:
    """Copy the version's objects whose (md5, headers, body) differ in the alias folder; delete the rest.

    ``version_objects``/``alias_objects``: rel -> (md5, header fingerprint, redirect) from the two
    manifests; ``alias_listed``: rel -> ETag of what is in the alias folder now.
    """
    from mkdocs_s3_crossaccount.core.plan import phase_of

    copies = []
    unchanged = 0
    for rel in sorted(version_objects):
        want = version_objects[rel]
        have = alias_objects.get(rel)
        if have is not None and rel in alias_listed and have[:2] == want[:2] and want[0] is not None:
            unchanged += 1
            continue
        copies.append(AliasCopy(rel, rel, want[2]))
    copies.sort(key=lambda c: (phase_of(c.rel), c.rel))
    deletes = sorted(rel for rel in alias_listed if rel not in version_objects)
    return AliasPlan(copies, deletes, unchanged)


def removed_aliases(before: Versions, after: Versions) -> list[str]:
    """Aliases in ``before`` that are in no version of ``after`` (their folders are deleted)."""
    keep = {a for i in after for a in i.aliases}
    return sorted({a for i in before for a in i.aliases} - keep)


def moved_aliases(before: Versions, after: Versions) -> dict[str, str]:
    """alias -> the version it now points at, for aliases that are new or point elsewhere."""
    out = {}
    for info in after:
        for alias in info.aliases:
            if before.alias_owner(alias) != info.version:
                out[alias] = info.version
    return out


def describe(versions: Versions, default: str | None = None) -> list[str]:
    """A table: version, title, aliases (the default marked)."""
    rows = [("VERSION", "TITLE", "ALIASES")]
    for info in versions:
        mark = " (default)" if default and default in (info.version, *info.aliases) else ""
        rows.append((info.version + mark, info.title, ", ".join(info.aliases)))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows]
