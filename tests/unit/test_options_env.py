"""Issue 10 item 12: what `!ENV` values mean for our options, the same through the plugin and the CLI.

String options take the variable's text (numbers as written); an `!ENV` prefix or external_id
that gives no value is an error (the bucket root only ever written literally).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mkdocs.utils.yaml import get_yaml_loader, yaml_load

from mkdocs_s3_crossaccount.config.reader import load
from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.hosts.options import PluginOptions

ROLE = "arn:aws:iam::222222222222:role/docs-publisher"
Via = Callable[[Path], Settings]


def via_cli(cfg: Path) -> Settings:
    try:
        return load(str(cfg), {}).settings
    except PublishError as exc:
        raise AssertionError(str(exc)) from None


def via_plugin(cfg: Path) -> Settings:
    """As `mkdocs build` does it: MkDocs reads the YAML (its own !ENV), the plugin's Config validates."""
    with cfg.open("rb") as fh:
        data = yaml_load(fh, loader=get_yaml_loader())
    opts = PluginOptions(config_file_path=str(cfg))
    opts.load_dict(data["plugins"][0]["s3-crossaccount"])
    errors, _ = opts.validate()
    if errors:
        raise AssertionError("; ".join(f"Option '{k}': {e}" for k, e in errors))
    return opts.to_settings()


@pytest.fixture(params=[via_cli, via_plugin], ids=["cli", "plugin"])
def via(request: pytest.FixtureRequest) -> Via:
    return request.param  # type: ignore[no-any-return]


def config(tmp_path: Path, **options: str) -> Path:
    block = {"enabled": "true", "bucket": "example-docs", "role_arn": ROLE, **options}
    lines = "".join(f"      {k}: {v}\n" for k, v in block.items())
    cfg = tmp_path / "mkdocs.yml"
    cfg.write_text(f"site_name: T\nplugins:\n  - s3-crossaccount:\n{lines}", encoding="utf-8")
    return cfg


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DOCS_PREFIX", "DOCS_XID", "DOCS_SESSION", "DOCS_N", "DOCS_PUBLISH"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("text", ["123", "1.10", "0123", "true", "2026-01-01"])
def test_string_options_take_the_variables_text(
    via: Via, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("DOCS_PREFIX", text)
    monkeypatch.setenv("DOCS_SESSION", f"s-{text}" if text == "2026-01-01" else text)
    settings = via(config(tmp_path, prefix="!ENV DOCS_PREFIX", role_session_name="!ENV DOCS_SESSION"))
    assert settings.prefix == text
    assert settings.role_session_name == (f"s-{text}" if text == "2026-01-01" else text)


def test_a_numeric_external_id(via: Via, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCS_XID", "000123")
    assert via(config(tmp_path, external_id="!ENV DOCS_XID")).external_id == "000123"


@pytest.mark.parametrize("text", ["", "null", "~", "Null"])
def test_an_empty_or_null_prefix_from_env_is_an_error(
    via: Via, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("DOCS_PREFIX", text)
    with pytest.raises(AssertionError) as info:
        via(config(tmp_path, prefix="!ENV DOCS_PREFIX"))
    assert "Option 'prefix': comes from !ENV ($DOCS_PREFIX), which is empty or null" in str(info.value)
    assert 'prefix: ""' in str(info.value)


@pytest.mark.parametrize("written", ["!ENV DOCS_PREFIX", "!ENV [DOCS_PREFIX, null]", "!ENV [DOCS_PREFIX, ~]"])
def test_an_unset_prefix_from_env_is_an_error(via: Via, tmp_path: Path, written: str) -> None:
    with pytest.raises(AssertionError) as info:
        via(config(tmp_path, prefix=written))
    assert "Option 'prefix': comes from !ENV ($DOCS_PREFIX), which is not set" in str(info.value)


@pytest.mark.parametrize("written", ['""', "''", '!ENV [DOCS_PREFIX, ""]'])
def test_the_bucket_root_written_literally_is_fine(via: Via, tmp_path: Path, written: str) -> None:
    assert via(config(tmp_path, prefix=written)).prefix == ""


def test_the_env_default_applies_when_unset(via: Via, tmp_path: Path) -> None:
    assert via(config(tmp_path, prefix="!ENV [DOCS_PREFIX, fromfile]")).prefix == "fromfile"


@pytest.mark.parametrize("text", [None, "", "null"])
def test_an_external_id_from_env_that_gives_nothing_is_an_error(
    via: Via, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None
) -> None:
    if text is not None:
        monkeypatch.setenv("DOCS_XID", text)
    with pytest.raises(AssertionError) as info:
        via(config(tmp_path, external_id="!ENV DOCS_XID"))
    assert "Option 'external_id': comes from !ENV ($DOCS_XID)" in str(info.value)
    assert "remove external_id" in str(info.value)


def test_booleans_and_numbers_keep_the_yaml_reading(via: Via, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCS_N", "8")
    monkeypatch.setenv("DOCS_PUBLISH", "false")
    settings = via(config(tmp_path, concurrency="!ENV DOCS_N", delete="!ENV [DOCS_PUBLISH, true]"))
    assert settings.concurrency == 8 and settings.delete is False


def test_other_unset_options_are_unset(via: Via, tmp_path: Path) -> None:
    assert via(config(tmp_path, role_session_name="!ENV DOCS_SESSION")).role_session_name is None
    with pytest.raises(AssertionError, match="Option 'bucket': Required configuration not provided"):
        via(config(tmp_path, bucket="!ENV DOCS_UNSET_BUCKET"))


def test_mkdocs_reading_is_what_the_plugin_checks_against(tmp_path: Path, monkeypatch: Any) -> None:
    """A block MkDocs got from elsewhere than the file (no !ENV there) is taken as MkDocs gives it."""
    monkeypatch.setenv("DOCS_PREFIX", "null")
    cfg = config(tmp_path, prefix="!ENV DOCS_PREFIX")
    opts = PluginOptions(config_file_path=str(cfg))
    opts.load_dict({"bucket": "example-docs", "prefix": "docs"})
    assert opts.validate() == ([], []) and opts.to_settings().prefix == "docs"


def test_a_build_that_does_not_publish_needs_no_ci_variables(tmp_path: Path) -> None:
    """`enabled: !ENV [DOCS_PUBLISH, false]` locally: the unset DOCS_PREFIX / external id don't matter."""
    cfg = config(tmp_path, enabled="!ENV [DOCS_PUBLISH, false]", prefix="!ENV DOCS_PREFIX", external_id="!ENV DOCS_XID")
    settings = via_plugin(cfg)
    assert settings.external_id is None and settings.prefix == ""
    cfg = config(tmp_path, enabled="true", prefix="!ENV DOCS_PREFIX")
    with pytest.raises(AssertionError, match="Option 'prefix': comes from !ENV"):
        via_plugin(cfg)
    with pytest.raises(AssertionError, match="Option 'prefix': comes from !ENV"):
        via_cli(cfg)  # the CLI always publishes (or plans, checks): the rule always applies
