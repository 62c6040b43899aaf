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


@cli.command("rollback")
@_config_flags
@click.option(
    "--to", "deploy_id", type=int, help="The deploy to restore (an id from `history`; default: the previous)."
)
@click.option("--max-deletes", type=int, help="Refuse when more objects than this would be deleted.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
def rollback_cmd(deploy_id: int | None, dry_run: bool, **kwargs: Any) -> None:
    """Restore the prefix to an earlier deploy by server-side copies of the object versions it recorded.

    Needs bucket versioning (refused otherwise, with the command that enables it). Order: assets,
    pages, indexes, then deletes of what later deploys added; then CloudFront invalidation.
    No bytes are uploaded. Permissions: `policy --rollback`.
    """
    from mkdocs_s3_crossaccount.engine import rollback

    def body() -> int:
        settings, _ = _settings(kwargs)
        done = rollback(settings, deploy_id, dry_run=dry_run)
        plan = done.plan
        target = f"deploy #{plan.target.number} (commit {str(plan.target.deploy.get('commit_sha') or '?')[:12]})"
        if dry_run:
            for line in plan.lines(done.destination):
                click.echo(line)
            click.echo(
                f"Dry run: rolling {done.destination} back to {target} would restore {len(plan.copies)} objects "
                f"by server-side copy, delete {len(plan.deletes)}, leave {plan.unchanged}; nothing was changed."
            )
            return 0
        for move in done.aliases:
            click.echo(move.line())
        click.echo(
            f"Rolled {done.destination} back to {target}: {len(plan.copies)} objects restored by server-side copy, "
            f"{len(plan.deletes)} deleted, {plan.unchanged} unchanged, in {done.seconds:.1f} s (new deploy "
            f"#{done.number})."
            + (f" Invalidation {', '.join(done.invalidation_ids)}." if done.invalidation_ids else "")
        )
        return 0

    _guarded(body)
