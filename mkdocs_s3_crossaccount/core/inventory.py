"""Local walk: the built site dir -> LocalFile records with size, MD5, headers and body.

Files are streamed through the hash in blocks (never held whole in memory) on a small
thread pool; hashlib releases the GIL, so hashing overlaps with the remote listing.
Files to be stored gzip-compressed are compressed as a stream into the hash (nothing kept),
so their upload ETag is known before planning; the upload compresses them again, to the
same bytes (gzip with mtime 0 and no file name is deterministic).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs_s3_crossaccount.core import redirects
from mkdocs_s3_crossaccount.core.content_types import content_type
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.headers import Body, HeaderRules, fingerprint, gzip_applies
from mkdocs_s3_crossaccount.core.keys import MAX_KEY_BYTES, rel_path, to_key
from mkdocs_s3_crossaccount.core.manifest import MANIFEST_DIR

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

# One value for upload and for comparison: an object we uploaded in parts has the
# ETag we compute here, so big files are not re-sent on every run.
MULTIPART_THRESHOLD = 8 * 1024 * 1024
MULTIPART_CHUNKSIZE = 8 * 1024 * 1024
_BLOCK = 1024 * 1024
MAX_PARTS = 10_000
MIN_PART = 5 * 1024 * 1024
MAX_PART = 5 * 1024**3
GZIP_LEVEL = 9
GZIP_SPOOL = 1024 * 1024  # compressed bodies up to this size stay in memory for the upload
EMPTY_MD5 = hashlib.md5(b"", usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class LocalFile:
    """One file of the built site, hashed, with the object it becomes."""

    rel: str  # path relative to the site dir, '/'-separated, NFC
    key: str  # S3 key (prefix + rel)
    path: str  # file system path to read
    size: int
    md5: str  # hex MD5 of the file's bytes (the source, before any compression)
    etag: str  # the ETag S3 gives the object when we upload it (md5, or md5-of-parts "-N", of the body)
    content_type: str
    body: str = Body.IDENTITY  # what is stored: the file, the file gzipped, or nothing (redirect)
    upload_size: int = -1  # bytes stored (-1: same as size)
    headers: tuple[tuple[str, str], ...] = ()  # S3 header parameters (headers.HeaderRules.headers)
    redirect: str | None = None  # WebsiteRedirectLocation for a redirect page

    def __post_init__(self) -> None:
        if self.upload_size < 0:
            object.__setattr__(self, "upload_size", self.size)
        if not self.headers:
            object.__setattr__(self, "headers", (("ContentType", self.content_type),))

    @property
    def header_dict(self) -> dict[str, str]:
        """The object's headers as request parameters."""
        return dict(self.headers)

    @property
    def header_fp(self) -> str:
        """A fingerprint of the headers (recorded in the manifest)."""
        return fingerprint(self.header_dict)


