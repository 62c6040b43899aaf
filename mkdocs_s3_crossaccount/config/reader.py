"""Read the plugin block from mkdocs.yml (or zensical.toml) for the CLI, without MkDocs.

The YAML loader here keeps MkDocs' semantics: ``!ENV NAME`` or ``!ENV [NAME, OTHER, default]``
(the first variable that is set, its text resolved with YAML's implicit types, else the
YAML-typed default or None), ``INHERIT: parent.yml`` (the parent deep-merged under the file,
as MkDocs does), and tags that would import code (``!!python/name:`` in Material configs)
or need MkDocs (``!relative``) read as None: the publisher needs none of them and the
publish job may not have those packages. Options are validated by the schema
(``config.settings.resolve``), the same rules the plugin's Config class runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mkdocs_s3_crossaccount.config.env import FromEnv, plain, resolve_env
from mkdocs_s3_crossaccount.config.schema import cli_options
from mkdocs_s3_crossaccount.config.settings import HostOptions, Settings, resolve, unknown_options
from mkdocs_s3_crossaccount.core.errors import PublishError, SettingsError

PLUGIN_NAMES = ("s3-crossaccount", "mkdocs-s3-crossaccount")
DEFAULT_FILES = ("mkdocs.yml", "mkdocs.yaml", "zensical.toml")


def construct_env(loader: yaml.SafeLoader, node: yaml.Node) -> FromEnv:
    """``!ENV``: the first set variable's value (YAML-typed), else the default (last list item) or None.

    Returned as a FromEnv that also keeps the variable's text (``plain()`` gives MkDocs' reading).
    """
    default = None
    if isinstance(node, yaml.ScalarNode):
        names = [loader.construct_scalar(node)]
    elif isinstance(node, yaml.SequenceNode):
        items = list(node.value)
        if len(items) > 1:
            default = loader.construct_object(items.pop(), deep=True)
        names = [loader.construct_scalar(item) for item in items]
    else:
        raise yaml.constructor.ConstructorError(
            None, None, f"!ENV expects a variable name or a list of them, but found {node.id}", node.start_mark
        )
    named = tuple(str(n) for n in names)
    for name in named:
        if name in os.environ:
            text = os.environ[name]
            tag = loader.resolve(yaml.ScalarNode, text, (True, False))
            return FromEnv(loader.construct_object(yaml.ScalarNode(tag, text)), named, text)
    return FromEnv(plain(default), named)


def _ignore(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:
    return None


class ConfigLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader plus MkDocs' ``!ENV``; ``!relative`` and ``!!python/...`` read as None."""


ConfigLoader.add_constructor("!ENV", construct_env)
ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", _ignore)
ConfigLoader.add_multi_constructor("!relative", _ignore)


