"""`history` (the deploys of a prefix) and `rollback` (restore an earlier deploy's object versions)."""

from __future__ import annotations

import json
from typing import Any

import click

from mkdocs_s3_crossaccount.cli.main import _config_flags, _guarded, _settings, cli
from mkdocs_s3_crossaccount.core.history import read_records, summary, table


@cli.command("history")
@_config_flags
@click.option("--json", "as_json", is_flag=True, help="Print the records as a JSON list.")
def history_cmd(as_json: bool, **kwargs: Any) -> None:
    """The deploys of the prefix (of the configured version, when `version` is set), newest first.

    Kept: the last `history_limit` (default 20). Each: id, time, commit, pipeline, uploaded and
    deleted counts, who published.
    """
    from mkdocs_s3_crossaccount.engine import connected, keyed_settings

    def body() -> int:
        settings, _ = _settings(kwargs)
        with connected(settings) as (root, _cdn):
            dest = root.at(keyed_settings(settings).prefix)
            records = read_records(dest)
        if as_json:
            click.echo(json.dumps([summary(r) for r in records], indent=2))
        elif not records:
            click.echo(f"No deploy records under {dest.url} yet (each publish that changes something writes one).")
        else:
            click.echo(f"Deploys of {dest.url} (newest first):")
            for line in table(records):
                click.echo(line)
        return 0

    _guarded(body)
