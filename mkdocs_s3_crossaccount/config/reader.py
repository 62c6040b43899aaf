"""Read the plugin block from mkdocs.yml (or zensical.toml) for the CLI.

MkDocs' own YAML loader resolves ``!ENV`` (and ``INHERIT``); tags that would import code
(``!!python/name:`` in Material configs) are read as None, since the publisher needs none
of them and the publish job may not have those packages. Options are validated by the same
``PluginOptions`` class the plugin uses.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from mkdocs.exceptions import ConfigurationError
from mkdocs.utils.yaml import get_yaml_loader, yaml_load

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.hosts.options import PluginOptions

PLUGIN_NAMES = ("s3-crossaccount", "mkdocs-s3-crossaccount")
DEFAULT_FILES = ("mkdocs.yml", "mkdocs.yaml", "zensical.toml")


class _Tolerant(yaml.SafeLoader):  # type: ignore[misc]
    pass


def _ignore(loader: yaml.Loader, suffix: str, node: yaml.Node) -> None:
    return None


_Tolerant.add_multi_constructor("tag:yaml.org,2002:python/", _ignore)
_Tolerant.add_multi_constructor("!relative", _ignore)


@dataclass
class Loaded:
    path: Path
    options: PluginOptions
    site_dir: Path


def find_config(explicit: str | None) -> Path:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise PublishError(f"Config file {explicit!r} does not exist.", "Pass -f with the path to mkdocs.yml.")
        return path
    for name in DEFAULT_FILES:
        if Path(name).is_file():
            return Path(name)
    raise PublishError(
        "No mkdocs.yml, mkdocs.yaml or zensical.toml in the current folder.",
        "Run from the project folder or pass -f path/to/mkdocs.yml.",
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        if path.suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            with path.open("rb") as fh:
                data = tomllib.load(fh)
            return dict(data.get("project", data))
        with path.open("rb") as fh:
            return yaml_load(fh, loader=get_yaml_loader(loader=_Tolerant))
    except ConfigurationError as exc:
        raise PublishError(f"Cannot read {path}: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise PublishError(f"Cannot read {path}: {exc}") from exc


def plugin_block(data: dict[str, Any], path: Path) -> dict[str, Any]:
    plugins = data.get("plugins") or []
    if isinstance(plugins, dict):  # mapping form, and zensical's [project.plugins.NAME] tables
        items = list(plugins.items())
    else:
        items = [next(iter(p.items())) if isinstance(p, dict) else (p, {}) for p in plugins]
    for name, block in items:
        if name in PLUGIN_NAMES:
            return dict(block or {})
    raise PublishError(
        f"{path} has no s3-crossaccount plugin block.",
        "Add it under plugins: (see README), or give every option as a flag (--bucket, --role-arn, ...).",
    )


def load(explicit: str | None, overrides: dict[str, Any], *, require_block: bool = True) -> Loaded:
    """Find, read and validate the config; ``overrides`` (CLI flags) win over the file."""
    try:
        path = find_config(explicit)
    except PublishError:
        # No config file here (e.g. a GitLab on_stop job with GIT_STRATEGY: none): flags alone will do.
        if explicit or overrides.get("bucket") is None:
            raise
        options = validate({k: v for k, v in overrides.items() if v is not None}, "the command line")
        return Loaded(Path("mkdocs.yml"), options, Path("site"))
    data = _read(path)
    try:
        block = plugin_block(data, path)
    except PublishError:
        if require_block and overrides.get("bucket") is None:
            raise
        block = {}
    block.update({k: v for k, v in overrides.items() if v is not None})
    options = validate(block, str(path))
    site_dir = Path(str(data.get("site_dir") or "site"))
    if not site_dir.is_absolute():
        site_dir = path.parent / site_dir
    return Loaded(path, options, site_dir)


def validate(block: dict[str, Any], source: str) -> PluginOptions:
    options = PluginOptions(config_file_path=source)
    options.load_dict(block)
    errors, warnings = options.validate()
    problems = [f"Option '{k}': {e}" for k, e in errors]
    problems += [f"Option '{k}': {w}" for k, w in warnings]
    if problems:
        raise PublishError(
            f"Invalid s3-crossaccount options in {source}:\n  " + "\n  ".join(problems),
            "Correct the options named above (README lists every option and its rules).",
        )
    return options
