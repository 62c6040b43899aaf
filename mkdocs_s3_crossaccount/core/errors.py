"""The two errors the engine raises. Messages say what to fix; they never carry secrets."""

from __future__ import annotations

from mkdocs_s3_crossaccount.core.redact import redact


class PublishError(Exception):
    """A publish failed, or was refused, in a way the user can act on.

    ``message`` says what happened, ``fix`` (optional) says what to change. Both are redacted
    (``core.redact``) when the error is made, so a secret echoed by a server (an STS or proxy
    error quoting ``ExternalId=…``) never travels on in it.
    """

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.message = redact(message)
        self.fix = redact(fix) if fix is not None else None
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.message}\n  Fix: {self.fix}" if self.fix else self.message


class SettingsError(PublishError, ValueError):
    """An option has a value that breaks a rule; names the option and the rule."""

    def __init__(self, option: str, rule: str) -> None:
        self.option = option
        self.rule = rule
        super().__init__(f"Option '{option}': {rule}")
