"""Issue 4 against a real moto server: manifest, ownership, headers, gzip, redirects, CloudFront, scoped sessions."""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

from mkdocs_s3_crossaccount import PublishError, Settings, publish
from mkdocs_s3_crossaccount import engine as publish_module
from mkdocs_s3_crossaccount.aws import session as credentials
from mkdocs_s3_crossaccount.core.manifest import MANIFEST_REL, parse
from mkdocs_s3_crossaccount.core.session_policy import session_policy
from tests.conftest import (
    BUCKET,
    DOCS_ACCOUNT,
    EXAMPLE_SITE,
    EXTERNAL_ID,
    ROLE_ARN,
    Accounts,
    bucket_objects,
    make_site,
)
from tests.integration.test_publish import SITE

pytestmark = pytest.mark.integration


MANIFEST_KEY = f"docs/{MANIFEST_REL}"


def settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {"bucket": BUCKET, "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID, "prefix": "docs"}
    base.update(kw)
    return Settings(**base)


def _is_lock(params: dict[str, Any]) -> bool:
    return str(params.get("Key", "")).endswith(".mkdocs-s3-crossaccount/lock.json")


class Calls:
    """S3 requests the engine makes (operation name, parameters), seen through botocore's events."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def record(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        self.seen.append((model.name, dict(params)))

    def count(self) -> Counter[str]:
        """Requests for the site and its manifest (the per-publish lock is counted apart)."""
        return Counter(name for name, p in self.seen if not _is_lock(p))

    def lock_count(self) -> Counter[str]:
        return Counter(name for name, p in self.seen if _is_lock(p))

    def clear(self) -> None:
        self.seen.clear()


@pytest.fixture
def s3_calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Wraps the engine's real S3 client so every request it sends is counted (nothing is stubbed)."""
    calls = Calls()
    real = publish_module.s3_client

    def counting(ctx: Any, s: Settings) -> Any:
        client = real(ctx, s)
        client.meta.events.register("before-parameter-build.s3", calls.record)
        return client

    monkeypatch.setattr(publish_module, "s3_client", counting)
    return calls


def read_manifest(s3: Any, key: str = MANIFEST_KEY) -> Any:
    return parse(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


@pytest.fixture(scope="session")
def built_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """example-site built once with mkdocs (37 files): the ~40-file site of the request-count figure."""
    root = tmp_path_factory.mktemp("example")
    src = root / "src"
    shutil.copytree(EXAMPLE_SITE, src, ignore=shutil.ignore_patterns("site"))
    os.environ.pop("DOCS_PUBLISH", None)
    cfg = load_config(config_file=str(src / "mkdocs.yml"), site_dir=str(root / "site"))
    build(cfg)
    return root / "site"


# --- manifest ------------------------------------------------------------------------


def test_manifest_records_objects_and_deploy(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, s3_calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_COMMIT_SHA", "0123abcd")
    monkeypatch.setenv("CI_PIPELINE_ID", "4242")
    monkeypatch.setenv("CI_PIPELINE_URL", "https://gitlab.example.com/g/p/-/pipelines/4242")
    site = make_site(tmp_path / "site", SITE)
    result = publish(site, settings())
    assert result.manifest_written
    m = read_manifest(docs_bucket)
    assert set(m.objects) == set(SITE)
    head = docs_bucket.head_object(Bucket=BUCKET, Key="docs/index.html")
    entry = m.objects["index.html"]
    assert entry.etag == head["ETag"].strip('"') and entry.size == len(SITE["index.html"])
    assert entry.md5 == head["ETag"].strip('"') and entry.headers and entry.headers.startswith("sha256:")
    assert m.deploy["number"] == 1
    assert m.deploy["commit_sha"] == "0123abcd" and m.deploy["pipeline_id"] == "4242"
    assert m.deploy["pipeline_url"].endswith("/pipelines/4242")
    assert m.deploy["role_arn"] == ROLE_ARN and m.deploy["plugin_version"]
    # written last, after every object (only the lock release follows), with the owner check
    site_calls = [c for c in s3_calls.seen if not _is_lock(c[1])]
    name, params = site_calls[-1]
    assert name == "PutObject" and params["Key"] == MANIFEST_KEY
    assert params["ExpectedBucketOwner"] == DOCS_ACCOUNT
    assert MANIFEST_KEY not in [k for k, _, _ in result.uploaded]


def test_unchanged_site_reads_the_manifest_and_writes_nothing(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, s3_calls: Calls
) -> None:
    site = make_site(tmp_path / "site", SITE)
    publish(site, settings())
    s3_calls.clear()
    again = publish(site, settings())
    assert again.uploaded == [] and again.copied == [] and again.deleted == []
    assert not again.manifest_written
    assert s3_calls.count() == Counter({"ListObjectsV2": 1, "GetObject": 1})
    assert s3_calls.lock_count() == Counter({"PutObject": 1, "DeleteObject": 1})
    assert all(p.get("ExpectedBucketOwner") == DOCS_ACCOUNT for _, p in s3_calls.seen)


def test_header_rule_change_copies_in_place_without_resending_bytes(
    built_example: Path, accounts: Accounts, docs_bucket: Any, s3_calls: Calls
) -> None:
    files = sorted(p.relative_to(built_example).as_posix() for p in built_example.rglob("*") if p.is_file())
    html = [f for f in files if f.endswith(".html")]
    publish(built_example, settings())
    before = {k: v["ETag"] for k, v in bucket_objects(docs_bucket, prefix="docs/").items()}
    s3_calls.clear()

    result = publish(built_example, settings(cache_control={"*.html": "public, max-age=60"}))

    counts = s3_calls.count()
    print(f"\nheader-rule change on {len(files)} files ({len(html)} pages): S3 requests {dict(counts)}")
    # PutObject: the deploy record (for history and rollback), then the manifest
    assert counts == Counter({"ListObjectsV2": 1, "GetObject": 1, "CopyObject": len(html), "PutObject": 2})
    puts = [p["Key"] for n, p in s3_calls.seen if n == "PutObject" and not _is_lock(p)]
    assert puts == ["docs/.mkdocs-s3-crossaccount/deploys/00000002.json", MANIFEST_KEY]
    assert result.uploaded == [] and sorted(result.copied) == [f"docs/{h}" for h in html]
    for rel in html:
        head = docs_bucket.head_object(Bucket=BUCKET, Key=f"docs/{rel}")
        assert head["CacheControl"] == "public, max-age=60", rel
        assert head["ContentType"] == "text/html; charset=utf-8", rel
    css = docs_bucket.head_object(Bucket=BUCKET, Key="docs/css/extra.css")
    assert css["CacheControl"] == "public, max-age=3600"
    after = {k: v["ETag"] for k, v in bucket_objects(docs_bucket, prefix="docs/").items()}
    assert {k: v for k, v in after.items() if k != MANIFEST_KEY} == {
        k: v for k, v in before.items() if k != MANIFEST_KEY
    }
    # and once applied, the same rule changes nothing
    s3_calls.clear()
    third = publish(built_example, settings(cache_control={"*.html": "public, max-age=60"}))
    assert third.copied == [] and s3_calls.count() == Counter({"ListObjectsV2": 1, "GetObject": 1})


def test_default_cache_control_is_applied(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    files = dict(SITE)
    files["assets/javascripts/bundle.f55a23d4.min.js"] = b"x"
    site = make_site(tmp_path / "site", files)
    publish(site, settings())

    def cc(rel: str) -> str | None:
        return docs_bucket.head_object(Bucket=BUCKET, Key=f"docs/{rel}").get("CacheControl")

    assert cc("index.html") == "no-cache"
    assert cc("search/search_index.json") == "no-cache"
    assert cc("sitemap.xml") == "no-cache"
    assert cc("assets/javascripts/bundle.f55a23d4.min.js") == "public, max-age=31536000, immutable"
    assert cc("assets/app.css") == "public, max-age=3600"


def test_corrupt_manifest_falls_back_to_etags_with_a_warning(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, caplog: pytest.LogCaptureFixture
) -> None:
    site = make_site(tmp_path / "site", SITE)
    publish(site, settings())
    docs_bucket.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=b"{truncated")
    docs_bucket.put_object(Bucket=BUCKET, Key="docs/by-hand.html", Body=b"not ours")
    (site / "assets/app.css").write_bytes(b"body{color:blue}")
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.s3_crossaccount"):
        result = publish(site, settings())
    assert any(r.levelno == logging.WARNING and "unusable" in r.getMessage() for r in caplog.records)
    assert [k for k, _, _ in result.uploaded] == ["docs/assets/app.css"]  # ETag comparison found the one change
    assert len(result.copied) == len(SITE) - 1  # headers nobody recorded are re-applied, bytes stay
    assert result.deleted == []  # ownership unknown: nothing deleted
    assert "docs/by-hand.html" in bucket_objects(docs_bucket, prefix="docs/")
    assert set(read_manifest(docs_bucket).objects) == set(SITE)


# --- ownership, keep, retention ------------------------------------------------------------


def test_first_deploy_leaves_unmanaged_objects_and_says_so(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, caplog: pytest.LogCaptureFixture
) -> None:
    docs_bucket.put_object(Bucket=BUCKET, Key="docs/legacy/report.pdf", Body=b"%PDF")
    docs_bucket.put_object(Bucket=BUCKET, Key="docs/robots.txt", Body=b"User-agent: *")
    site = make_site(tmp_path / "site", {"index.html": b"<html/>", "a.html": b"a"})
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.s3_crossaccount"):
        first = publish(site, settings())
    assert first.deleted == []
    assert any("Left 2 object(s)" in r.getMessage() and "delete_unmanaged" in r.getMessage() for r in caplog.records)
    # a later deploy deletes what it published and no longer has, and only that
    (site / "a.html").unlink()
    second = publish(site, settings())
    assert second.deleted == ["docs/a.html"]
    assert {"docs/legacy/report.pdf", "docs/robots.txt"} <= set(bucket_objects(docs_bucket, prefix="docs/"))
    # delete_unmanaged takes the rest, except what keep protects; the manifest is never deleted
    third = publish(site, settings(delete_unmanaged=True, keep=["robots.txt"]))
    assert third.deleted == ["docs/legacy/report.pdf"]
    assert set(bucket_objects(docs_bucket, prefix="docs/")) == {"docs/index.html", "docs/robots.txt", MANIFEST_KEY}


def test_keep_protects_owned_objects(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"<html/>", "downloads/v1.zip": b"zip"})
    publish(site, settings())
    (site / "downloads/v1.zip").unlink()
    result = publish(site, settings(keep=["downloads/**"]))
    assert result.deleted == []
    assert "docs/downloads/v1.zip" in bucket_objects(docs_bucket, prefix="docs/")


def test_retain_deploys_keeps_removed_assets_for_n_more_deploys(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    site = make_site(tmp_path / "site", {"index.html": b"<html>1</html>", "assets/old.css": b"old"})
    s = settings(retain_deploys=2)
    publish(site, s)  # deploy 1
    (site / "assets/old.css").unlink()
    (site / "index.html").write_bytes(b"<html>2</html>")
    assert publish(site, s).deleted == []  # deploy 2: left the site
    assert read_manifest(docs_bucket).objects["assets/old.css"].removed_at_deploy == 2
    (site / "index.html").write_bytes(b"<html>3</html>")
    assert publish(site, s).deleted == []  # deploy 3: still retained
    third = publish(site, s)  # deploy 4: nothing else changed, and it is due
    assert third.deleted == ["docs/assets/old.css"]
    assert "assets/old.css" not in read_manifest(docs_bucket).objects


# --- gzip -------------------------------------------------------------------------------


def test_gzip_uploads_deterministic_compressed_bytes(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    files = dict(SITE)
    files["index.html"] = b"<html><body>" + b"home page " * 300 + b"</body></html>"
    site = make_site(tmp_path / "site", files)
    result = publish(site, settings(gzip=True))
    obj = docs_bucket.get_object(Bucket=BUCKET, Key="docs/index.html")
    raw = obj["Body"].read()
    assert obj["ContentEncoding"] == "gzip"
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0"  # gzip with mtime 0
    assert not raw[3] & 0x08, "no file name in the gzip header"
    assert gzip.decompress(raw) == files["index.html"]
    assert len(raw) < len(files["index.html"])
    assert obj["ContentType"] == "text/html; charset=utf-8"
    # already-compressed files are left as they are
    gz = docs_bucket.get_object(Bucket=BUCKET, Key="docs/sitemap.xml.gz")
    assert gz["ContentType"] == "application/gzip" and "ContentEncoding" not in gz
    assert gz["Body"].read() == SITE["sitemap.xml.gz"]
    png = docs_bucket.head_object(Bucket=BUCKET, Key="docs/img/logo.png")
    assert "ContentEncoding" not in png
    uploaded = dict((k, size) for k, _, size in result.uploaded)
    assert uploaded["docs/index.html"] == len(raw)
    # change detection works on the uncompressed content: new mtimes, same bytes -> nothing sent
    for path in site.rglob("*"):
        os.utime(path, (1, 1))
    assert publish(site, settings(gzip=True)).uploaded == []
    # the manifest records the source md5 and the compressed object's ETag
    entry = read_manifest(docs_bucket).objects["index.html"]
    assert entry.body == "gzip" and entry.size == len(raw)


def test_switching_gzip_on_reuploads_the_selected_files(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = make_site(tmp_path / "site", SITE)
    publish(site, settings())
    result = publish(site, settings(gzip=["*.css", "*.js"]))
    assert sorted((k, r) for k, r, _ in result.uploaded) == [
        ("docs/assets/app.css", "headers changed"),
        ("docs/assets/app.js", "headers changed"),
    ]
    assert result.copied == []
    assert docs_bucket.head_object(Bucket=BUCKET, Key="docs/assets/app.css")["ContentEncoding"] == "gzip"


# --- redirects ------------------------------------------------------------------------------


def test_mkdocs_redirects_pages_become_s3_redirects(
    site_copy: Path, tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    cfg_path = site_copy / "mkdocs.yml"
    text = cfg_path.read_text(encoding="utf-8")
    text = text.replace(
        "plugins:\n  - search\n",
        "plugins:\n  - search\n  - redirects:\n      redirect_maps:\n"
        "        old-start.md: getting-started.md\n"
        "        moved/install.md: guide/install.md#steps\n"
        "        external.md: https://example.com/elsewhere/\n",
    )
    cfg_path.write_text(text, encoding="utf-8")
    os.environ.pop("DOCS_PUBLISH", None)
    out = tmp_path / "built"
    build(load_config(config_file=str(cfg_path), site_dir=str(out)))
    assert (out / "old-start/index.html").is_file()

    result = publish(out, settings(redirects=True))

    def head(rel: str) -> dict[str, Any]:
        return dict(docs_bucket.head_object(Bucket=BUCKET, Key=f"docs/{rel}"))

    old = head("old-start/index.html")
    assert old["ContentLength"] == 0
    assert old["WebsiteRedirectLocation"] == "/docs/getting-started/"
    assert head("moved/install/index.html")["WebsiteRedirectLocation"] == "/docs/guide/install/#steps"
    assert head("external/index.html")["WebsiteRedirectLocation"] == "https://example.com/elsewhere/"
    real = head("getting-started/index.html")
    assert "WebsiteRedirectLocation" not in real and real["ContentLength"] > 0
    assert len([k for k, _, size in result.uploaded if size == 0]) == 3
    # unchanged on the next publish; switching redirects off uploads the pages again
    assert publish(out, settings(redirects=True)).uploaded == []
    back = publish(out, settings())
    assert sorted(k for k, _, _ in back.uploaded) == [
        "docs/external/index.html",
        "docs/moved/install/index.html",
        "docs/old-start/index.html",
    ]
    assert "WebsiteRedirectLocation" not in head("old-start/index.html")


# --- CloudFront ---------------------------------------------------------------------------


def make_distribution(accounts: Accounts) -> tuple[str, Any]:
    cf = accounts.docs_client("cloudfront")
    dist = cf.create_distribution(
        DistributionConfig={
            "CallerReference": "docs-test",
            "Comment": "docs",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "docs",
                        "DomainName": f"{BUCKET}.s3-website-us-east-1.amazonaws.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "http-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "docs",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    return str(dist["Distribution"]["Id"]), cf


def invalidated(cf: Any, dist_id: str) -> list[list[str]]:
    items = cf.list_invalidations(DistributionId=dist_id)["InvalidationList"].get("Items") or []
    out = []
    for item in items:
        inv = cf.get_invalidation(DistributionId=dist_id, Id=item["Id"])["Invalidation"]
        out.append(sorted(inv["InvalidationBatch"]["Paths"].get("Items") or []))
    return out


def test_cloudfront_invalidates_exactly_the_changed_paths(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    dist_id, cf = make_distribution(accounts)
    site = make_site(tmp_path / "site", SITE)
    publish(site, settings())  # before the distribution is configured
    s = settings(cloudfront_distribution_id=dist_id, invalidation_wait=True, invalidation_timeout=30)

    nothing = publish(site, s)
    assert nothing.invalidation_ids == [] and invalidated(cf, dist_id) == []

    (site / "guide/index.html").write_bytes(b"<html>guide v2</html>")
    (site / "index.html").write_bytes(b"<html>home v2</html>")
    (site / "café/crème.html").write_bytes(b"<html>neu</html>")
    (site / "img/logo.png").unlink()
    result = publish(site, s)
    assert len(result.invalidation_ids) == 1
    assert invalidated(cf, dist_id) == [
        [
            "/docs/",
            "/docs/caf%C3%A9/cr%C3%A8me.html",
            "/docs/guide/",
            "/docs/guide/index.html",
            "/docs/img/logo.png",
            "/docs/index.html",
        ]
    ]


def test_cloudfront_header_change_and_threshold(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    dist_id, cf = make_distribution(accounts)
    site = make_site(tmp_path / "site", SITE)
    s = settings(cloudfront_distribution_id=dist_id, invalidation_max_paths=5)
    first = publish(site, s)  # 10 new files -> 11 paths > 5: one wildcard
    assert first.invalidation_paths == ["/docs/*"]
    header_change = publish(site, settings(cloudfront_distribution_id=dist_id, cache_control={"*.png": "max-age=1"}))
    assert header_change.copied == ["docs/img/logo.png"]
    assert header_change.invalidation_paths == ["/docs/img/logo.png"]
    assert sorted(invalidated(cf, dist_id)) == [["/docs/*"], ["/docs/img/logo.png"]]


def test_dry_run_shows_invalidation_without_sending_it(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, caplog: pytest.LogCaptureFixture
) -> None:
    dist_id, cf = make_distribution(accounts)
    site = make_site(tmp_path / "site", {"index.html": b"<html/>"})
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.s3_crossaccount"):
        result = publish(site, settings(cloudfront_distribution_id=dist_id, dry_run=True))
    assert result.invalidation_paths == ["/docs/", "/docs/index.html"]
    assert any("(dryrun) invalidate: /docs/index.html" in r.getMessage() for r in caplog.records)
    assert invalidated(cf, dist_id) == []
    assert bucket_objects(docs_bucket, prefix="docs/") == {}


def test_failed_invalidation_is_retried_by_the_next_publish(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any
) -> None:
    dist_id, cf = make_distribution(accounts)
    site = make_site(tmp_path / "site", {"index.html": b"<html/>", "a.html": b"a"})
    publish(site, settings())
    (site / "a.html").write_bytes(b"a2")
    with pytest.raises(PublishError) as info:
        publish(site, settings(cloudfront_distribution_id="E0000000000000"))
    msg = str(info.value)
    assert "site was published" in msg and "E0000000000000" in msg and "next publish" in msg
    assert "Traceback" not in msg
    assert read_manifest(docs_bucket).pending_invalidation == ("/docs/a.html",)
    # nothing changed since, but the pending path is invalidated now
    again = publish(site, settings(cloudfront_distribution_id=dist_id))
    assert again.uploaded == []
    assert invalidated(cf, dist_id) == [["/docs/a.html"]]
    assert read_manifest(docs_bucket).pending_invalidation == ()


# --- scoped sessions and KMS ------------------------------------------------------------------


def test_scope_session_sends_the_policy_with_assume_role(
    tmp_path: Path, accounts: Accounts, docs_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []
    real = credentials._source_session

    def observed(s: Settings) -> Any:
        session = real(s)
        session.register("before-parameter-build.sts.AssumeRole", lambda params, **kw: sent.append(dict(params)))
        return session

    monkeypatch.setattr(credentials, "_source_session", observed)
    dist_id, _ = make_distribution(accounts)
    site = make_site(tmp_path / "site", {"index.html": b"<html/>"})
    publish(site, settings(scope_session=True, cloudfront_distribution_id=dist_id))
    assert len(sent) == 1
    policy = sent[0]["Policy"]
    assert policy == session_policy(role_arn=ROLE_ARN, bucket=BUCKET, prefix="docs", distribution_id=dist_id)
    doc = json.loads(policy)
    assert doc["Statement"][1]["Resource"] == f"arn:aws:s3:::{BUCKET}/docs/*"
    assert sent[0]["ExternalId"] == EXTERNAL_ID
    # without the option, no policy is sent
    sent.clear()
    publish(site, settings())
    assert "Policy" not in sent[0]


def test_kms_key_is_set_on_uploads_copies_and_manifest(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    kms = accounts.docs_client("kms")
    key_arn = kms.create_key(Description="docs")["KeyMetadata"]["Arn"]
    site = make_site(tmp_path / "site", {"index.html": b"<html/>", "a.css": b"a"})
    publish(site, settings(kms_key_arn=key_arn))
    for key in ("docs/index.html", "docs/a.css", MANIFEST_KEY):
        head = docs_bucket.head_object(Bucket=BUCKET, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms", key
        assert head["SSEKMSKeyId"] == key_arn, key
    assert publish(site, settings(kms_key_arn=key_arn)).uploaded == []
    # dropping the key re-applies headers in place
    plain = publish(site, settings())
    assert sorted(plain.copied) == ["docs/a.css", "docs/index.html"]


def test_force_reuploads_everything(tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    site = make_site(tmp_path / "site", SITE)
    publish(site, settings())
    forced = publish(site, settings(force=True))
    assert sorted(k for k, _, _ in forced.uploaded) == sorted(f"docs/{k}" for k in SITE)
    assert {r for _, r, _ in forced.uploaded} == {"forced"}
    assert publish(site, settings()).uploaded == []
