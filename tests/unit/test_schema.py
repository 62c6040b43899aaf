"""The option schema: every option declared once, documented, and the derived forms agree with it."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from mkdocs_s3_crossaccount.cli.main import cli
from mkdocs_s3_crossaccount.config import schema
from mkdocs_s3_crossaccount.config.reader import read_yaml, validate
from mkdocs_s3_crossaccount.config.settings import HostOptions, Settings
from mkdocs_s3_crossaccount.core.errors import PublishError, SettingsError
from mkdocs_s3_crossaccount.hosts.options import PluginOptions

PACKAGE = Path(__file__).resolve().parents[2] / "mkdocs_s3_crossaccount"
NOT_OPTIONS = {"config_file", "verbose", "quiet", "as_json", "dry_run", "exit_code", "site_dir", "help"}


def test_every_option_has_a_doc() -> None:
    missing = [o.name for o in schema.all_options() if len(o.meta.doc) < 10]
    assert missing == []


def test_every_settings_field_is_a_declared_option() -> None:
    import dataclasses

    for cls in (Settings, HostOptions):
        assert [f.name for f in dataclasses.fields(cls)] == [o.name for o in schema.options(cls)]


@pytest.mark.parametrize(("command", "scopes"), [("publish", {"all", "publish"}), ("check", {"all"})])
def test_cli_flags_are_the_schema_cli_options(command: str, scopes: set[str]) -> None:
    cmd = cli.commands[command]
    flags = {p.name for p in cmd.params if isinstance(p, click.Option)} - NOT_OPTIONS
    expected = {o.name for o in schema.cli_options() if o.meta.cli and o.meta.cli.scope in scopes}
    assert flags == expected
    by_name = {p.name: p for p in cmd.params}
    for opt in schema.cli_options():
        if opt.name in flags:
            assert opt.flag in by_name[opt.name].opts  # the flag name is the option name with dashes


def test_flag_names_stay_as_they_were() -> None:
    names = {o for p in cli.commands["publish"].params for o in p.opts}
    assert {"--bucket", "--role-arn", "--external-id", "--delete", "--max-delete-share", "--site-url-template"} <= names
    assert "--no-delete" in {o for p in cli.commands["publish"].params for o in p.secondary_opts}


def test_the_mkdocs_config_class_has_every_option() -> None:
    assert [name for name, _ in PluginOptions._schema] == [o.name for o in schema.all_options()]


def test_markdown_table_lists_every_option_with_its_flag() -> None:
    table = schema.markdown_table()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [o.name for o in schema.all_options()]
    assert "| `bucket` | `str` | required | `--bucket` |" in table
    assert "`--delete/--no-delete`" in table and "| file only |" in table
    assert "**Secret**" in next(row for row in rows if row.startswith("| `external_id`"))
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs_s3_crossaccount.config.schema", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == table
    assert schema.include_table(f"# Options\n\n{schema.OPTIONS_MARKER}\n") == f"# Options\n\n{table}\n"


def test_each_rule_runs_once_per_value(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    calls: list[str] = []

    def counted(opt: schema.Option) -> schema.Option:
        rule = opt.meta.rule
        if rule is None:
            return opt

        def counting(option: str, value: object) -> object:
            calls.append(option)
            return rule(option, value)

        return dataclasses.replace(opt, meta=dataclasses.replace(opt.meta, rule=counting))

    monkeypatch.setitem(schema._CACHE, Settings, tuple(counted(o) for o in schema.options(Settings)))
    opts = PluginOptions()
    opts.load_dict({"bucket": "example-docs", "prefix": "docs/", "concurrency": 4})
    errors, _ = opts.validate()
    assert errors == []
    assert opts.to_settings().prefix == "docs"
    checked = "bucket prefix duration_seconds checksums max_deletes max_delete_share content_types concurrency transfer"
    checked += " lock_timeout keep cache_control gzip retain_deploys invalidation_max_paths invalidation_timeout"
    checked += " aliases alias_type history_limit"
    assert sorted(calls) == sorted(checked.split())  # once each; unset optional options have no rule to run


def test_rules_are_uniform() -> None:
    with pytest.raises(SettingsError) as info:
        Settings(bucket="example-docs", web_identity_role_arn="nope")
    assert info.value.option == "web_identity_role_arn" and "not an IAM role ARN" in info.value.rule
    with pytest.raises(SettingsError) as info:
        Settings(bucket="example-docs", max_deletes="5")  # type: ignore[arg-type]
    assert info.value.rule == "Expected type: <class 'int'> but received: <class 'str'>"


def test_reader_validates_without_importing_mkdocs(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\nplugins:\n  - s3-crossaccount:\n      bucket: example-docs\n      concurrency: 99\n",
        encoding="utf-8",
    )
    code = textwrap.dedent(
        """
        import sys
        from mkdocs_s3_crossaccount.config import reader
        from mkdocs_s3_crossaccount.core.errors import PublishError
        ok = reader.validate({"bucket": "example-docs", "prefix": "docs/"}, "x")[1]
        assert ok.prefix == "docs", ok
        try:
            reader.load("mkdocs.yml", {})
        except PublishError as exc:
            assert "Option 'concurrency': 99 must be between 1 and 64" in str(exc), exc
        else:
            raise AssertionError("no error")
        loaded = [m for m in sys.modules if m.split(".")[0] in ("mkdocs", "click", "boto3", "botocore")]
        assert loaded == [], loaded
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_env_tag_as_mkdocs_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_SET", "123")
    monkeypatch.setenv("T_BOOL", "true")
    monkeypatch.delenv("T_UNSET", raising=False)
    cfg = tmp_path / "mkdocs.yml"
    cfg.write_text(
        textwrap.dedent(
            """
            a: !ENV T_SET
            b: !ENV T_UNSET
            c: !ENV [T_UNSET, T_BOOL, false]
            d: !ENV [T_UNSET, 42]
            e: !ENV [T_UNSET, "x"]
            icon: !!python/name:material.extensions.emoji.twemoji
            rel: !relative $config_dir
            """
        ),
        encoding="utf-8",
    )
    data = read_yaml(cfg)
    assert data == {"a": 123, "b": None, "c": True, "d": 42, "e": "x", "icon": None, "rel": None}


