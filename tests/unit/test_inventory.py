"""Local walk: hashes, multipart ETag, keys of odd names, links out of the site."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.inventory import MULTIPART_CHUNKSIZE, MULTIPART_THRESHOLD, scan


def test_small_files(tmp_path: Path) -> None:
    (tmp_path / "a b").mkdir()
    (tmp_path / "a b" / "c+d#e?.html").write_bytes(b"hello")
    (tmp_path / "index.html").write_bytes(b"")
    files = {f.rel: f for f in scan(tmp_path, "docs")}
    assert set(files) == {"a b/c+d#e?.html", "index.html"}
    f = files["a b/c+d#e?.html"]
    assert f.key == "docs/a b/c+d#e?.html"
    assert f.md5 == f.etag == hashlib.md5(b"hello").hexdigest()
    assert f.content_type == "text/html; charset=utf-8"
    assert files["index.html"].md5 == hashlib.md5(b"").hexdigest()


def test_multipart_etag(tmp_path: Path) -> None:
    data = os.urandom(MULTIPART_THRESHOLD + MULTIPART_CHUNKSIZE // 2)
    (tmp_path / "big.bin").write_bytes(data)
    (f,) = scan(tmp_path, "")
    parts = [data[i : i + MULTIPART_CHUNKSIZE] for i in range(0, len(data), MULTIPART_CHUNKSIZE)]
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f"-{len(parts)}"
    assert f.etag == expected
    assert f.md5 == hashlib.md5(data).hexdigest()


def test_link_out_of_the_site_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("x")
    (site / "leak.txt").symlink_to(outside)
    with pytest.raises(PublishError, match="outside the site dir"):
        scan(site, "")


def test_link_inside_the_site_is_followed_once(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.css").write_text("x")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "loop").symlink_to(tmp_path)
    rels = sorted(f.rel for f in scan(tmp_path, ""))
    assert rels == ["alias/a.css", "real/a.css"]


def test_missing_site_dir(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="does not exist"):
        scan(tmp_path / "nope", "")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_unreadable_file(tmp_path: Path) -> None:
    p = tmp_path / "index.html"
    p.write_text("x")
    p.chmod(0)
    with pytest.raises(PublishError, match="Cannot read"):
        scan(tmp_path, "")


def test_mutually_linked_folders_publish_one_copy_per_link(tmp_path: Path) -> None:
    """5 folders each linking to the other 4 (6 files) gave 326 objects; now each link is one copy."""
    names = [f"d{i}" for i in range(5)]
    for n in names:
        (tmp_path / n).mkdir()
        (tmp_path / n / "f.css").write_text(n)
    for n in names:
        for m in names:
            if m != n:
                (tmp_path / n / f"to_{m}").symlink_to(f"../{m}")
    (tmp_path / "index.html").write_text("x")
    rels = {f.rel for f in scan(tmp_path, "")}
    expected = {"index.html"} | {f"{n}/f.css" for n in names}
    expected |= {f"{n}/to_{m}/f.css" for n in names for m in names if m != n}
    assert rels == expected  # 26 objects, no path through two links
