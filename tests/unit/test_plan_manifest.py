"""Planning with a manifest: reasons, header-only changes, ownership, keep, retention (pure)."""

from __future__ import annotations

import pytest

from mkdocs_s3_crossaccount.core.headers import Body, HeaderRules
from mkdocs_s3_crossaccount.core.inventory import EMPTY_MD5, LocalFile
from mkdocs_s3_crossaccount.core.manifest import Entry, Manifest
from mkdocs_s3_crossaccount.core.model import RemoteObject
from mkdocs_s3_crossaccount.core.plan import COPY_MAX, PlanRules, Reason, make_plan, manifest_objects

RULES = HeaderRules.from_options({}, False, None)
MD5_A = "a" * 32
MD5_B = "b" * 32


def local(
    rel: str, md5: str = MD5_A, body: str = Body.IDENTITY, rules: HeaderRules = RULES, size: int = 10
) -> LocalFile:
    etag = {Body.IDENTITY: md5, Body.GZIP: "9" * 32, Body.EMPTY: EMPTY_MD5}[body]
    headers = rules.headers(rel, "text/html", body)
    up = {Body.IDENTITY: size, Body.GZIP: 4, Body.EMPTY: 0}[body]
    return LocalFile(rel, rel, "/dev/null", size, md5, etag, "text/html", body, up, tuple(headers.items()))


def remote(rel: str, etag: str = MD5_A, size: int = 10) -> RemoteObject:
    return RemoteObject(rel, rel, size, etag)


def entry(f: LocalFile, **kw: object) -> Entry:
    base: dict[str, object] = {
        "md5": f.md5,
        "etag": f.etag,
        "size": f.upload_size,
        "headers": f.header_fp,
        "body": f.body,
    }
    base.update(kw)
    return Entry(**base)  # type: ignore[arg-type]


def plan_one(f: LocalFile, r: RemoteObject | None, e: Entry | None, force: bool = False) -> tuple[str, Reason | None]:
    m = Manifest(objects={f.rel: e} if e else {}, deploy={"number": 1}) if e is not None else None
    p = make_plan([f], {f.rel: r} if r else {}, manifest=m, rules=PlanRules(force=force))
    if p.uploads:
        return "upload", p.uploads[0].reason
    if p.copies:
        return "copy", p.copies[0].reason
    return "keep", None


F = local("a.html")
F_CC = local("a.html", rules=HeaderRules.from_options({"*.html": "max-age=60"}, False, None))
F_GZ = local("a.html", body=Body.GZIP)
F_B = local("a.html", md5=MD5_B)


@pytest.mark.parametrize(
    ("name", "f", "r", "e", "expected"),
    [
        ("new", F, None, None, ("upload", Reason.NEW)),
        ("unchanged", F, remote("a.html"), entry(F), ("keep", None)),
        ("content changed", F_B, remote("a.html"), entry(F), ("upload", Reason.CHANGED)),
        ("header rule changed", F_CC, remote("a.html"), entry(F), ("copy", Reason.HEADERS)),
        ("gzip switched on", F_GZ, remote("a.html"), entry(F), ("upload", Reason.HEADERS)),
        ("changed in the bucket", F, remote("a.html", etag="c" * 32), entry(F), ("upload", Reason.REMOTE_CHANGED)),
        # multipart / KMS: the ETag is not the MD5, the manifest's md5 decides
        ("kms etag", F, remote("a.html", etag="kmsopaque"), entry(F, etag="kmsopaque"), ("keep", None)),
        ("etag unknown", F, remote("a.html", etag="x"), entry(F, etag=None), ("keep", None)),
        # no manifest entry: fall back to ETag, and re-apply headers nobody recorded
        ("fallback same", F, remote("a.html"), None, ("copy", Reason.HEADERS_UNKNOWN)),
        ("fallback differs", F, remote("a.html", etag="c" * 32), None, ("upload", Reason.CHANGED)),
        ("fallback size differs", F, remote("a.html", size=11), None, ("upload", Reason.CHANGED)),
        ("forced", F, remote("a.html"), entry(F), ("upload", Reason.FORCED)),
        ("huge header change", F_CC, remote("a.html", size=COPY_MAX + 1), entry(F), ("upload", Reason.HEADERS)),
    ],
)
def test_file_reasons(
    name: str, f: LocalFile, r: RemoteObject | None, e: Entry | None, expected: tuple[str, Reason | None]
) -> None:
    assert plan_one(f, r, e, force=name == "forced") == expected


INDEX = local("index.html")


