"""The option schema: each option is declared once, as a dataclass field made by ``option()``.

A field's name, type annotation and default are the option's; its metadata holds the doc,
the rule, whether it is a CLI flag (and its short help) and whether it is a secret. From
the declarations (``Settings`` and ``HostOptions`` in ``config/settings.py``) come:

- validation: ``validate_fields`` (each field's type check and rule, once), run by
  ``Settings.__post_init__``;
- the MkDocs ``Config`` class of the plugin (``hosts/options.py``);
- the CLI flags (``cli/main.py``);
- the option table of the docs: ``markdown_table()``, or
  ``python -m mkdocs_s3_crossaccount.config.schema --markdown``.

Nothing here imports MkDocs or click.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union

from mkdocs_s3_crossaccount.config.rules import Rule
from mkdocs_s3_crossaccount.core.errors import SettingsError

_KEY = "mkdocs_s3_crossaccount.option"
REQUIRED = "Required configuration not provided."
OPTIONS_MARKER = "<!-- s3-crossaccount:options -->"
"""Where the docs site's hook puts the option table (see ``include_table``)."""

T = TypeVar("T")


@dataclass(frozen=True)
class Flag:
    """How an option appears on the command line: ``--name-with-dashes`` (``--x/--no-x`` for booleans)."""

    help: str
    scope: Literal["all", "publish"] = "all"
    """``all``: every command that reads the config; ``publish``: publish and plan only."""
    envvar: str | None = None
    """An environment variable click reads when the flag is absent."""


@dataclass(frozen=True)
class Meta:
    """What ``option()`` records on a field."""

    doc: str
    rule: Rule | None
    cli: Flag | None
    secret: bool


def option(
    doc: str,
    *,
    default: Any = dataclasses.MISSING,
    rule: Rule | None = None,
    cli: Flag | None = None,
    secret: bool = False,
) -> Any:
    """Declare an option: a dataclass field carrying its doc, rule, CLI flag and secrecy.

    A list or dict ``default`` is copied for each instance. ``secret`` options are left out
    of the ``repr`` (and the docs say they are never logged).
    """
    meta = {_KEY: Meta(doc=" ".join(doc.split()), rule=rule, cli=cli, secret=secret)}
    if isinstance(default, (list, dict)):
        frozen = default
        return dataclasses.field(default_factory=lambda: frozen.copy(), metadata=meta, repr=not secret)
    return dataclasses.field(default=default, metadata=meta, repr=not secret)


@dataclass(frozen=True)
class Option:
    """One declared option, as the derived forms (MkDocs, CLI, docs) see it."""

    name: str
    hint: Any
    """The resolved type annotation."""
    annotation: str
    """The annotation as written, e.g. ``str | None``."""
    meta: Meta
    field: dataclasses.Field[Any]

    @property
    def required(self) -> bool:
        """Whether the option has no default (it must be given)."""
        return self.field.default is dataclasses.MISSING and self.field.default_factory is dataclasses.MISSING

    @property
    def default(self) -> Any:
        """The default value (a fresh copy for list/dict defaults); None when required."""
        if self.field.default is not dataclasses.MISSING:
            return self.field.default
        if self.field.default_factory is not dataclasses.MISSING:
            return self.field.default_factory()
        return None

    @property
    def kind(self) -> type:
        """The scalar type of a flag: str, int, float or bool (Optional unwrapped)."""
        arms = [a for a in _arms(self.hint) if a is not type(None)]
        return arms[0] if len(arms) == 1 and isinstance(arms[0], type) else object

    @property
    def flag(self) -> str:
        """The CLI flag's name, e.g. ``--role-arn``."""
        return "--" + self.name.replace("_", "-")


_CACHE: dict[type, tuple[Option, ...]] = {}


def options(cls: type) -> tuple[Option, ...]:
    """The options declared on a dataclass, in declaration order."""
    if cls not in _CACHE:
        hints = typing.get_type_hints(cls)
        _CACHE[cls] = tuple(
            Option(f.name, hints[f.name], str(f.type), f.metadata[_KEY], f)
            for f in dataclasses.fields(cls)
            if _KEY in f.metadata
        )
    return _CACHE[cls]


