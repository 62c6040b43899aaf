"""The named AWS profile of the source credentials, checked before any request.

botocore says "The config profile (x) could not be found" (and the publisher used to say
"AWS profile None was not found" when the name came from AWS_PROFILE), or raises an
InvalidConfigError for a ``source_profile`` that is missing, deep inside credential
resolution. Here the chain is walked once: the error names the missing profile, what
named it (the ``profile`` option, AWS_PROFILE, or another profile's ``source_profile``) and
the files it was looked up in. Only profile names and file paths are shown, never a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.exceptions import ProfileNotFound

from mkdocs_s3_crossaccount.core.errors import PublishError


def requested(configured: str | None, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The profile botocore will use and what asked for it (None: the default chain, no profile named)."""
    if configured:
        return configured, "the profile option (`profile:` / --profile)"
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        if environ.get(name):
            return environ[name], f"the environment variable {name}"
    return None, ""


def check(session: botocore.session.Session, configured: str | None, environ: Mapping[str, str] | None = None) -> None:
    """Raise a PublishError naming the missing profile of ``session`` (or of its source_profile chain)."""
    env = os.environ if environ is None else environ
    name, named_by = requested(configured, env)
    profiles: Mapping[str, Any] = session.full_config.get("profiles", {})
    seen: set[str] = set()
    current = name
    while current is not None and current not in seen:
        if current not in profiles:
            raise not_found(session, current, named_by, sorted(profiles))
        seen.add(current)
        source = profiles[current].get("source_profile")
        if source is not None:
            named_by = f"source_profile of the profile {current!r}"
        current = source if source is not None and source != current else None
    try:
        session.get_scoped_config()  # anything botocore still refuses (its own lookup), said the same way
    except ProfileNotFound as exc:
        missing = str(exc.kwargs.get("profile") or name)
        raise not_found(session, missing, named_by or "botocore's profile lookup", sorted(profiles)) from exc


def not_found(session: botocore.session.Session, name: str, named_by: str, known: list[str]) -> PublishError:
    """The error for a profile that is in neither the config nor the credentials file."""
    files = []
    for variable, default, env in (
        ("config_file", "~/.aws/config", "AWS_CONFIG_FILE"),
        ("credentials_file", "~/.aws/credentials", "AWS_SHARED_CREDENTIALS_FILE"),
    ):
        path = str(session.get_config_variable(variable) or default)
        files.append(f"{path} (set by {env})" if os.environ.get(env) else path)
    where = " or ".join(files)
    listed = ", ".join(repr(k) for k in known[:20]) if known else "none"
    return PublishError(
        f"AWS profile {name!r} (named by {named_by}) was not found in {where}; the profiles there: {listed}.",
        "Add the profile to the AWS config file (`aws configure --profile NAME`), or fix the name where it is "
        "set; in CI leave `profile` and AWS_PROFILE unset and use environment variables or an OIDC token.",
    )