def owned(old_removed_at: int | None = None) -> Manifest:
    """Deploy 4's manifest: index.html and old.html are ours (old.html maybe already retained)."""
    objs = {"index.html": entry(INDEX), "old.html": entry(local("old.html"), removed_at_deploy=old_removed_at)}
    return Manifest(objects=objs, deploy={"number": 4})


@pytest.mark.parametrize(
    ("name", "kwargs", "deleted", "retained", "unmanaged"),
    [
        ("first deploy leaves everything", {"manifest": None}, [], [], 2),
        (
            "first deploy, delete_unmanaged",
            {"manifest": None, "delete_unmanaged": True},
            ["hand.html", "old.html"],
            [],
            0,
        ),
        ("owned only", {"manifest": owned()}, ["old.html"], [], 1),
        ("keep glob", {"manifest": owned(), "keep": ["old.*"]}, [], ["old.html"], 1),
        ("delete off", {"manifest": owned(), "delete": False}, [], ["old.html"], 1),
        # this is deploy 5; retain 2: left at 5 -> kept at 5 and 6, deleted at 7
        ("retain starts", {"manifest": owned(), "retain_deploys": 2}, [], ["old.html"], 1),
        ("retain counting", {"manifest": owned(old_removed_at=4), "retain_deploys": 2}, [], ["old.html"], 1),
        ("retain over", {"manifest": owned(old_removed_at=3), "retain_deploys": 2}, ["old.html"], [], 1),
    ],
)
def test_deletes_and_ownership(
    name: str, kwargs: dict[str, object], deleted: list[str], retained: list[str], unmanaged: int
) -> None:
    rem = {"index.html": remote("index.html"), "old.html": remote("old.html"), "hand.html": remote("hand.html")}
    rules = dict(kwargs)
    manifest = rules.pop("manifest", None)
    p = make_plan([INDEX], rem, manifest=manifest, rules=PlanRules(**rules))  # type: ignore[arg-type]
    assert [d.rel for d in p.deletes] == deleted
    assert sorted(p.retained) == retained
    assert p.unmanaged_left == unmanaged


def test_retained_entry_remembers_when_it_left_and_reappearing_clears_it() -> None:
    m = Manifest(objects={"index.html": entry(INDEX), "old.html": entry(local("old.html"))}, deploy={"number": 4})
    rem = {"index.html": remote("index.html"), "old.html": remote("old.html")}
    p = make_plan([INDEX], rem, manifest=m, rules=PlanRules(retain_deploys=1))
    assert p.deploy == 5
    assert p.retained["old.html"].removed_at_deploy == 5
    objs = manifest_objects(p, {}, m)
    assert objs["old.html"].removed_at_deploy == 5
    # next deploy: removed for 1 deploy already -> deleted
    m2 = Manifest(objects=objs, deploy={"number": 5})
    p2 = make_plan([INDEX], rem, manifest=m2, rules=PlanRules(retain_deploys=1))
    assert [d.rel for d in p2.deletes] == ["old.html"]
    # or it comes back: it is a site file again, no removal mark
    p3 = make_plan([INDEX, local("old.html")], rem, manifest=m2, rules=PlanRules(retain_deploys=1))
    assert not p3.deletes
    assert manifest_objects(p3, {}, m2)["old.html"].removed_at_deploy is None


def test_manifest_objects_record_what_was_written() -> None:
    m = Manifest(objects={"a.html": entry(F)}, deploy={"number": 1})
    rem = {"a.html": remote("a.html"), "b.html": remote("b.html", etag="c" * 32)}
    b_new = local("b.html", md5=MD5_B)
    p = make_plan([F_CC, b_new, local("c.html")], rem, manifest=m)
    assert [u.file.rel for u in p.copies] == ["a.html"]
    assert sorted(u.file.rel for u in p.uploads) == ["b.html", "c.html"]
    objs = manifest_objects(p, {"a.html": "newcopyetag", "b.html": "kmsetag"}, m)
    assert objs["a.html"].etag == "newcopyetag" and objs["a.html"].headers == F_CC.header_fp
    assert objs["b.html"].etag == "kmsetag" and objs["b.html"].md5 == MD5_B
    assert objs["c.html"].etag == MD5_A  # not captured: the ETag a plain upload gets
    assert p.changed_rels() == ["a.html", "b.html", "c.html"]


def test_delete_guard_counts_only_real_deletes() -> None:
    rem = {f"p{i}.html": remote(f"p{i}.html") for i in range(30)} | {"index.html": remote("index.html")}
    p = make_plan([INDEX], rem, manifest=None)
    assert p.refusal is None and not p.deletes and p.unmanaged_left == 30
    p = make_plan([INDEX], rem, manifest=None, rules=PlanRules(delete_unmanaged=True))
    assert p.refusal is not None and "max_delete_share" in p.refusal
