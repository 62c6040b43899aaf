"""The plugin's options as a MkDocs Config, derived from the schema (``config/settings.py``).

Each option becomes one MkDocs config option that only knows its default; the checking is
the schema's, run once when MkDocs validates the block (``validate``): the build stops at
config load, naming the option and the rule. The CLI reads the same schema, so mkdocs.yml
means the same thing to both.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config import base

from mkdocs_s3_crossaccount.config.env import plain, resolve_env
from mkdocs_s3_crossaccount.config.reader import env_values
from mkdocs_s3_crossaccount.config.schema import all_options
from mkdocs_s3_crossaccount.config.settings import HostOptions, Resolved, Settings, resolve
from mkdocs_s3_crossaccount.core.errors import SettingsError


class SchemaOption(base.BaseConfigOption[Any]):
    """One schema option as MkDocs sees it: a default for an unset or null value, nothing more."""

    def __init__(self, default: Any) -> None:
        super().__init__()
        self.default = default

    def run_validation(self, value: object) -> Any:
        """Type-check and apply the option's rule; a SettingsError becomes MkDocs' ValidationError."""
        return self.default if value is None else value


class PluginOptions(base.Config):  # type: ignore[no-untyped-call]
    """Options of the ``s3-crossaccount`` plugin: one per schema option (the docs' table lists each).

    Read them as attributes (``opts.bucket``) or, validated and typed, with ``to_settings()``
    and ``host()``.
    """

    _schema = tuple((o.name, SchemaOption(o.default)) for o in all_options())
    _names = frozenset(name for name, _ in _schema)

    def __getattr__(self, name: str) -> Any:
        if name in type(self)._names:
            return self[name]
        raise AttributeError(name)

    def validate(self) -> tuple[list[tuple[str, Exception]], list[tuple[str, str]]]:
        """MkDocs' pass (defaults, unknown names as warnings), then the schema's rules, each once,
        and the rules that tie options together, so mkdocs.yml fails at load, not after the build."""
        failed, warnings = super().validate()
        self._resolved: Resolved | None = None
        if not failed:
            try:
                block = self._with_env_text()
                publishing = plain(block.get("enabled")) is True  # a local build needs no CI variables
                self._resolved = resolve(resolve_env(block, publishing=publishing))
            except SettingsError as exc:
                failed.append((exc.option, base.ValidationError(exc.rule)))
        return failed, warnings

    def _with_env_text(self) -> dict[str, Any]:
        """The block, with each value MkDocs read from ``!ENV`` as a FromEnv (the variable's text kept).

        A value counts as from ``!ENV`` only when our reading of the file agrees with MkDocs'.
        """
        block = dict(self)
        if self.config_file_path:
            for key, env in env_values(self.config_file_path).items():
                if key in block and block[key] == (self.default_of(key) if env.value is None else env.value):
                    block[key] = env
        return block

    def default_of(self, name: str) -> Any:
        """The default MkDocs filled in for an unset option."""
        return dict(type(self)._schema)[name].default

    def _checked(self) -> Resolved:
        resolved: Resolved | None = getattr(self, "_resolved", None)
        if resolved is None:
            resolved = self._resolved = resolve(dict(self))
        return resolved

    def to_settings(self) -> Settings:
        """The validated publish settings (raises SettingsError if the block is invalid)."""
        return self._checked().settings

    def host(self) -> HostOptions:
        """The validated plugin switches (enabled, publish_on, stable_build_date)."""
        return self._checked().host
