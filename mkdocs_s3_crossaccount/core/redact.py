"""Keep secrets out of every log line, botocore's DEBUG output included.

botocore logs request parameters (ExternalId, WebIdentityToken), signed headers
(X-Amz-Security-Token) and STS response bodies (SecretAccessKey, SessionToken) at DEBUG.
A user who turns DEBUG on in CI must not leak them into the job log, so while this module
is active every log record is checked against the secrets we know of and against the
shapes those secrets take in botocore's output.

The check runs in a wrapped LogRecordFactory: it sees every record of every logger and
costs nothing for records below the logger's level (they are never created).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "****"
_MIN_SECRET = 6  # shorter values would mask innocent text; rules already require more

_PATTERNS = [
    re.compile(r"(<(?:SecretAccessKey|SessionToken|WebIdentityToken)>)[^<]+(</)"),
    re.compile(r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[A-Za-z0-9/+=%]+"),
    re.compile(
        r"(['\"]?(?:SecretAccessKey|SessionToken|WebIdentityToken|ExternalId|aws_secret_access_key|aws_session_token)"
        r"['\"]?\s*[:=]\s*b?['\"]?)[^'\"&,\s}]+"
    ),
]

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def add_secret(value: str | None) -> None:
    """Register a value that must never be logged (a key, token or ExternalId)."""
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _secrets.add(value)
    install()


def redact(text: str) -> str:
    """``text`` with every known secret and secret-shaped value masked."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK + (m.group(2) if m.lastindex and m.lastindex > 1 else ""), text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def install() -> None:
    """Wrap the record factory once per process (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a malformed record is the logging module's business
                return record
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
