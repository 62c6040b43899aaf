"""The live progress bar of `publish` on a terminal: one stderr line redrawn in place.

Only when stderr is a terminal (``isatty()``) and ``TERM`` is not ``dumb``; anywhere else
(CI logs, pipes, files) the engine's periodic log lines are the progress, unchanged. The bar
is plain text redrawn with ``\\r`` and erased with spaces: no colour and no escape sequences,
so there is nothing for ``NO_COLOR`` to turn off. It is fed by ``core.apply.observing``; log
lines printed while it shows erase it first and redraw it after (``BarHandler``). Every line
it writes goes through ``core.redact.redact``, like every other line of the CLI.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from mkdocs_s3_crossaccount.core.apply import ProgressUpdate
from mkdocs_s3_crossaccount.core.redact import redact
from mkdocs_s3_crossaccount.core.report import human_bytes

BAR_WIDTH = 20
VERBS = {"upload": "Uploading", "delete": "Deleting"}


def is_terminal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether ``stream`` is a terminal the bar may redraw on (``TERM=dumb`` counts as none)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False
    return bool(tty) and environ.get("TERM", "") != "dumb"


def render(update: ProgressUpdate, seconds: float, columns: int = 80) -> str:
    """The bar's text for ``update`` after ``seconds``, at most ``columns - 1`` characters.

    ``Uploading [#######-------------]  12/34 objects  1.2 MB/3.4 MB  560.0 KB/s``; deletes show
    objects only.
    """
    share = update.done / update.total if update.total else 1.0
    filled = min(BAR_WIDTH, int(share * BAR_WIDTH))
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    parts = [f"{VERBS.get(update.action, update.action)} [{bar}]", f"{update.done}/{update.total} objects"]
    if update.total_bytes:
        parts.append(f"{human_bytes(update.done_bytes)}/{human_bytes(update.total_bytes)}")
        rate = update.done_bytes / seconds if seconds > 0 else 0.0
        parts.append(f"{human_bytes(rate)}/s")
    else:
        rate = update.done / seconds if seconds > 0 else 0.0
        parts.append(f"{rate:.0f} objects/s")
    return "  ".join(parts)[: max(1, columns - 1)]


class Bar:
    """One line on ``stream``, redrawn in place at most every ``min_interval`` seconds.

    Thread-safe (updates come from transfer threads). A stage's last update (``done == total``)
    erases the line, so what follows (the summary) starts on a clean line.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        min_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        columns: Callable[[], int] = lambda: shutil.get_terminal_size((80, 24)).columns,
    ) -> None:
        self._stream = stream
        self._min_interval = min_interval
        self._clock = clock
        self._columns = columns
        self._lock = threading.RLock()
        self._shown = 0  # characters on the line now (0: nothing drawn)
        self._last_draw = float("-inf")
        self._started: dict[str, float] = {}
        self._current: ProgressUpdate | None = None

    def update(self, update: ProgressUpdate) -> None:
        """Show ``update`` (throttled; a stage's first and last update always count)."""
        with self._lock:
            now = self._clock()
            first = update.action not in self._started
            start = self._started.setdefault(update.action, now)
            if update.done >= update.total:
                self._current = None
                self._erase()
                return
            self._current = update
            if first or now - self._last_draw >= self._min_interval:
                self._draw(render(update, now - start, self._columns()))
                self._last_draw = now

    def close(self) -> None:
        """Erase the line, if one is shown (also after a failure or Ctrl-C)."""
        with self._lock:
            self._current = None
            self._erase()

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Erase the line while something else is printed, then redraw it."""
        with self._lock:
            self._erase()
            try:
                yield
            finally:
                if self._current is not None:
                    start = self._started.get(self._current.action, self._clock())
                    self._draw(render(self._current, self._clock() - start, self._columns()))

    def _draw(self, text: str) -> None:
        text = redact(text)
        pad = " " * max(0, self._shown - len(text))
        self._stream.write("\r" + text + pad)
        self._stream.flush()
        self._shown = len(text)

    def _erase(self) -> None:
        if self._shown:
            self._stream.write("\r" + " " * self._shown + "\r")
            self._stream.flush()
            self._shown = 0


class BarHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A log handler that erases the bar before each line and redraws it after."""

    def __init__(self, stream: TextIO, bar: Bar) -> None:
        super().__init__(stream)
        self.bar = bar

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record with the bar out of the way."""
        with self.bar.suspended():
            super().emit(record)
