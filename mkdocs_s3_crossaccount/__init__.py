"""Publish an MkDocs site to an S3 bucket in another AWS account.

``publish`` and ``PublishResult`` are loaded on first use: MkDocs imports the plugin for
every build, and a build that does not publish should not pay for importing boto3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import PublishError, SettingsError
from .settings import Settings

if TYPE_CHECKING:
    from .engine import publish
    from .report import PublishResult

__version__ = "0.1.0"
__all__ = ["PublishError", "PublishResult", "Settings", "SettingsError", "__version__", "publish"]


def __getattr__(name: str) -> Any:
    if name == "publish":
        from .engine import publish

        return publish
    if name == "PublishResult":
        from .report import PublishResult

        return PublishResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