def test_inherit_deep_merges_the_parent(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text(
        "site_name: base\ntheme: {name: material, palette: dark}\nplugins: [search]\n", encoding="utf-8"
    )
    (tmp_path / "sub").mkdir()
    child = tmp_path / "sub" / "mkdocs.yml"
    child.write_text(
        "INHERIT: ../base.yml\ntheme: {palette: light}\nplugins:\n  - s3-crossaccount: {bucket: example-docs}\n",
        encoding="utf-8",
    )
    data = read_yaml(child)
    assert data["site_name"] == "base"
    assert data["theme"] == {"name": "material", "palette": "light"}
    assert data["plugins"] == [{"s3-crossaccount": {"bucket": "example-docs"}}]
    (tmp_path / "loop.yml").write_text("INHERIT: loop.yml\n", encoding="utf-8")
    with pytest.raises(PublishError, match="INHERIT loops"):
        read_yaml(tmp_path / "loop.yml")


def test_reader_reports_unknown_names() -> None:
    with pytest.raises(PublishError) as info:
        validate({"bucket": "example-docs", "buckett": "x"}, "mkdocs.yml")
    assert "Option 'buckett': Unrecognised configuration name: buckett" in str(info.value)


def _max_params(path: Path) -> tuple[int, str]:
    worst = (0, "")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
            n -= bool(a.args and a.args[0].arg in ("self", "cls"))
            worst = max(worst, (n, f"{path.name}:{node.name}"))
    return worst


@pytest.mark.parametrize("folder", ["config", "hosts", "cli"])
def test_no_function_takes_more_than_six_parameters(folder: str) -> None:
    worst = max(_max_params(p) for p in (PACKAGE / folder).glob("*.py"))
    assert worst[0] <= 6, worst
