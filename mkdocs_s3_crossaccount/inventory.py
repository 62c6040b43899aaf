"""Local walk: the built site dir -> LocalFile records with size, MD5 and Content-Type.

Files are streamed through the hash in blocks (never held whole in memory) on a small
thread pool; hashlib releases the GIL, so hashing overlaps with the remote listing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from s3transfer.utils import ChunksizeAdjuster

from .content_types import content_type
from .errors import PublishError
from .keys import MAX_KEY_BYTES, rel_path, to_key

# One value for upload and for comparison: an object we uploaded in parts has the
# ETag we compute here, so big files are not re-sent on every run.
MULTIPART_THRESHOLD = 8 * 1024 * 1024
MULTIPART_CHUNKSIZE = 8 * 1024 * 1024
_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class LocalFile:
    rel: str  # path relative to the site dir, '/'-separated, NFC
    key: str  # S3 key (prefix + rel)
    path: str  # file system path to read
    size: int
    md5: str  # hex MD5 of the bytes
    etag: str  # the ETag S3 gives this file when we upload it (md5, or md5-of-parts "-N")
    content_type: str


def multipart_chunksize(size: int) -> int:
    return int(ChunksizeAdjuster().adjust_chunksize(MULTIPART_CHUNKSIZE, size))


def _hash_file(path: str, size: int) -> tuple[str, str]:
    """MD5 of the file, and the ETag an upload of it by our transfer settings gets."""
    whole = hashlib.md5(usedforsecurity=False)
    multipart = size >= MULTIPART_THRESHOLD
    chunk = multipart_chunksize(size) if multipart else 0
    parts: list[bytes] = []
    part = hashlib.md5(usedforsecurity=False)
    in_part = 0
    with open(path, "rb") as fh:
        while True:
            want = _BLOCK if not multipart else min(_BLOCK, chunk - in_part)
            block = fh.read(want)
            if not block:
                break
            whole.update(block)
            if multipart:
                part.update(block)
                in_part += len(block)
                if in_part == chunk:
                    parts.append(part.digest())
                    part = hashlib.md5(usedforsecurity=False)
                    in_part = 0
    md5 = whole.hexdigest()
    if not multipart:
        return md5, md5
    if in_part:
        parts.append(part.digest())
    etag = hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest() + f"-{len(parts)}"
    return md5, etag


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


def scan(
    site_dir: str | os.PathLike[str],
    prefix: str,
    content_types: Mapping[str, str] | None = None,
    workers: int = 4,
) -> list[LocalFile]:
    """Every file of the site, hashed; sorted by key. Raises PublishError on unreadable input."""
    root = Path(site_dir)
    if not root.is_dir():
        raise PublishError(
            f"Site dir {str(root)!r} does not exist or is not a folder.",
            "Run `mkdocs build` first, or point site_dir / SITE_DIR at the built site.",
        )
    found = []
    for segs, path, size in _walk(root):
        rel = rel_path(segs)
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
            md5, etag = _hash_file(path, size)
        except OSError as exc:
            raise PublishError(
                f"Cannot read {rel!r} in the site dir: {exc.strerror}.",
                "Check the file's permissions; nothing was published.",
            ) from exc
        return LocalFile(rel, key, path, size, md5, etag, content_type(rel, content_types))

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="s3xa-hash") as pool:
        files = list(pool.map(hash_one, found))
    files.sort(key=lambda f: f.key)
    return files
