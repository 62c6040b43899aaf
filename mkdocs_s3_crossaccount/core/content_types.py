"""Content-Type for every file a static docs site contains, the same on every OS.

Python's ``mimetypes`` reads ``/etc/mime.types`` or the Windows registry, so the same
site gets different headers on different runners. This table is ours.
"""

from __future__ import annotations

from collections.abc import Mapping

from mkdocs_s3_crossaccount.core.globs import first_match

UTF8 = "; charset=utf-8"
OCTET_STREAM = "application/octet-stream"

# extension (lower case, without dot) -> media type; text types get the charset below
_TYPES: dict[str, str] = {
    # pages and data
    "html": "text/html",
    "htm": "text/html",
    "xhtml": "application/xhtml+xml",
    "css": "text/css",
    "js": "text/javascript",
    "mjs": "text/javascript",
    "cjs": "text/javascript",
    "json": "application/json",
    "jsonld": "application/ld+json",
    "map": "application/json",
    "webmanifest": "application/manifest+json",
    "xml": "application/xml",
    "xsl": "application/xml",
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "txt": "text/plain",
    "text": "text/plain",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "rst": "text/x-rst",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "yaml": "application/yaml",
    "yml": "application/yaml",
    "toml": "application/toml",
    "ipynb": "application/x-ipynb+json",
    "ics": "text/calendar",
    "vtt": "text/vtt",
    "py": "text/x-python",
    "sh": "text/x-shellscript",
    # images
    "svg": "image/svg+xml",
    "png": "image/png",
    "apng": "image/apng",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "ico": "image/vnd.microsoft.icon",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    # fonts
    "woff": "font/woff",
    "woff2": "font/woff2",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject",
    # media
    "mp4": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    # binaries and archives
    "wasm": "application/wasm",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "gz": "application/gzip",
    "tgz": "application/gzip",
    "tar": "application/x-tar",
    "bz2": "application/x-bzip2",
    "xz": "application/x-xz",
    "7z": "application/x-7z-compressed",
    "epub": "application/epub+zip",
    "bin": OCTET_STREAM,
}

# media types that are text (get "; charset=utf-8") besides text/*
_TEXTUAL = {
    "application/json",
    "application/ld+json",
    "application/manifest+json",
    "application/xml",
    "application/xhtml+xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/yaml",
    "application/toml",
    "application/x-ipynb+json",
    "image/svg+xml",
}


def is_textual(media_type: str) -> bool:
    """Whether a media type is text (gets a charset, may be gzipped)."""
    base = media_type.split(";", 1)[0].strip().lower()
    return base.startswith("text/") or base in _TEXTUAL


def guess(key: str) -> str:
    """Our table's Content-Type for a key (only its last path segment's extension counts).

    ``sitemap.xml.gz`` is a gzip file: the last extension decides, and no
    Content-Encoding is ever implied (browsers would otherwise unpack it).
    """
    name = key.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.lstrip(".") else ""
    media_type = _TYPES.get(ext, OCTET_STREAM)
    return media_type + UTF8 if is_textual(media_type) else media_type


def content_type(key: str, overrides: Mapping[str, str] | None = None) -> str:
    """The Content-Type to store for ``key`` (a path relative to the site dir).

    A user override (first matching glob, in the order given) wins over the table.
    """
    if overrides:
        hit = first_match(key, overrides)
        if hit is not None:
            return hit
    return guess(key)


def known_extensions() -> frozenset[str]:
    """Every extension the built-in table knows."""
    return frozenset(_TYPES)
