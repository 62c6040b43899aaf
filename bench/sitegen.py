"""Deterministic generator of MkDocs-like built sites.

A site of ``n_files`` files holds, like ``mkdocs build`` output:

* ``index.html``, ``404.html``, ``sitemap.xml``, ``sitemap.xml.gz`` and
  ``search/search_index.json`` (about 300 bytes per page) at fixed places;
* about 20 KB style sheets and scripts under ``assets/stylesheets`` and
  ``assets/javascripts``;
* PNG/JPEG files of incompressible bytes under ``assets/images`` and next to some
  pages;
* a few large downloads of several MB (multipart territory for most clients);
* the rest as ~8 KB HTML pages ``section-XX/page-YYY/index.html``.

Every file's bytes depend only on the seed, the size of the site and the file's path,
so the same arguments always give the same site, byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

GENERATOR_VERSION = "1"
MB = 1024 * 1024

_WORD_TEXT = (
    "bucket role account publish site build mkdocs plugin upload object key prefix "
    "delete policy trust session token region endpoint cache header content type "
    "index page section asset script style image search sitemap manifest checksum "
    "etag multipart part parallel worker queue retry backoff error warning strict "
    "config option default value example the a of to and in is for with on that by "
    "this be are as it from or at an"
)
_WORDS = _WORD_TEXT.split()


@dataclass(frozen=True)
class SiteSpec:
    """What to generate."""

    n_files: int
    seed: int = 20261128
    large_sizes_mb: tuple[int, ...] = (6, 9, 12)

    @property
    def name(self) -> str:
        return f"site-{self.n_files}-s{self.seed}-v{GENERATOR_VERSION}"


@dataclass(frozen=True)
class SiteFile:
    """One file of a site: key (path relative to the site root), size and MD5."""

    key: str
    size: int
    md5: str


def _rng(spec: SiteSpec, key: str) -> random.Random:
    digest = hashlib.sha256(f"{spec.seed}:{spec.n_files}:{key}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _text(rng: random.Random, n_bytes: int) -> str:
    parts: list[str] = []
    size = 0
    while size < n_bytes:
        sentence = " ".join(rng.choices(_WORDS, k=rng.randint(8, 20))).capitalize() + "."
        para = f"<p>{sentence} {sentence[::-1]}</p>\n"
        parts.append(para)
        size += len(para)
    return "".join(parts)


def _html_page(rng: random.Random, title: str, n_bytes: int) -> bytes:
    head = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title} - Bench Docs</title>\n"
        '<link rel="stylesheet" href="/assets/stylesheets/main.css">\n'
        '<script src="/assets/javascripts/bundle.js" defer></script>\n</head>\n<body>\n'
        f"<h1>{title}</h1>\n"
    )
    tail = "</body>\n</html>\n"
    body = _text(rng, max(0, n_bytes - len(head) - len(tail)))
    return (head + body + tail).encode()


def _image(rng: random.Random, ext: str, n_bytes: int) -> bytes:
    magic = b"\x89PNG\r\n\x1a\n" if ext == "png" else b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    return magic + rng.randbytes(max(0, n_bytes - len(magic)))


def _asset(rng: random.Random, kind: str, n_bytes: int) -> bytes:
    if kind == "css":
        unit = ".md-{0} {{ margin: {1}px; padding: {2}px; color: #{3:06x}; }}\n"
    else:
        unit = "function f{0}(a) {{ return a * {1} + {2} - 0x{3:06x}; }}\n"
    out: list[str] = []
    size = 0
    i = 0
    while size < n_bytes:
        line = unit.format(i, rng.randint(0, 64), rng.randint(0, 64), rng.getrandbits(24))
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out).encode()


def layout(spec: SiteSpec) -> list[tuple[str, str, int]]:
    """``(key, kind, approximate size)`` of every file of the site, in a fixed order."""
    n = spec.n_files
    fixed = [
        "index.html",
        "404.html",
        "sitemap.xml",
        "sitemap.xml.gz",
        "search/search_index.json",
    ]
    if n < 30:
        raise ValueError("a site needs at least 30 files")
    large = list(spec.large_sizes_mb if n >= 1000 else spec.large_sizes_mb[1:2])
    n_assets = max(4, min(40, n // 100))
    n_images = max(4, n // 20)
    n_pages = n - len(fixed) - len(large) - n_assets - n_images
    rng = random.Random(spec.seed + n)
    items: list[tuple[str, str, int]] = []
    for i in range(n_assets):
        kind = "css" if i % 2 == 0 else "js"
        folder = "stylesheets" if kind == "css" else "javascripts"
        name = "main" if i < 2 else f"extra-{i:02d}"
        if i < 2 and kind == "js":
            name = "bundle"
        items.append((f"assets/{folder}/{name}.{kind}", kind, rng.randint(16_000, 24_000)))
    sections = max(1, round(n_pages**0.5 / 2))
    page_keys: list[str] = []
    for i in range(n_pages):
        section, page = divmod(i, -(-n_pages // sections))
        key = f"section-{section:02d}/page-{page:03d}/index.html"
        page_keys.append(key)
        items.append((key, "html", rng.randint(6_000, 10_000)))
    for i in range(n_images):
        ext = "png" if i % 3 else "jpg"
        if i % 2:
            key = f"assets/images/figure-{i:04d}.{ext}"
        else:
            key = page_keys[(i * 7) % len(page_keys)].replace("index.html", f"figure-{i:04d}.{ext}")
        items.append((key, ext, rng.randint(5_000, 60_000)))
    for i, size_mb in enumerate(large):
        ext = ("zip", "pdf", "mp4")[i % 3]
        items.append((f"downloads/bundle-{i}.{ext}", "large", size_mb * MB))
    items.extend((key, "fixed", 0) for key in fixed)
    return items


def _render(spec: SiteSpec, key: str, kind: str, size: int, page_keys: list[str]) -> bytes:
    rng = _rng(spec, key)
    if kind == "html":
        return _html_page(rng, key.rsplit("/", 2)[-2], size)
    if kind in ("png", "jpg"):
        return _image(rng, kind, size)
    if kind in ("css", "js"):
        return _asset(rng, kind, size)
    if kind == "large":
        return rng.randbytes(size)
    if key in ("index.html", "404.html"):
        return _html_page(rng, "Home" if key == "index.html" else "Not found", 8_000)
    if key.startswith("sitemap.xml"):
        urls = "".join(
            f"<url><loc>https://docs.example.com/{k[: -len('index.html')]}</loc><lastmod>2026-11-28</lastmod></url>\n"
            for k in page_keys
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{urls}</urlset>\n"
        ).encode()
        return gzip.compress(xml, mtime=0) if key.endswith(".gz") else xml
    if key == "search/search_index.json":
        docs = [
            {
                "location": k[: -len("index.html")],
                "title": k.split("/")[1],
                "text": _text(rng, 200),
            }
            for k in page_keys
        ]
        return json.dumps({"config": {"lang": ["en"]}, "docs": docs}).encode()
    raise ValueError(f"unknown file {key}")


def iter_files(spec: SiteSpec) -> Iterator[tuple[str, bytes]]:
    """Yield ``(key, bytes)`` for every file of the site."""
    items = layout(spec)
    page_keys = [key for key, kind, _ in items if kind == "html"]
    for key, kind, size in items:
        yield key, _render(spec, key, kind, size, page_keys)


def generate(spec: SiteSpec, root: Path) -> Path:
    """Write the site under ``root / spec.name`` unless it is there; return its path."""
    site = root / spec.name
    marker = root / f"{spec.name}.complete"
    if site.is_dir() and marker.is_file():
        return site
    shutil.rmtree(site, ignore_errors=True)
    marker.unlink(missing_ok=True)
    for key, data in iter_files(spec):
        path = site / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    marker.write_text(GENERATOR_VERSION + "\n")
    return site


def inventory(site: Path) -> dict[str, SiteFile]:
    """Key, size and MD5 of every file under ``site`` (keys use ``/``)."""
    result: dict[str, SiteFile] = {}
    for dirpath, _dirs, files in os.walk(site):
        for name in files:
            path = Path(dirpath) / name
            key = path.relative_to(site).as_posix()
            data = path.read_bytes()
            result[key] = SiteFile(key, len(data), hashlib.md5(data).hexdigest())
    return result


def set_mtimes(site: Path, mtime: float) -> None:
    """Give every file under ``site`` the same modification time."""
    for dirpath, _dirs, files in os.walk(site):
        for name in files:
            os.utime(Path(dirpath) / name, (mtime, mtime))


EDITED_KEY = "section-00/page-001/index.html"


def edit_page(site: Path, marker: str = "edited") -> tuple[str, bytes]:
    """Change one page (bytes and size) as an author's edit would.

    Returns the page's key and its original bytes, for :func:`restore_page`.
    """
    path = site / EDITED_KEY
    original = path.read_bytes()
    note = f"<p>This paragraph was {marker}.</p>\n</body>".encode()
    path.write_bytes(original.replace(b"</body>", note))
    return EDITED_KEY, original


def restore_page(site: Path, key: str, original: bytes) -> None:
    """Put back the bytes that :func:`edit_page` replaced."""
    (site / key).write_bytes(original)
