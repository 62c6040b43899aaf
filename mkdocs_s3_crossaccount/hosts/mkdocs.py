"""MkDocs hooks only: decide whether this build publishes, then call the engine."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Literal

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.history import current_commit
from mkdocs_s3_crossaccount.hosts.early import TERMINATED_EXIT, EarlyPublish, EarlyTerminated, Request
from mkdocs_s3_crossaccount.hosts.generators import HOST_LOGGERS, generator_version, looks_like_serve_dir
from mkdocs_s3_crossaccount.hosts.options import PluginOptions

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

__all__ = ["S3CrossAccountPlugin", "looks_like_serve_dir"]


class _WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class S3CrossAccountPlugin(BasePlugin[PluginOptions]):  # type: ignore[no-untyped-call]
    """The `s3-crossaccount` MkDocs plugin: publishes a `mkdocs build` after the site is built."""

    def __init__(self) -> None:
        self.command: str | None = None
        self._counter: _WarningCounter | None = None
        self._early: EarlyPublish | None = None

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        """Remember the command (build, gh-deploy, serve): serve never publishes."""
        self.command = command

    @event_priority(100)  # first, so warnings of other plugins' on_config are counted too
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Pin SOURCE_DATE_EPOCH to the commit time and start counting warnings (for --strict)."""
        host = self.config.host()
        if host.enabled and host.stable_build_date and "SOURCE_DATE_EPOCH" not in os.environ:
            epoch = current_commit(os.environ, os.path.dirname(config.config_file_path or ".") or ".").time
            if epoch is not None:
                os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
                log.debug("s3-crossaccount: SOURCE_DATE_EPOCH=%d (commit time) for a reproducible build", epoch)
        self._detach()
        self._counter = _WarningCounter()
        for name in HOST_LOGGERS:
            logging.getLogger(name).addHandler(self._counter)
        self._abort_early()
        if host.prepare_during_build and self.skip_reason(config) is None:
            self._early = self._start_early(config)
        return config

    def _start_early(self, config: MkDocsConfig) -> EarlyPublish | None:
        """The publish, started in a second process while the build runs (None: publish after the build here)."""
        try:
            settings = self.config.to_settings()
        except PublishError:
            return None  # the same error is raised after the build, where it always was
        request = Request(settings, config.site_dir, generator_version(), log.getEffectiveLevel())
        try:
            return EarlyPublish.start(request)
        except OSError as exc:
            log.debug("s3-crossaccount: publishing after the build (no second process: %s)", exc)
            return None

    def _abort_early(self) -> None:
        if self._early is not None:
            early, self._early = self._early, None
            early.abort()

    def on_build_error(self, *, error: Exception) -> None:
        """Stop counting warnings; a publish prepared during the build stops (releasing its lock)."""
        self._detach()
        self._abort_early()

    def on_shutdown(self) -> None:
        """Stop counting warnings; stop a prepared publish that was never told to go."""
        self._detach()
        self._abort_early()

    def _detach(self) -> None:
        if self._counter is not None:
            for name in HOST_LOGGERS:
                logging.getLogger(name).removeHandler(self._counter)

    def skip_reason(self, config: MkDocsConfig) -> str | None:
        """Why this build must not publish, or None to publish."""
        opts = self.config.host()
        if not opts.enabled:
            return "enabled is false (set `enabled: true`, e.g. `enabled: !ENV [DOCS_PUBLISH, false]`)"
        # Unknown command (an older host without on_startup): trust argv, never publish a serve.
        command = self.command or ("serve" if "serve" in sys.argv[1:2] else "build")
        if command == "serve" or looks_like_serve_dir(config.site_dir):
            return "`mkdocs serve` builds a temporary preview, which is never published"
        if command not in opts.publish_on:
            return f"command {command!r} is not in publish_on {list(opts.publish_on)}"
        warnings = self._counter.count if self._counter else 0
        if config.strict and warnings:
            return f"--strict build with {warnings} warning(s); MkDocs will abort it"
        return None

    @event_priority(-100)  # after every other plugin: search writes its index in post_build
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Publish the built site, last of all plugins, unless this build must not publish."""
        self._detach()
        reason = self.skip_reason(config)
        if reason:
            self._abort_early()
            # a warning for the strict case, so the reader sees why nothing was published
            level = logging.WARNING if reason.startswith("--strict") else logging.INFO
            log.log(level, "s3-crossaccount: not publishing: %s", reason)
            return
        if self._early is not None:
            early, self._early = self._early, None
            try:
                early.finish()
            except EarlyTerminated:
                log.error("s3-crossaccount: terminated (SIGTERM): the publish stopped and released its lock")
                raise SystemExit(TERMINATED_EXIT) from None
            except PublishError as exc:
                raise PluginError(f"s3-crossaccount: {exc}") from None
            return
        try:
            from mkdocs_s3_crossaccount.engine import Terminated, publish  # boto3 only in builds that publish

            try:
                publish(config.site_dir, self.config.to_settings(), generator=generator_version())
            except Terminated:
                log.error("s3-crossaccount: terminated (SIGTERM): the publish stopped and released its lock")
                raise SystemExit(Terminated.exit_code) from None
        except PublishError as exc:
            raise PluginError(f"s3-crossaccount: {exc}") from None

    def __getstate__(self) -> dict[str, Any]:  # pragma: no cover - loggers don't pickle
        state = dict(self.__dict__)
        state["_counter"] = None
        state["_early"] = None
        return state
