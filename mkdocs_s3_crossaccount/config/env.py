"""Values that ``!ENV`` gave, and what they mean for our options (issue 10 item 12).

MkDocs reads ``!ENV`` values as YAML: ``DOCS_PREFIX=null`` (or ``~``, or empty) becomes None,
so the publish would go to the bucket root; ``123`` or ``1.10`` become numbers. For our
options a ``FromEnv`` keeps the variable's text beside that reading, so:

- a string option takes the variable's text as written (``1.10`` stays ``1.10``), unless the
  text reads as YAML null (empty, ``null``, ``~``): that is no value;
- ``prefix`` from ``!ENV`` that gives no value is an error: the bucket root is only ever
  written literally (``prefix: ""``, or ``""`` as the !ENV default);
- ``external_id`` from ``!ENV`` that gives no value is an error (the role would be assumed
  without the ExternalId its trust policy expects, or the mistake would surface as AccessDenied);
- other options (booleans, numbers) keep the YAML reading, as MkDocs does.

The two errors are for a block that publishes: the CLI always, the plugin when ``enabled``
(a local build with ``enabled: !ENV [DOCS_PUBLISH, false]`` needs none of the CI variables).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mkdocs_s3_crossaccount.config.schema import Option, all_options
from mkdocs_s3_crossaccount.core.errors import SettingsError

MUST_RESOLVE = ("prefix", "external_id")
"""Options for which an ``!ENV`` that gives no value is an error rather than "unset"."""


@dataclass(frozen=True)
class FromEnv:
    """What an ``!ENV`` tag gave: MkDocs' reading of it, and the variable's own text."""

    value: Any
    """As MkDocs reads it: the first set variable's text YAML-typed, else the default (or None)."""
    names: tuple[str, ...]
    """The variables named, in order."""
    text: str | None = None
    """The set variable's text; None when no variable was set (``value`` is then the default)."""


def plain(data: Any) -> Any:
    """``data`` with every FromEnv replaced by its value (what MkDocs would have read)."""
    if isinstance(data, FromEnv):
        return plain(data.value)
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data


def _is_str(opt: Option) -> bool:
    return opt.kind is str


def _from_env(opt: Option, env: FromEnv, publishing: bool) -> Any:
    value = env.value
    if env.text is not None and _is_str(opt) and value is not None:
        value = env.text  # the variable's text as written: 0123, 1.10 and true stay strings
    if value is None and publishing and opt.name in MUST_RESOLVE:
        names = ", ".join(f"${n}" for n in env.names)
        state = "is empty or null" if env.text is not None else "is not set"
        fix = {
            "prefix": 'set it to the folder to publish to; for the bucket root write prefix: "" in the file',
            "external_id": "set it to the ExternalId the role's trust policy requires, or remove external_id",
        }[opt.name]
        raise SettingsError(opt.name, f"comes from !ENV ({names}), which {state}: {fix}.")
    return value


def resolve_env(block: Mapping[str, Any], *, publishing: bool = True) -> dict[str, Any]:
    """A plugin block with each FromEnv turned into the value our option takes from it.

    ``publishing``: whether this block is used to publish (else an !ENV giving nothing is just unset).
    """
    known = {o.name: o for o in all_options()}
    result: dict[str, Any] = {}
    for key, value in block.items():
        if isinstance(value, FromEnv) and key in known:
            result[key] = _from_env(known[key], value, publishing)
        else:
            result[key] = plain(value)
    return result
