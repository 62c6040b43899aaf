"""The apply stage and the whole pipeline against the in-memory destination (no server, no AWS).

These pin the guarantees that live in our own code, above any transport: phase order, no
deletes after a failure, how far a failed publish got, convergence after a flaky run, the
lock, the manifest, and follow-up (CDN) failures recorded and reported before they are raised.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pytest

from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.apply import apply_plan
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.inventory import LocalFile, scan
from mkdocs_s3_crossaccount.core.keys import INTERNAL_DIR
from mkdocs_s3_crossaccount.core.lock import LOCK_NAME
from mkdocs_s3_crossaccount.core.manifest import MANIFEST_REL, parse
from mkdocs_s3_crossaccount.core.memory import MemoryDestination
from mkdocs_s3_crossaccount.core.plan import make_plan
from mkdocs_s3_crossaccount.core.report import PublishResult
from mkdocs_s3_crossaccount.engine import Run, inventory, publish_to
from tests.conftest import make_site

SITE = {
    "index.html": b"<html>home</html>",
    "guide/index.html": b"<html>guide</html>",
    "assets/style.css": b"body{}",
    "assets/app.js": b"console.log(1)",
    "search/search_index.json": b'{"docs": []}',
    "sitemap.xml": b"<urlset/>",
}


def files_of(root: Path, prefix: str = "docs") -> list[LocalFile]:
    return scan(root, prefix)


def run_for(root: Path, **options: object) -> Run:
    settings = Settings(bucket="memory-bucket", prefix="docs", **options)  # type: ignore[arg-type]
    return Run(str(root), settings, "222222222222", "us-east-1", progress_interval=0)


def publish_mem(dest: MemoryDestination, root: Path, cdn: object = None, **options: object) -> PublishResult:
    run = run_for(root, **options)
    return publish_to(dest, lambda: inventory(str(root), run.settings), run, cdn)  # type: ignore[arg-type]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "site", SITE)


@pytest.fixture
def dest() -> MemoryDestination:
    return MemoryDestination(prefix="docs")


def content(dest: MemoryDestination) -> dict[str, bytes]:
    return {rel: body for rel, body in dest.site().items() if not rel.startswith(".mkdocs-s3-crossaccount/")}


# --- apply ---------------------------------------------------------------------------------


def test_uploads_go_assets_then_pages_then_indexes(site: Path, dest: MemoryDestination) -> None:
    plan = make_plan(files_of(site), {})
    apply_plan(dest, plan, progress_interval=0)
    order = dest.ops("upload")
    phase = {k: i for i, k in enumerate(order)}
    assets = [phase["docs/assets/style.css"], phase["docs/assets/app.js"]]
    pages = [phase["docs/index.html"], phase["docs/guide/index.html"]]
    indexes = [phase["docs/search/search_index.json"], phase["docs/sitemap.xml"]]
    assert max(assets) < min(pages) and max(pages) < min(indexes)


def test_a_failed_page_stops_the_publish_before_indexes_and_deletes(site: Path, dest: MemoryDestination) -> None:
    publish_mem(dest, site)
    (site / "guide/index.html").write_bytes(b"<html>guide v2</html>")
    (site / "sitemap.xml").write_bytes(b"<urlset>v2</urlset>")
    (site / "assets/app.js").unlink()  # stale: would be deleted
    dest.fail("upload", "guide/index.html")
    with pytest.raises(PublishError) as err:
        publish_mem(dest, site)
    msg = str(err.value)
    assert "docs/guide/index.html" in msg
    assert "0 of 2 uploads had finished; nothing was deleted" in msg
    assert "docs/sitemap.xml" not in dest.ops("upload")[len(SITE) :]  # the index phase never started
    assert dest.ops("delete_many") == []
    assert "assets/app.js" in content(dest)
    assert dest.objects["docs/sitemap.xml"].body == SITE["sitemap.xml"]


def test_a_flaky_destination_converges_on_the_rerun(site: Path, dest: MemoryDestination) -> None:
    dest.fail("upload", "assets/style.css", times=1)
    with pytest.raises(PublishError):
        publish_mem(dest, site)
    assert MANIFEST_REL not in dest.site()  # nothing recorded as owned after a failed first publish
    result = publish_mem(dest, site)
    assert content(dest) == SITE
    # app.js went up before style.css failed: without a manifest it is recognised by its ETag and
    # only its headers are re-applied; everything else is uploaded
    assert {k for k, _, _ in result.uploaded} == {f"docs/{r}" for r in SITE if r != "assets/app.js"}
    assert result.copied == ["docs/assets/app.js"]
    assert publish_mem(dest, site).uploaded == []


def test_deletes_run_last_and_a_failed_delete_says_how_far_it_got(site: Path, dest: MemoryDestination) -> None:
    extra = {f"old/{i}.html": b"x" for i in range(3)}
    make_site(site, extra)
    publish_mem(dest, site)
    for rel in extra:
        (site / rel).unlink()
    (site / "index.html").write_bytes(b"<html>home v2</html>")
    dest.fail("delete_many", "old/1.html")
    with pytest.raises(PublishError) as err:
        publish_mem(dest, site)
    assert "1 of 3 stale objects had been deleted" in str(err.value)
    calls = [op for op, _ in dest.calls]
    assert calls.index("delete_many") > max(i for i, op in enumerate(calls) if op == "upload")
    assert dest.objects["docs/index.html"].body == b"<html>home v2</html>"


def test_header_change_is_a_copy_in_place_and_a_failed_copy_deletes_nothing(
    site: Path, dest: MemoryDestination
) -> None:
    publish_mem(dest, site)
    (site / "assets/app.js").unlink()
    dest.fail("copy", "index.html")
    with pytest.raises(PublishError) as err:
        publish_mem(dest, site, cache_control={"*.html": "max-age=60"})
    assert "header updates had finished; nothing was deleted" in str(err.value)
    assert "docs/assets/app.js" in dest.objects
    result = publish_mem(dest, site, cache_control={"*.html": "max-age=60"})
    assert sorted(result.copied) == ["docs/guide/index.html", "docs/index.html"]
    assert result.uploaded == []
    assert dest.objects["docs/index.html"].headers["CacheControl"] == "max-age=60"
    assert result.deleted == ["docs/assets/app.js"]


# --- the pipeline ----------------------------------------------------------------------------


def test_publish_rebuild_edit_delete(site: Path, dest: MemoryDestination) -> None:
    first = publish_mem(dest, site)
    assert len(first.uploaded) == len(SITE) and first.manifest_written
    assert content(dest) == SITE
    manifest = parse(dest.objects[f"docs/{MANIFEST_REL}"].body)
    assert set(manifest.objects) == set(SITE) and manifest.number == 1

    again = publish_mem(dest, site)
    assert again.uploaded == [] and again.deleted == [] and not again.manifest_written

    (site / "guide/index.html").write_bytes(b"<html>guide v2</html>")
    (site / "assets/app.js").unlink()
    edit = publish_mem(dest, site)
    assert [k for k, _, _ in edit.uploaded] == ["docs/guide/index.html"]
    assert edit.deleted == ["docs/assets/app.js"]
    assert parse(dest.objects[f"docs/{MANIFEST_REL}"].body).number == 2  # the no-op publish wrote none
    assert f"docs/{LOCK_NAME}" not in dest.objects  # released


def test_dry_run_changes_nothing(site: Path, dest: MemoryDestination) -> None:
    result = publish_mem(dest, site, dry_run=True)
    assert len(result.plan.uploads) == len(SITE)
    assert dest.objects == {}
    assert [op for op, _ in dest.calls if op not in ("list", "get")] == []


def test_a_held_lock_refuses_before_anything_changes(site: Path, dest: MemoryDestination) -> None:
    dest.put(LOCK_NAME, json.dumps({"identity": "arn:aws:sts::222222222222:assumed-role/r/other"}).encode(), {})
    with pytest.raises(PublishError) as err:
        publish_mem(dest, site)
    assert "Another publish to s3://memory-bucket/docs/ is in progress" in str(err.value)
    assert "assumed-role/r/other" in str(err.value)
    assert set(dest.objects) == {f"docs/{LOCK_NAME}"}


def test_a_stale_lock_is_taken_over(site: Path) -> None:
    now = [datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)]
    dest = MemoryDestination(prefix="docs", clock=lambda: now[0])
    dest.put(LOCK_NAME, b"{}", {})
    publish = publish_mem(dest, site, lock_timeout=60)  # the lock's clock says 2026, far in the past
    assert len(publish.uploaded) == len(SITE)


def test_without_conditional_writes_it_warns_and_publishes(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    dest = MemoryDestination(prefix="docs", conditional="unsupported")
    result = publish_mem(dest, site)
    assert len(result.uploaded) == len(SITE)
    assert "does not support conditional writes" in caplog.text


class FailingCdn:
    """Our own Cdn seam, in memory: plans paths like CloudFront and fails to invalidate."""

    name = "test CDN"

    def __init__(self, fail: bool = True) -> None:
        self.fail = fail
        self.invalidated: list[list[str]] = []

    def paths(self, rels: Iterable[str], pending: Iterable[str] = ()) -> list[str]:
        return sorted({"/docs/" + r for r in rels} | set(pending))

    def invalidate(self, paths: Sequence[str], salt: str) -> list[str]:
        self.invalidated.append(list(paths))
        if self.fail:
            raise PublishError("Access denied to invalidate.", "Allow cloudfront:CreateInvalidation.")
        return ["I1"]

    def wait(self, ids: Sequence[str]) -> bool:
        return True


def test_a_cdn_failure_is_reported_then_raised_and_kept_pending(site: Path, tmp_path: Path) -> None:
    dest = MemoryDestination(prefix="docs")
    report = tmp_path / "report.json"
    cdn = FailingCdn()
    with pytest.raises(PublishError) as err:
        publish_mem(dest, site, cdn, report_file=str(report))
    assert "the CloudFront invalidation failed: Access denied to invalidate." in str(err.value)
    data = json.loads(report.read_text())
    assert data["counts"]["uploaded"] == len(SITE)
    assert "invalidation failed" in data["error"]
    pending = parse(dest.objects[f"docs/{MANIFEST_REL}"].body).pending_invalidation
    assert "/docs/index.html" in pending
    ok: Callable[[], FailingCdn] = lambda: FailingCdn(fail=False)  # noqa: E731
    retry = ok()
    publish_mem(dest, site, retry)
    assert "/docs/index.html" in retry.invalidated[0]  # the next publish invalidates what was left
    assert parse(dest.objects[f"docs/{MANIFEST_REL}"].body).pending_invalidation == ()


# --- delete guards and order (issue 10 items 2 and 11) ---------------------------------------


def test_share_guard_counts_only_managed_objects_not_foreign_ones(tmp_path: Path, dest: MemoryDestination) -> None:
    """2,000 foreign objects beside a 306-object managed site must not dilute the share guard."""
    pages = {"index.html": b"<html>home</html>"} | {f"p/{i}.html": b"<html>%d</html>" % i for i in range(305)}
    root = make_site(tmp_path / "big", pages)
    publish_mem(dest, root)
    for i in range(2000):
        dest.put(f"foreign/{i}.txt", b"theirs", {"ContentType": "text/plain"})
    only_index = make_site(tmp_path / "small", {"index.html": b"<html>home</html>"})
    with pytest.raises(PublishError) as err:
        publish_mem(dest, only_index)
    assert "305 of the 306 objects this publisher manages" in str(err.value)
    assert dest.ops("delete_many") == []
    assert len(content(dest)) == 306 + 2000


def test_deletes_go_pages_then_indexes_then_assets(site: Path, dest: MemoryDestination) -> None:
    """Stale pages go before the assets they use (the reverse of the upload phases)."""
    make_site(site, {"old/page.html": b"<html>old</html>", "old/sitemap.xml": b"<urlset/>", "a/old.css": b"x{}"})
    make_site(site, {"z/old.js": b"1", "z/page.html": b"<html>z</html>"})
    publish_mem(dest, site)
    for rel in ("old/page.html", "old/sitemap.xml", "a/old.css", "z/old.js", "z/page.html"):
        (site / rel).unlink()
    result = publish_mem(dest, site)
    expected = ["docs/old/page.html", "docs/z/page.html", "docs/old/sitemap.xml", "docs/a/old.css", "docs/z/old.js"]
    assert dest.ops("delete_many") == expected
    assert result.deleted == expected


def test_delete_unmanaged_never_deletes_a_nested_publishers_bookkeeping(tmp_path: Path) -> None:
    """A publisher at docs/v2 keeps its manifest, live lock and pages when docs publishes with delete_unmanaged."""
    bucket = MemoryDestination(prefix="docs")
    v2 = MemoryDestination(prefix="docs/v2", objects=bucket.objects)
    v2_site = make_site(tmp_path / "v2", {"index.html": b"<html>v2</html>", "a.css": b"a{}"})
    v2_run = Run(str(v2_site), Settings(bucket="memory-bucket", prefix="docs/v2"), "222222222222", "us-east-1")
    publish_to(v2, lambda: inventory(str(v2_site), v2_run.settings), v2_run, None)
    v2.put(LOCK_NAME, b'{"holder": "the v2 job"}', {"ContentType": "application/json"})  # its live lock
    theirs = {k: o.body for k, o in bucket.objects.items() if k.startswith("docs/v2/")}
    assert f"docs/v2/{MANIFEST_REL}" in theirs and f"docs/v2/{LOCK_NAME}" in theirs
    root_site = make_site(tmp_path / "root", {"index.html": b"<html>root</html>"})
    result = publish_mem(bucket, root_site, delete_unmanaged=True)
    assert not [k for k in result.deleted if k.startswith("docs/v2/")]
    assert {k: o.body for k, o in bucket.objects.items() if k.startswith("docs/v2/")} == theirs
    pages = [k for k in theirs if f"/{INTERNAL_DIR}" not in k]  # its bookkeeping: manifest, lock, deploy records
    assert len(pages) == 2 and result.plan.unmanaged_left == len(pages)  # its pages are counted as left alone


def test_a_nested_bookkeeping_folder_in_the_site_is_not_uploaded(tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", {"index.html": b"x", "v2/.mkdocs-s3-crossaccount/manifest.json": b"{}"})
    assert [f.rel for f in scan(root, "docs")] == ["index.html"]


_HEAD = b'{"format":1,"generator":"mkdocs-s3-crossaccount",'
MALFORMED_MANIFESTS = {
    "5000-digit deploy number": _HEAD + b'"objects":{},"deploy":{"number":' + b"9" * 5000 + b"}}",
    "5000-digit size": _HEAD + b'"deploy":{},"objects":{"index.html":{"size":' + b"7" * 5000 + b"}}}",
    "100k-deep nesting": _HEAD + b'"deploy":{},"objects":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "100k-deep objects": _HEAD + b'"objects":' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}",
    "not UTF-8": b"\xff\xfe\x00{",
    "a list": b"[]",
}


@pytest.mark.parametrize("body", MALFORMED_MANIFESTS.values(), ids=MALFORMED_MANIFESTS.keys())
def test_an_unusable_manifest_warns_and_falls_back_to_etags(
    body: bytes, site: Path, dest: MemoryDestination, caplog: pytest.LogCaptureFixture
) -> None:
    publish_mem(dest, site)
    dest.put(MANIFEST_REL, body, {"ContentType": "application/json"})
    (site / "assets/app.js").unlink()
    (site / "index.html").write_bytes(b"<html>home v2</html>")
    with caplog.at_level("WARNING"):
        result = publish_mem(dest, site)
    assert "is unusable" in caplog.text and "compares objects by ETag" in caplog.text
    assert [k for k, _, _ in result.uploaded] == ["docs/index.html"]  # the rest matched by ETag
    assert result.deleted == [] and "docs/assets/app.js" in dest.objects  # no manifest: nothing deleted
    assert parse(dest.objects[f"docs/{MANIFEST_REL}"].body).number == 1  # a fresh, usable manifest


def test_a_non_utf8_file_name_is_a_clear_error_and_nothing_is_deleted(site: Path, dest: MemoryDestination) -> None:
    publish_mem(dest, site)
    before = dict(content(dest))
    (site / "assets/app.js").unlink()
    os.makedirs(os.fsencode(site) + b"/caf\xe9", exist_ok=True)
    with open(os.fsencode(site) + b"/caf\xe9/cr\xe8me.html", "wb") as fh:  # Latin-1 bytes, not UTF-8
        fh.write(b"<html>x</html>")
    calls = len(dest.calls)
    with pytest.raises(PublishError) as err:
        publish_mem(dest, site)
    message = str(err.value)
    assert "'caf\\\\xe9/cr\\\\xe8me.html'" in message and "not valid UTF-8" in message
    assert "Rename the file" in message and "Nothing was uploaded or deleted" in message
    assert not {op for op, _ in dest.calls[calls:]} & {"upload", "delete_many", "copy"}
    assert content(dest) == before


@pytest.mark.parametrize("delete", [True, False])
def test_a_project_folder_is_refused_unless_allowed(tmp_path: Path, dest: MemoryDestination, delete: bool) -> None:
    project = make_site(
        tmp_path / "proj",
        {"mkdocs.yml": b"site_name: x\n", ".env": b"TOKEN=s3cr3t\n", ".git/config": b"[core]\n", "index.html": b"x"},
    )
    with pytest.raises(PublishError) as err:
        publish_mem(dest, project, delete=delete)
    message = str(err.value)
    assert "looks like a project folder" in message and ".env, .git/, mkdocs.yml" in message
    assert "allow_project_dir: true (--allow-project-dir)" in message
    assert dest.ops("upload") == [] and content(dest) == {}
    publish_mem(dest, project, delete=delete, allow_project_dir=True)
    assert set(content(dest)) == {"mkdocs.yml", ".env", ".git/config", "index.html"}  # forced: as asked
