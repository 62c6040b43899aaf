"""Versioned docs: versions.json logic (pure) and the versioned pipeline against the in-memory destination."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import PublishError, SettingsError
from mkdocs_s3_crossaccount.core.manifest import MANIFEST_REL, parse
from mkdocs_s3_crossaccount.core.memory import MemoryDestination
from mkdocs_s3_crossaccount.core.report import PublishResult
from mkdocs_s3_crossaccount.core.versions import (
    Versions,
    VersionsError,
    alias_redirect_target,
    loose_key,
    order_key,
)
from mkdocs_s3_crossaccount.core.versions import (
    parse as parse_versions,
)
from mkdocs_s3_crossaccount.engine import Run, inventory, keyed_settings, publish_versioned
from tests.conftest import make_site

SITE = {
    "index.html": b"<html>home</html>",
    "guide/index.html": b"<html>guide</html>",
    "assets/style.css": b"body{}",
    "sitemap.xml": b"<urlset/>",
}


def publish_version(dest: MemoryDestination, root: Path, **options: object) -> PublishResult:
    settings = Settings(bucket="memory-bucket", prefix="docs", **options)  # type: ignore[arg-type]
    run = Run(str(root), settings, "222222222222", "us-east-1", progress_interval=0)
    return publish_versioned(dest, lambda: inventory(str(root), keyed_settings(settings)), run, None)


def versions_json(dest: MemoryDestination) -> list[dict[str, object]]:
    return json.loads(dest.objects["docs/versions.json"].body)  # type: ignore[no-any-return]


@pytest.fixture
def dest() -> MemoryDestination:
    return MemoryDestination(prefix="docs")


NAMES = ["1.0", "1.10", "1.2", "dev", "2.0rc1", "2.0", "v3", "main", "1.0.0-beta", "1.0-1", "0.9.post1", "10"]


def test_mike_order_puts_dev_versions_first_and_compares_numbers() -> None:
    versions = Versions()
    for name in NAMES:
        versions = versions.add(name)
    assert versions.names()[:5] == ["main", "dev", "10", "2.0", "2.0rc1"]
    assert versions.names().index("1.10") < versions.names().index("1.2")


def test_order_is_mikes() -> None:
    mike_versions = pytest.importorskip("mike.versions")
    theirs = mike_versions.Versions()
    ours = Versions()
    for name in NAMES:
        theirs.add(name)
        ours = ours.add(name)
    assert ours.names() == [str(i.version) for i in theirs]
    assert loose_key("1.0") == loose_key("1")
    assert order_key("2.0") > order_key("2.0rc1")


def test_alias_moves_between_versions_and_names_stay_unique() -> None:
    versions = Versions().add("1.0", aliases=["latest", "stable"]).add("2.0", aliases=["latest"])
    assert versions.get("2.0").aliases == ("latest",)  # type: ignore[union-attr]
    assert versions.get("1.0").aliases == ("stable",)  # type: ignore[union-attr]
    with pytest.raises(VersionsError, match="already a version"):
        versions.add("3.0", aliases=["1.0"])
    with pytest.raises(VersionsError, match="already an alias"):
        versions.add("stable")
    with pytest.raises(VersionsError, match="not a valid version"):
        versions.add("a/b")
    after, removed = versions.remove("1.0")
    assert after.names() == ["2.0"] and getattr(removed, "version", None) == "1.0"
    assert versions.retitle("latest", "Two").get("2.0").title == "Two"  # type: ignore[union-attr]


def test_versions_json_round_trips_with_properties() -> None:
    data = (
        b'[\n  {\n    "version": "1.0",\n    "title": "One",\n    "aliases": [],\n    "properties": {"a": 1}\n  }\n]\n'
    )
    versions = parse_versions(data)
    assert versions.get("1.0").properties == {"a": 1}  # type: ignore[union-attr]
    assert json.loads(versions.dumps()) == json.loads(data)
    with pytest.raises(VersionsError, match="not a JSON list"):
        parse_versions(b"{}")


def test_alias_redirect_targets_keep_the_page() -> None:
    assert alias_redirect_target("index.html", "1.0") == "../1.0/"
    assert alias_redirect_target("guide/index.html", "1.0") == "../../1.0/guide/"
    assert alias_redirect_target("a/b/page.html", "2.0") == "../../../2.0/a/b/page.html"


def test_settings_rules_for_versions() -> None:
    with pytest.raises(SettingsError, match="needs version"):
        Settings(bucket="memory-bucket", aliases=["latest"])
    with pytest.raises(SettingsError, match="the version itself"):
        Settings(bucket="memory-bucket", version="1.0", aliases=["1.0"])
    with pytest.raises(SettingsError, match="alias type"):
        Settings(bucket="memory-bucket", version="1.0", alias_type="symlink")
    with pytest.raises(SettingsError, match="not a valid version"):
        Settings(bucket="memory-bucket", version="..")


def test_two_versions_alias_and_default(tmp_path: Path, dest: MemoryDestination) -> None:
    v1 = make_site(tmp_path / "v1", SITE)
    publish_version(dest, v1, version="1.0", aliases=["latest"], default_version="latest")
    v2 = make_site(tmp_path / "v2", {**SITE, "guide/index.html": b"<html>guide 2</html>", "new.html": b"<p>n</p>"})
    (v2 / "assets/style.css").unlink()
    dest.calls.clear()
    publish_version(dest, v2, version="2.0", version_title="Two", aliases=["latest"])

    site = dest.site()
    assert versions_json(dest) == [
        {"version": "2.0", "title": "Two", "aliases": ["latest"]},
        {"version": "1.0", "title": "1.0", "aliases": []},
    ]
    # each version its own folder and manifest; publishing 2.0 wrote nothing under 1.0/
    assert site["1.0/guide/index.html"] == b"<html>guide</html>"
    assert site["2.0/guide/index.html"] == b"<html>guide 2</html>"
    assert {rel for rel in site if rel.endswith(MANIFEST_REL)} == {
        f"{d}/{MANIFEST_REL}" for d in ("1.0", "2.0", "latest")
    }
    assert not any(key.startswith("docs/1.0/") for op, key in dest.calls if op not in ("list", "get"))
    # the alias moved: it is a copy of 2.0, the stale asset deleted, copied server-side only
    latest = {rel[len("latest/") :]: body for rel, body in site.items() if rel.startswith("latest/")}
    two = {rel[len("2.0/") :]: body for rel, body in site.items() if rel.startswith("2.0/")}
    assert {r: b for r, b in latest.items() if ".mkdocs" not in r} == {
        r: b for r, b in two.items() if ".mkdocs" not in r
    }
    assert "latest/assets/style.css" not in site
    assert sorted(dest.ops("copy_from")) == ["docs/latest/guide/index.html", "docs/latest/new.html"]
    assert not [k for k in dest.ops("upload") if k.startswith("docs/latest/")]
    # the root redirects to the default (kept from the first publish)
    assert b'"latest/"' in site["index.html"]
    assert dest.objects["docs/versions.json"].headers["ContentType"] == "application/json"
    alias_manifest = parse(site[f"latest/{MANIFEST_REL}"])
    assert alias_manifest.deploy["alias_of"] == "2.0"


def test_republishing_a_version_copies_only_what_changed(tmp_path: Path, dest: MemoryDestination) -> None:
    v1 = make_site(tmp_path / "v1", SITE)
    publish_version(dest, v1, version="1.0", aliases=["latest"])
    (v1 / "guide/index.html").write_bytes(b"<html>fixed</html>")
    dest.calls.clear()
    publish_version(dest, v1, version="1.0", aliases=["latest"])
    assert dest.ops("copy_from") == ["docs/latest/guide/index.html"]
    assert dest.site()["latest/guide/index.html"] == b"<html>fixed</html>"


def test_unknown_default_is_refused_before_anything_changes(tmp_path: Path, dest: MemoryDestination) -> None:
    v1 = make_site(tmp_path / "v1", SITE)
    with pytest.raises(PublishError, match="neither a version nor an alias"):
        publish_version(dest, v1, version="1.0", default_version="stable")
    assert dest.objects == {}


def test_dry_run_changes_nothing(tmp_path: Path, dest: MemoryDestination) -> None:
    v1 = make_site(tmp_path / "v1", SITE)
    publish_version(dest, v1, version="1.0", aliases=["latest"], dry_run=True)
    assert dest.objects == {}


def test_version_numbers_need_quotes_but_env_tags_keep_their_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mkdocs_s3_crossaccount.config.reader import load, validate

    with pytest.raises(PublishError, match="'version': Expected type"):
        validate({"bucket": "memory-bucket", "version": 1.1}, "mkdocs.yml")
    _, settings = validate({"bucket": "memory-bucket", "version": "1.10", "aliases": ["latest"]}, "mkdocs.yml")
    assert settings.aliases == ("latest",)
    monkeypatch.setenv("CI_COMMIT_TAG", "1.10")
    monkeypatch.setenv("DOCS_ALIASES", "latest, stable")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_name: t\nplugins:\n  - s3-crossaccount:\n      bucket: memory-bucket\n"
        "      version: !ENV CI_COMMIT_TAG\n      aliases: !ENV [DOCS_ALIASES, []]\n",
        encoding="utf-8",
    )
    loaded = load(str(config), {})
    assert loaded.settings.version == "1.10"
    assert loaded.settings.aliases == ("latest", "stable")


class RecordingCdn:
    """A CDN that records the paths it is asked to invalidate (paths as CloudFront's, prefix 'docs')."""

    name = "recording CDN"

    def __init__(self) -> None:
        self.invalidated: list[str] = []

    def paths(self, rels: object, pending: object = ()) -> list[str]:
        return sorted({f"/docs/{rel}" for rel in rels})  # type: ignore[attr-defined]

    def invalidate(self, paths: list[str], salt: str) -> list[str]:
        self.invalidated += paths
        return [f"I{len(self.invalidated)}"]

    def wait(self, ids: list[str]) -> bool:
        return True


def test_cdn_invalidates_the_version_the_alias_and_versions_json(tmp_path: Path, dest: MemoryDestination) -> None:
    v1 = make_site(tmp_path / "v1", SITE)
    publish_version(dest, v1, version="1.0", aliases=["latest"])
    (v1 / "guide/index.html").write_bytes(b"<html>changed</html>")
    cdn = RecordingCdn()
    settings = Settings(bucket="memory-bucket", prefix="docs", version="1.0", aliases=["latest"], default_version="1.0")
    run = Run(str(v1), settings, "222222222222", "us-east-1", progress_interval=0)
    publish_versioned(dest, lambda: inventory(str(v1), keyed_settings(settings)), run, cdn)  # type: ignore[arg-type]
    assert {"/docs/1.0/guide/index.html", "/docs/latest/guide/index.html"} <= set(cdn.invalidated)
    assert {"/docs/versions.json", "/docs/index.html"} <= set(cdn.invalidated)