def multipart_chunksize(size: int) -> int:
    """The part size of a multipart upload of ``size`` bytes (s3transfer's rule, so ETags agree).

    Start at MULTIPART_CHUNKSIZE and double until the upload fits in S3's 10,000 parts;
    stay within S3's 5 MiB to 5 GiB part sizes.
    """
    chunk = MULTIPART_CHUNKSIZE
    while -(-size // chunk) > MAX_PARTS:
        chunk *= 2
    return max(MIN_PART, min(MAX_PART, chunk))


class _EtagHasher:
    """MD5 of a byte stream and the ETag our transfer settings give an upload of it.

    Part digests are kept at the default chunk size as the bytes go by; ``etag`` decides from
    the final size whether the upload is multipart (and re-reads nothing).
    """

    def __init__(self) -> None:
        self.whole = hashlib.md5(usedforsecurity=False)
        self.parts: list[bytes] = []
        self._part = hashlib.md5(usedforsecurity=False)
        self._in_part = 0
        self.size = 0

    def write(self, data: bytes) -> int:
        self.whole.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            take = min(len(view), MULTIPART_CHUNKSIZE - self._in_part)
            self._part.update(view[:take])
            self._in_part += take
            view = view[take:]
            if self._in_part == MULTIPART_CHUNKSIZE:
                self.parts.append(self._part.digest())
                self._part = hashlib.md5(usedforsecurity=False)
                self._in_part = 0
        return len(data)

    def flush(self) -> None:
        pass

    @property
    def md5(self) -> str:
        return self.whole.hexdigest()

    def etag(self) -> str:
        if self.size < MULTIPART_THRESHOLD:
            return self.md5
        if multipart_chunksize(self.size) != MULTIPART_CHUNKSIZE:  # > 10,000 parts (80 GB): not kept
            raise ValueError("file too large for the streamed ETag")
        parts = self.parts + ([self._part.digest()] if self._in_part else [])
        return hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest() + f"-{len(parts)}"


def etag_of_bytes(data: bytes) -> str:
    """The ETag S3 gives an upload of ``data`` with our transfer settings (MD5, or MD5-of-parts)."""
    h = _EtagHasher()
    h.write(data)
    return h.etag()


def _hash_file(path: str, size: int) -> tuple[str, str]:
    """MD5 of the file, and the ETag an upload of it by our transfer settings gets."""
    if multipart_chunksize(size) != MULTIPART_CHUNKSIZE:
        return _hash_file_huge(path, size)
    h = _EtagHasher()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            h.write(block)
    return h.md5, h.etag()


def _hash_file_huge(path: str, size: int) -> tuple[str, str]:
    """Files above 80 GB: s3transfer raises the chunk size, so hash parts at that size."""
    whole = hashlib.md5(usedforsecurity=False)
    chunk = multipart_chunksize(size)
    parts: list[bytes] = []
    with open(path, "rb") as fh:
        while True:
            part = hashlib.md5(usedforsecurity=False)
            got = 0
            while got < chunk and (block := fh.read(min(_BLOCK, chunk - got))):
                whole.update(block)
                part.update(block)
                got += len(block)
            if not got:
                break
            parts.append(part.digest())
    etag = hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest() + f"-{len(parts)}"
    return whole.hexdigest(), etag


def gzip_into(path: str, sink: Any) -> str:
    """Compress the file at ``path`` into ``sink`` (has write()); return the file's own MD5.

    Deterministic: no time stamp (mtime 0), no file name in the header, fixed level.
    """
    source = hashlib.md5(usedforsecurity=False)
    with (
        open(path, "rb") as fh,
        gzip.GzipFile(
            filename="",
            mode="wb",
            compresslevel=GZIP_LEVEL,
            fileobj=sink,
            mtime=0,
        ) as gz,
    ):
        while block := fh.read(_BLOCK):
            source.update(block)
            gz.write(block)
    return source.hexdigest()


def gzipped_body(path: str) -> tempfile.SpooledTemporaryFile[bytes]:
    """The compressed bytes of ``path`` for an upload: in memory when small, else a temp file."""
    # returned open: the upload reads it and apply.upload_all closes it
    spool: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=GZIP_SPOOL)  # noqa: SIM115
    gzip_into(path, spool)
    spool.seek(0)
    return spool


def _walk(root: Path) -> Iterator[tuple[tuple[str, ...], str, int]]:
    """Yield (segments, path, size) for every regular file, refusing links out of ``root``.

    Links inside the site are followed (a web server would serve both paths); a link back
    to one of its own ancestors is skipped, so link loops end.
    """
    real_root = os.path.realpath(root)
    stack: list[tuple[tuple[str, ...], str, frozenset[str]]] = [((), str(root), frozenset({real_root}))]
    while stack:
        segs, directory, ancestors = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            raise PublishError(
                f"Cannot read folder {directory!r} in the site dir: {exc.strerror}.",
                "Check the folder's permissions; nothing was published.",
            ) from exc
        for entry in entries:
            here = (*segs, entry.name)
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if os.path.commonpath([real_root, target]) != real_root:
                    raise PublishError(
                        f"{'/'.join(here)} is a symbolic link to {target}, outside the site dir; "
                        "refusing to publish a file from outside the site.",
                        "Copy the file into the site (or remove the link); nothing was published.",
                    )
                if not os.path.exists(target):
                    raise PublishError(
                        f"{'/'.join(here)} is a broken symbolic link.",
                        "Remove the link or point it at a file inside the site; nothing was published.",
                    )
            if entry.is_dir(follow_symlinks=True):
                real = os.path.realpath(entry.path)
                if real not in ancestors:
                    stack.append((here, entry.path, ancestors | {real}))
            elif entry.is_file(follow_symlinks=True):
                yield here, entry.path, entry.stat(follow_symlinks=True).st_size