def _arms(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _runtime(hint: Any) -> type:
    origin = typing.get_origin(hint)
    if origin in (Sequence, list, tuple):
        return list
    if origin in (Mapping, dict):
        return dict
    return typing.cast(type, hint)


def _expected(kinds: object, value: object) -> str:
    return f"Expected type: {kinds} but received: {type(value)}"


def _matches(hint: Any, value: object) -> bool:
    origin = typing.get_origin(hint)
    if origin in (Sequence, list, tuple):
        return isinstance(value, (list, tuple))
    if origin in (Mapping, dict):
        return isinstance(value, Mapping)
    if hint is float:
        return isinstance(value, (int, float))
    return isinstance(value, hint)


def check_type(option_name: str, hint: Any, value: Any) -> Any:
    """``value`` if it has the type ``hint`` (floats accept ints, numbers never booleans; lists and maps
    item by item)."""
    arms = [a for a in _arms(hint) if a is not type(None)]
    if value is None and len(arms) < len(_arms(hint)):
        return None
    if len(arms) > 1:
        if not any(_matches(a, value) for a in arms):
            raise SettingsError(option_name, _expected(tuple(_runtime(a) for a in arms), value))
        return value
    (only,) = arms
    origin = typing.get_origin(only)
    if origin in (Sequence, list, tuple):
        if not isinstance(value, (list, tuple)):
            raise SettingsError(option_name, f"Expected a list of items, but a {type(value)} was given.")
        (item,) = typing.get_args(only)[:1]
        for element in value:
            check_type(option_name, item, element)
        return value
    if origin in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise SettingsError(option_name, f"Expected a dict of items, but a {type(value)} was given.")
        key_type, item = typing.get_args(only)
        for key, element in value.items():
            if not isinstance(key, key_type):
                raise SettingsError(
                    option_name, f"Expected type: {key_type} for keys, but received: {type(key)} (key={key})"
                )
            check_type(option_name, item, element)
        return dict(value)
    if only in (int, float) and isinstance(value, bool):
        kinds = (int, float) if only is float else only
        raise SettingsError(option_name, _expected(kinds, value) + " (true/false is not a number)")
    if only is float:
        if not isinstance(value, (int, float)):
            raise SettingsError(option_name, _expected((int, float), value))
        return float(value)
    if not isinstance(value, only):
        raise SettingsError(option_name, _expected(only, value))
    return value


def validate_fields(obj: object) -> None:
    """Type-check each declared field of the (frozen) dataclass ``obj`` and run its rule, once each.

    The checked, normalized value replaces the given one. Raises the first SettingsError.
    """
    for opt in options(type(obj)):
        value = check_type(opt.name, opt.hint, getattr(obj, opt.name))
        if value is not None and opt.meta.rule is not None:
            value = opt.meta.rule(opt.name, value)
        object.__setattr__(obj, opt.name, value)


def build(cls: type[T], block: Mapping[str, Any]) -> T:
    """An instance of the options dataclass ``cls`` from a config block.

    Keys of other classes are ignored (see ``unknown``); a key set to None (YAML ``null``, an
    unset ``!ENV``) takes the default, as in MkDocs; a required option missing says so.
    """
    known = options(cls)
    values = {o.name: block[o.name] for o in known if block.get(o.name) is not None}
    for opt in known:
        if opt.required and opt.name not in values:
            raise SettingsError(opt.name, REQUIRED)
    return cls(**values)


def unknown(block: Mapping[str, Any], *classes: type) -> list[str]:
    """Keys of ``block`` that none of ``classes`` declares (MkDocs warns about them)."""
    names = {o.name for cls in classes for o in options(cls)}
    return [key for key in block if key not in names]


def all_options() -> list[Option]:
    """Every option of the plugin block: the host's switches, then the publish settings."""
    from mkdocs_s3_crossaccount.config.settings import HostOptions, Settings

    return [*options(HostOptions), *options(Settings)]


def cli_options() -> list[Option]:
    """The options that are CLI flags."""
    return [o for o in all_options() if o.meta.cli is not None]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default_text(opt: Option) -> str:
    if opt.required:
        return "required"
    value = opt.default
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (tuple, list)):
        value = list(value)
    if value in ("", {}, []):
        return f"`{value!r}`" if value != "" else '`""`'
    return f"`{value}`"


def _rows(opts: Sequence[Option]) -> Iterator[str]:
    yield "| Option | Type | Default | Flag | Description |"
    yield "|---|---|---|---|---|"
    for opt in opts:
        flag = f"`{opt.flag}`" if opt.meta.cli else "file only"
        if opt.meta.cli and opt.kind is bool:
            flag = f"`{opt.flag}/--no-{opt.flag[2:]}`"
        if opt.meta.cli and opt.meta.cli.envvar:
            flag += f" (or `${opt.meta.cli.envvar}`)"
        doc = opt.meta.doc + (" **Secret**: never logged or reported." if opt.meta.secret else "")
        yield f"| `{opt.name}` | `{_cell(opt.annotation)}` | {_default_text(opt)} | {flag} | {_cell(doc)} |"


def markdown_table() -> str:
    """The option reference as a Markdown table (name, type, default, CLI flag, doc)."""
    return "\n".join(_rows(all_options())) + "\n"


def include_table(markdown: str) -> str:
    """``markdown`` with ``OPTIONS_MARKER`` replaced by the option table (for a docs-site hook)."""
    return markdown.replace(OPTIONS_MARKER, markdown_table())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mkdocs_s3_crossaccount.config.schema --markdown``: print the option table."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["--markdown"]:
        print("usage: python -m mkdocs_s3_crossaccount.config.schema --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown_table())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
