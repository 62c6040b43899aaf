"""Publish an MkDocs site to an S3 bucket in another AWS account."""

from __future__ import annotations

from .errors import PublishError, SettingsError
from .publish import publish
from .report import PublishResult
from .settings import Settings

__version__ = "0.1.0"
__all__ = ["PublishError", "PublishResult", "Settings", "SettingsError", "__version__", "publish"]
