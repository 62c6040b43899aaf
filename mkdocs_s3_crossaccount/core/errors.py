"""The two errors the engine raises. Messages say what to fix; they never carry secrets."""

from __future__ import annotations


class PublishError(Exception):
    """A publish failed, or was refused, in a way the user can act on.

    ``message`` says what happened, ``fix`` (optional) says what to change.
    """

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.message}\n  Fix: {self.fix}" if self.fix else self.message


class SettingsError(PublishError, ValueError):
    """An option has a value that breaks a rule; names the option and the rule."""

    def __init__(self, option: str, rule: str) -> None:
        self.option = option
        self.rule = rule
        super().__init__(f"Option '{option}': {rule}")