def merge(parent: dict[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """``child`` over ``parent``: mappings merged key by key, anything else replaced (MkDocs' INHERIT)."""
    result = dict(parent)
    for key, value in child.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merge(dict(result[key]), value)
        else:
            result[key] = value
    return result


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML config file as MkDocs reads it: a dict, with its ``INHERIT`` chain merged in."""
    return dict(plain(read_raw(path)))


def read_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """``read_yaml`` with each ``!ENV`` value kept as a FromEnv (for ``config.env.resolve_env``)."""
    if path.resolve() in seen:
        raise PublishError(f"Cannot read {path}: INHERIT loops back to {path}.")
    with path.open("rb") as fh:
        data = yaml.load(fh, Loader=ConfigLoader)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PublishError(f"Cannot read {path}: the configuration is not a mapping of options.")
    if "INHERIT" in data:
        relpath = str(plain(data.pop("INHERIT")))
        parent = Path(os.path.normpath(path.parent / relpath))
        if not parent.exists():
            raise PublishError(f"Cannot read {path}: inherited config file '{relpath}' does not exist at '{parent}'.")
        data = merge(read_raw(parent, (*seen, path.resolve())), data)
    return dict(data)


@dataclass
class Loaded:
    """A read and validated config: where it came from, the options and the site folder."""

    path: Path
    settings: Settings
    host: HostOptions
    site_dir: Path


def find_config(explicit: str | None) -> Path:
    """The config file: ``explicit``, else the first of DEFAULT_FILES in the current folder."""
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


def read(path: Path) -> dict[str, Any]:
    """The whole config file (YAML with INHERIT, or zensical.toml's [project]); !ENV values as FromEnv."""
    try:
        if path.suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            with path.open("rb") as fh:
                data = tomllib.load(fh)
            return dict(data.get("project", data))
        return read_raw(path)
    except yaml.YAMLError as exc:
        raise PublishError(f"Cannot read {path}: error parsing the configuration file: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise PublishError(f"Cannot read {path}: {exc}") from exc


def plugin_block(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Our plugin's options from a config's ``plugins`` (list or mapping form)."""
    plugins = data.get("plugins") or []
    if isinstance(plugins, FromEnv):
        plugins = plain(plugins) or []
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


def env_values(config_file: str) -> dict[str, FromEnv]:
    """The plugin block's ``!ENV`` values in ``config_file`` (empty when it cannot be read or has none).

    For the plugin: MkDocs has already read the block, losing the variables' text; this reads
    the file again with our loader to find which options came from ``!ENV``.
    """
    try:
        path = Path(config_file)
        block = plugin_block(read(path), path)
    except (PublishError, OSError, ValueError, yaml.YAMLError):
        return {}
    return {k: v for k, v in block.items() if isinstance(v, FromEnv)}


def load(explicit: str | None, overrides: dict[str, Any], *, require_block: bool = True) -> Loaded:
    """Find, read and validate the config; ``overrides`` (CLI flags) win over the file."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        path = find_config(explicit)
    except PublishError:
        # No config file here (e.g. a GitLab on_stop job with GIT_STRATEGY: none): flags alone will do.
        if explicit or overrides.get("bucket") is None:
            raise
        host, settings = validate(given, "the command line", flags=given)
        return Loaded(Path("mkdocs.yml"), settings, host, Path("site"))
    data = read(path)
    try:
        block = plugin_block(data, path)
    except PublishError:
        if require_block and overrides.get("bucket") is None:
            raise
        block = {}
    block.update(given)
    host, settings = validate(block, str(path), flags=given)
    site_dir = Path(str(plain(data.get("site_dir")) or "site"))
    if not site_dir.is_absolute():
        site_dir = path.parent / site_dir
    return Loaded(path, settings, host, site_dir)


def flag_name(option: str) -> str:
    """The CLI flag of an option (``concurrency`` -> ``--concurrency``), with the variable it reads, if any."""
    flag = "--" + option.replace("_", "-")
    envvar = next((o.meta.cli.envvar for o in cli_options() if o.name == option and o.meta.cli), None)
    return f"{flag} (or ${envvar})" if envvar else flag


def validate(block: Mapping[str, Any], source: str, *, flags: Collection[str] = ()) -> tuple[HostOptions, Settings]:
    """The plugin block's options, validated; PublishError naming each problem (unknown names too).

    ``flags``: the options given on the command line (they override the file); a bad value of one
    of them is blamed on its flag, not on ``source``.
    """
    problems = []
    try:
        resolved = resolve(resolve_env(block))
    except SettingsError as exc:
        if exc.option in flags:
            flag = flag_name(exc.option)
            raise PublishError(
                f"Invalid value for {flag}: {exc.rule}",
                f"Correct {flag} on the command line (it overrides {exc.option} of the config file).",
            ) from None
        problems.append(str(exc))
    problems += [f"Option '{k}': Unrecognised configuration name: {k}" for k in unknown_options(block)]
    if problems:
        raise PublishError(
            f"Invalid s3-crossaccount options in {source}:\n  " + "\n  ".join(problems),
            "Correct the options named above (the docs' configuration reference lists every option and its rules).",
        )
    return resolved.host, resolved.settings
