"""Publish an MkDocs site to an S3 bucket in another AWS account.

``publish`` and ``PublishResult`` are loaded on first use: MkDocs imports the plugin for
every build, and a build that does not publish should not pay for importing boto3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import PublishError, SettingsError

if TYPE_CHECKING:
    __version__: str
    from mkdocs_s3_crossaccount.core.report import PublishResult
    from mkdocs_s3_crossaccount.engine import publish


def _version() -> str:
    """The installed distribution's version (setuptools-scm writes it from the git tag at build time)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mkdocs-s3-crossaccount")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0.0.0"


__all__ = ["PublishError", "PublishResult", "Settings", "SettingsError", "__version__", "publish"]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata and the lookup cost ~50 ms: only when asked
        globals()["__version__"] = found = _version()
        return found
    if name == "publish":
        from mkdocs_s3_crossaccount.engine import publish

        return publish
    if name == "PublishResult":
        from mkdocs_s3_crossaccount.core.report import PublishResult

        return PublishResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
