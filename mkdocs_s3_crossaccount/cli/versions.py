"""`versions` verbs, mirroring mike's: list, delete, alias, retitle, set-default.

Each reads the same plugin block as `publish` (bucket, prefix, role...), takes the prefix's lock
(except `list`), changes versions.json and the folders through the Destination, invalidates the
changed paths on CloudFront, and prints what it changed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import click

from mkdocs_s3_crossaccount.cli.main import _config_flags, _guarded, _settings, cli
from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core import lock
from mkdocs_s3_crossaccount.core.destination import Destination
from mkdocs_s3_crossaccount.core.versions import describe
from mkdocs_s3_crossaccount.core.versions_store import (
    AliasRules,
    Changed,
    alias_version,
    delete_versions,
    invalidate_paths,
    read_state,
    retitle_version,
    set_default,
)


@cli.group("versions")
def versions_group() -> None:
    """Versioned docs under the prefix (versions.json, as mike writes it): list and change them."""


def _rules(settings: Settings, dry_run: bool) -> AliasRules:
    from mkdocs_s3_crossaccount.engine import alias_rules

    return alias_rules(settings, dry_run)


def _change(
    kwargs: dict[str, Any], dry_run: bool, verb: Callable[[Destination, AliasRules, Settings], Changed]
) -> None:
    """Connect, lock the prefix, run the verb, invalidate, print the lines."""
    from mkdocs_s3_crossaccount.engine import connected

    def body() -> int:
        settings, _ = _settings(kwargs)
        with (
            connected(settings) as (dest, cdn),
            lock.held(dest, settings.lock_timeout, enabled=settings.lock and not dry_run),
        ):
            changed = verb(dest, _rules(settings, dry_run), settings)
            if not dry_run:
                invalidate_paths(cdn, changed.rels, salt=f"versions-{int(time.time())}")
        for line in changed.lines:
            click.echo(line)
        return 0

    _guarded(body)


_dry_run = click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")


@versions_group.command("list")
@_config_flags
@click.option("--json", "as_json", is_flag=True, help="Print versions.json as it is (mike's format).")
def list_cmd(as_json: bool, **kwargs: Any) -> None:
    """The versions, newest first: version, title, aliases (the default marked)."""
    from mkdocs_s3_crossaccount.engine import connected

    def body() -> int:
        settings, _ = _settings(kwargs)
        with connected(settings) as (dest, _cdn):
            state = read_state(dest)
        if as_json:
            click.echo(json.dumps([i.to_json() for i in state.versions], indent=2))
        elif not len(state.versions):
            click.echo(f"No versions under {settings.destination} (no versions.json).")
        else:
            for line in describe(state.versions, state.default):
                click.echo(line)
        return 0

    _guarded(body)


@versions_group.command("delete")
@click.argument("identifiers", nargs=-1, required=True, metavar="VERSION_OR_ALIAS...")
@_config_flags
@click.option("--max-deletes", type=int, help="Refuse when a folder has more objects than this.")
@click.option("--force", is_flag=True, help="Also delete the default version (the root redirect is removed).")
@_dry_run
def delete_cmd(identifiers: tuple[str, ...], force: bool, dry_run: bool, **kwargs: Any) -> None:
    """Delete versions (with their aliases' folders) or single aliases, and drop them from versions.json."""
    _change(kwargs, dry_run, lambda dest, rules, _s: delete_versions(dest, identifiers, force, rules))


@versions_group.command("alias")
@click.argument("version")
@click.argument("aliases", nargs=-1, required=True, metavar="ALIAS...")
@_config_flags
@_dry_run
def alias_cmd(version: str, aliases: tuple[str, ...], dry_run: bool, **kwargs: Any) -> None:
    """Point ALIAS... at VERSION (moved from other versions; their folders become copies of VERSION)."""
    _change(kwargs, dry_run, lambda dest, rules, _s: alias_version(dest, version, aliases, rules))


@versions_group.command("retitle")
@click.argument("version")
@click.argument("title")
@_config_flags
@_dry_run
def retitle_cmd(version: str, title: str, dry_run: bool, **kwargs: Any) -> None:
    """Change the title VERSION has in the version selector."""
    _change(kwargs, dry_run, lambda dest, rules, _s: retitle_version(dest, version, title, rules))


@versions_group.command("set-default")
@click.argument("identifier", metavar="VERSION_OR_ALIAS")
@_config_flags
@_dry_run
def set_default_cmd(identifier: str, dry_run: bool, **kwargs: Any) -> None:
    """Make the prefix's index.html redirect to VERSION_OR_ALIAS."""
    _change(kwargs, dry_run, lambda dest, rules, s: set_default(dest, identifier, s.redirects, rules))
