"""Planning: reasons, order, and the delete guards (pure, no server)."""

from __future__ import annotations

import pytest

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.inventory import LocalFile
from mkdocs_s3_crossaccount.core.model import RemoteObject, clean_etag
from mkdocs_s3_crossaccount.core.plan import Phase, PlanRules, Reason, check_site, delete_refusal, make_plan, phase_of


def lf(rel: str, md5: str = "a" * 32, size: int = 10, etag: str | None = None) -> LocalFile:
    return LocalFile(rel, rel, "/nowhere/" + rel, size, md5, etag or md5, "text/html")


def ro(rel: str, etag: str = "a" * 32, size: int = 10) -> RemoteObject:
    return RemoteObject(rel, rel, size, etag)


@pytest.mark.parametrize(
    ("rel", "phase"),
    [
        ("assets/app.css", Phase.ASSETS),
        ("img/logo.png", Phase.ASSETS),
        ("search/worker.js", Phase.ASSETS),
        ("index.html", Phase.PAGES),
        ("404.html", Phase.PAGES),
        ("a/b/index.htm", Phase.PAGES),
        ("sitemap.xml", Phase.INDEXES),
        ("sitemap.xml.gz", Phase.INDEXES),
        ("search/search_index.json", Phase.INDEXES),
        ("fr/search/search_index.json", Phase.INDEXES),
        ("not-a-sitemap.xml", Phase.ASSETS),
    ],
)
def test_phase(rel: str, phase: Phase) -> None:
    assert phase_of(rel) is phase


def test_reasons_and_unchanged() -> None:
    local = [lf("index.html"), lf("new.html"), lf("changed.html", md5="b" * 32), lf("resized.css", size=11)]
    remote = {"index.html": ro("index.html"), "changed.html": ro("changed.html"), "resized.css": ro("resized.css")}
    plan = make_plan(local, remote)
    reasons = {u.file.rel: u.reason for u in plan.uploads}
    assert reasons == {"new.html": Reason.NEW, "changed.html": Reason.CHANGED, "resized.css": Reason.CHANGED}
    # same bytes, but no manifest says which headers it has: headers are re-applied in place, not re-sent
    assert [u.file.rel for u in plan.copies] == ["index.html"]
    assert plan.deletes == []


def test_multipart_etag_compares_with_the_local_multipart_etag() -> None:
    local = [lf("big.pdf", md5="c" * 32, size=20, etag="d" * 32 + "-3")]
    assert make_plan(local, {"big.pdf": ro("big.pdf", etag="d" * 32 + "-3", size=20)}).uploads == []
    other_parts = make_plan(local, {"big.pdf": ro("big.pdf", etag="e" * 32 + "-2", size=20)})
    assert [u.reason for u in other_parts.uploads] == [Reason.CHANGED]


def test_order_assets_pages_indexes() -> None:
    local = [lf(r) for r in ("sitemap.xml", "index.html", "a.css", "search/search_index.json", "z/index.html", "b.js")]
    plan = make_plan(local, {})
    order = [u.file.rel for u in plan.uploads]
    assert order == ["a.css", "b.js", "index.html", "z/index.html", "search/search_index.json", "sitemap.xml"]
    assert [[u.file.rel for u in p] for p in plan.phases()] == [
        ["a.css", "b.js"],
        ["index.html", "z/index.html"],
        ["search/search_index.json", "sitemap.xml"],
    ]


def test_deletes_only_when_enabled() -> None:
    remote = {"index.html": ro("index.html"), "gone.html": ro("gone.html")}
    assert [d.rel for d in make_plan([lf("index.html")], remote, rules=PlanRules(delete_unmanaged=True)).deletes] == [
        "gone.html"
    ]
    assert make_plan([lf("index.html")], remote, rules=PlanRules(delete=False, delete_unmanaged=True)).deletes == []
    assert make_plan([lf("index.html")], remote).deletes == [], "without a manifest nothing is ours to delete"


@pytest.mark.parametrize(
    ("n_del", "n_remote", "max_deletes", "share", "refused"),
    [
        (0, 0, 0, 0.0, False),
        (5, 100, 5, 0.5, False),
        (6, 100, 5, 0.5, True),  # count cap
        (10, 12, 500, 0.5, False),  # small deletes never hit the share guard
        (11, 20, 500, 0.5, True),  # 55% > 50%
        (11, 22, 500, 0.5, False),  # exactly 50% is allowed
        (40, 40, 500, 1.0, False),  # share guard off
        (1, 1, 0, 1.0, True),  # max_deletes 0 forbids any delete
    ],
)
def test_delete_guards(n_del: int, n_remote: int, max_deletes: int, share: float, refused: bool) -> None:
    assert (delete_refusal(n_del, n_remote, max_deletes, share) is not None) is refused


def test_refusal_says_how_to_allow() -> None:
    msg = delete_refusal(600, 1000, 500, 1.0)
    assert msg is not None and "max_deletes: 600" in msg and "delete: false" in msg
    msg = delete_refusal(80, 100, 500, 0.5)
    assert msg is not None and "max_delete_share: 0.8" in msg


def test_guard_refuses_all_not_the_first_n() -> None:
    remote = {f"p{i}.html": ro(f"p{i}.html") for i in range(10)}
    plan = make_plan([lf("index.html")], remote, rules=PlanRules(max_deletes=3, delete_unmanaged=True))
    assert plan.refusal is not None
    assert len(plan.deletes) == 10  # the plan shows all of them; the engine then refuses them all


def test_check_site() -> None:
    with pytest.raises(PublishError, match="empty"):
        check_site([], delete=False, site_dir="site")
    with pytest.raises(PublishError, match=r"no index\.html"):
        check_site([lf("a.html")], delete=True, site_dir="site")
    check_site([lf("a.html")], delete=False, site_dir="site")
    check_site([lf("index.html")], delete=True, site_dir="site")


@pytest.mark.parametrize(("raw", "clean"), [('"ABC"', "abc"), ("abc", "abc"), (' "d-2" ', "d-2")])
def test_clean_etag(raw: str, clean: str) -> None:
    assert clean_etag(raw) == clean


def test_plain_md5_etag_of_a_multipart_object_counts_as_same() -> None:
    # S3-compatible stores (rclone --etag-hash MD5) list a multipart object with the whole file's MD5
    big = lf("big.pdf", md5="c" * 32, size=20, etag="d" * 32 + "-3")
    plan = make_plan([big], {"big.pdf": ro("big.pdf", etag="c" * 32, size=20)})
    assert plan.uploads == [], "same bytes must not be sent again"
    other = make_plan([big], {"big.pdf": ro("big.pdf", etag="e" * 32, size=20)})
    assert [u.reason for u in other.uploads] == [Reason.CHANGED]