@dataclass(frozen=True)
class _Rules:
    """What decides a file's body and headers: the header rules, redirect detection, the prefix."""

    headers: HeaderRules
    detect_redirects: bool
    prefix: str


def _describe(rel: str, key: str, path: str, size: int, ctype: str, how: _Rules) -> LocalFile:
    """Hash one file and decide its body and headers."""
    rules, detect_redirects, prefix = how.headers, how.detect_redirects, how.prefix
    if detect_redirects and size <= redirects.MAX_REDIRECT_PAGE and rel.lower().endswith((".html", ".htm")):
        with open(path, "rb") as fh:
            data = fh.read()
        target = redirects.detect(data)
        if target is not None:
            where = redirects.location(prefix, rel, target)
            if where is None:
                log.warning(
                    "Redirect page %s names %r, which cannot be an S3 redirect; uploading the page",
                    rel,
                    target,
                )
            else:
                md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
                headers = rules.headers(rel, ctype, Body.EMPTY, where)
                return LocalFile(
                    rel, key, path, size, md5, EMPTY_MD5, ctype, Body.EMPTY, 0, tuple(headers.items()), where
                )
    if size > 0 and gzip_applies(rel, rules.gzip):
        h = _EtagHasher()
        md5 = gzip_into(path, h)
        headers = rules.headers(rel, ctype, Body.GZIP)
        return LocalFile(rel, key, path, size, md5, h.etag(), ctype, Body.GZIP, h.size, tuple(headers.items()))
    md5, etag = _hash_file(path, size)
    headers = rules.headers(rel, ctype, Body.IDENTITY)
    return LocalFile(rel, key, path, size, md5, etag, ctype, Body.IDENTITY, size, tuple(headers.items()))


def scan(
    site_dir: str | os.PathLike[str],
    prefix: str,
    content_types: Mapping[str, str] | None = None,
    workers: int = 4,
    *,
    header_rules: HeaderRules | None = None,
    detect_redirects: bool = False,
) -> list[LocalFile]:
    """Every file of the site, hashed; sorted by key. Raises PublishError on unreadable input.

    ``header_rules`` decide Cache-Control, gzip and SSE-KMS (default: the built-in
    Cache-Control defaults, no gzip); ``detect_redirects`` turns mkdocs-redirects pages
    into redirect objects.
    """
    how = _Rules(header_rules or HeaderRules.from_options({}, False, None), detect_redirects, prefix)
    root = Path(site_dir)
    if not root.is_dir():
        raise PublishError(
            f"Site dir {str(root)!r} does not exist or is not a folder.",
            "Run `mkdocs build` first, or point site_dir / SITE_DIR at the built site.",
        )
    found = []
    for segs, path, size in _walk(root):
        rel = rel_path(segs)
        if rel.startswith(MANIFEST_DIR + "/"):
            log.warning("Not publishing %s: %s/ is reserved for the deploy manifest", rel, MANIFEST_DIR)
            continue
        key = to_key(prefix, rel)
        if len(key.encode()) > MAX_KEY_BYTES:
            raise PublishError(
                f"{rel!r} makes an S3 key of {len(key.encode())} bytes; S3 allows {MAX_KEY_BYTES}.",
                "Shorten the file name or the prefix.",
            )
        found.append((rel, key, path, size))
    seen: set[str] = set()
    for rel, _, _, _ in found:
        if rel in seen:
            raise PublishError(
                f"Two files in the site map to the same key {rel!r} (names differing only in Unicode "
                "normalisation, e.g. a decomposed 'é').",
                "Rename one of them; nothing was published.",
            )
        seen.add(rel)

    def hash_one(item: tuple[str, str, str, int]) -> LocalFile:
        rel, key, path, size = item
        try:
            return _describe(rel, key, path, size, content_type(rel, content_types), how)
        except OSError as exc:
            raise PublishError(
                f"Cannot read {rel!r} in the site dir: {exc.strerror}.",
                "Check the file's permissions; nothing was published.",
            ) from exc

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="s3xa-hash") as pool:
        files = list(pool.map(hash_one, found))
    files.sort(key=lambda f: f.key)
    return files
