"""A file rewritten while it uploads is failed, not recorded as published (issue 10, item 20)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from mkdocs_s3_crossaccount.core.destination import Batch, Progress
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.manifest import MANIFEST_REL
from mkdocs_s3_crossaccount.core.memory import MemoryDestination
from mkdocs_s3_crossaccount.core.plan import Upload
from tests.conftest import make_site
from tests.unit.test_memory_engine import SITE, content, publish_mem


class RewrittenDuringUpload(MemoryDestination):
    """The build (or anything) writes ``victim`` again while its upload is on the wire."""

    victim: Path | None = None

    def upload_many(self, uploads: Sequence[Upload], on_done: Progress) -> Batch:
        batch = super().upload_many(uploads, on_done)
        for up in uploads:
            if self.victim is not None and up.file.path == str(self.victim):
                self.victim.write_bytes(b"<html>guide, rewritten: longer than before</html>")
                self.victim = None
        return batch


def test_a_file_rewritten_during_its_upload_fails_and_the_rerun_fixes_it(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE)
    dest = RewrittenDuringUpload(prefix="docs")
    publish_mem(dest, site)
    (site / "guide" / "index.html").write_bytes(b"<html>guide v2</html>")
    (site / "sitemap.xml").unlink()
    manifest = dest.objects[f"docs/{MANIFEST_REL}"].body
    dest.victim = site / "guide" / "index.html"
    with pytest.raises(PublishError) as err:
        publish_mem(dest, site, max_delete_share=1)
    assert "guide/index.html changed while it was being published" in str(err.value)
    assert "nothing was deleted" in str(err.value)
    assert "sitemap.xml" in content(dest)  # no deletes after the failed phase
    assert dest.objects[f"docs/{MANIFEST_REL}"].body == manifest  # not recorded as done
    again = publish_mem(dest, site, max_delete_share=1)
    assert "docs/guide/index.html" in [k for k, _, _ in again.uploaded]
    assert content(dest)["guide/index.html"] == (site / "guide" / "index.html").read_bytes()
    assert "sitemap.xml" not in content(dest)


def test_an_untouched_site_passes_the_check(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE)
    result = publish_mem(MemoryDestination(prefix="docs"), site)
    assert len(result.uploaded) == len(SITE)
