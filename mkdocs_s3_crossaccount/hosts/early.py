"""A `mkdocs build`'s publish, prepared in a second process while the build runs.

MkDocs renders the site in one Python thread. What a publish does before it can look at the
site (import boto3, assume the role, take the lock, list the bucket, read the manifest: about
a second of Python, most of what an unchanged publish costs) does not need the site, so a child
process does it on another core while MkDocs builds. When the build is done the child hashes
the site and publishes; the build waits only for that part. (Threads would not help: the GIL
lets one of them run Python at a time.)

Parent (the plugin): :meth:`EarlyPublish.start` at ``on_config``; :meth:`EarlyPublish.finish`
at ``on_post_build`` sends "go" and re-emits the child's log records through the plugin's
logger in order (nothing of the child's is shown before the build decided to publish, so
``--strict`` counts as before); :meth:`EarlyPublish.abort` when the build failed or must not
publish: the child unwinds (releasing the lock it took) without writing anything.

Child: ``python -m mkdocs_s3_crossaccount.hosts.early``. Protocol: on stdin, one line (base64
pickle of the request), then ``go`` or end of file (abort); on stdout, JSON lines:
``{"log": [level, text]}`` and one last ``{"done": true}``, ``{"error": [message, fix]}``,
``{"terminated": true}`` or ``{"aborted": true}``. The child's own stdout is its stderr.
The request carries the settings (secrets included) through the pipe only, never argv/env.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import IO, Any

from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.redact import redact

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

TERMINATED_EXIT = 128 + signal.SIGTERM
ABORT_WAIT = 60.0  # seconds an aborted child gets to release its lock before it is killed


@dataclass(frozen=True)
class Request:
    """What the child publishes: the settings, the site folder (being built), the generator version."""

    settings: Settings
    site_dir: str
    generator: str | None
    log_level: int


class EarlyTerminated(Exception):
    """The publish stopped on SIGTERM (the child released its lock); the build exits 143."""


class EarlyPublish:
    """The parent's handle on the child that prepares and then runs the publish."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        self._messages: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, name="s3xa-early-reader", daemon=True)
        self._reader.start()
        self._closed = False

    @classmethod
    def start(cls, request: Request) -> EarlyPublish:
        """Start the child and hand it the request (raises OSError if it cannot start)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "mkdocs_s3_crossaccount.hosts.early"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert proc.stdin is not None
        proc.stdin.write(base64.b64encode(pickle.dumps(request)) + b"\n")
        proc.stdin.flush()
        return cls(proc)

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not ours (the child's stdout is its stderr; nothing else writes here)
            if isinstance(message, dict):
                self._messages.put(message)
        self._messages.put(None)

    def finish(self) -> None:
        """The site is built: publish it; return when done, raise PublishError or EarlyTerminated."""
        self._send(b"go\n")
        forward = _forward_sigterm(self._proc)
        try:
            while True:
                message = self._messages.get()
                if message is None:
                    code = self._proc.wait()
                    raise PublishError(
                        f"The publishing process ended without a result (exit code {code}).",
                        "See the messages above; set prepare_during_build: false to publish inside the MkDocs "
                        "process instead, and report this if it repeats.",
                    )
                if "log" in message:
                    level, text = message["log"]
                    log.log(int(level), "%s", text)
                elif "done" in message:
                    return
                elif "error" in message:
                    text, fix = message["error"]
                    raise PublishError(str(text), str(fix) if fix else None)
                elif "terminated" in message:
                    raise EarlyTerminated()
                elif "aborted" in message:
                    raise PublishError("The publishing process stopped before publishing.")
        finally:
            forward()
            self._reap(ABORT_WAIT)

    def abort(self) -> None:
        """The build will not be published: the child stops (releasing its lock) and its records are
        shown at debug level only."""
        if self._closed:
            return
        self._close_stdin()
        self._reap(ABORT_WAIT)
        while True:
            try:
                message = self._messages.get_nowait()
            except queue.Empty:
                break
            if message and "log" in message:
                log.debug("s3-crossaccount (not publishing): %s", message["log"][1])

    def _send(self, data: bytes) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it ended already: its last message says why
        self._close_stdin()

    def _close_stdin(self) -> None:
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()

    def _reap(self, timeout: float) -> None:
        if self._closed:
            return
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(5)
        self._closed = True


def _forward_sigterm(proc: subprocess.Popen[bytes]) -> Any:
    """While the parent waits, a SIGTERM it gets goes to the child (which unwinds and answers
    "terminated"); returns the call that restores the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        return lambda: None  # the host handles SIGTERM itself

    def forward(signum: int, frame: object) -> None:
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --- the child ----------------------------------------------------------------------------------


class _Aborted(Exception):
    """The parent closed the pipe before "go": the build is not published."""


class _Channel(logging.Handler):
    """The child's log records, one JSON line each on the protocol stream (redacted)."""

    def __init__(self, out: IO[str], level: int) -> None:
        super().__init__(level)
        self.out = out
        self.lock_out = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.send({"log": [record.levelno, redact(text)]})

    def send(self, message: dict[str, Any]) -> None:
        """Write one protocol message; the parent gone is not an error here."""
        with self.lock_out:
            try:
                self.out.write(json.dumps(message) + "\n")
                self.out.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass


def _die_with_parent() -> None:
    """Linux: a SIGTERM when the parent dies (kill -9 of the build), so the lock is released."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _Go:
    """The parent's word, read on a thread of its own: "go" (the site is built) or end of file."""

    def __init__(self) -> None:
        self.decided = threading.Event()
        self.stop = threading.Event()  # the child is ending: whoever waits gives up
        self.unwinding = threading.Event()  # the publish is stopping: a SIGTERM must not cut its cleanup short
        self.go = False
        threading.Thread(target=self._read, name="s3xa-early-go", daemon=True).start()

    def _read(self) -> None:
        self.go = sys.stdin.buffer.readline().strip() == b"go"
        if not self.go:
            self.unwinding.set()
        self.decided.set()

    def wait(self) -> None:
        """Return once the site is built; raise _Aborted if it will not be published."""
        while not self.decided.wait(0.1):
            if self.stop.is_set():
                raise _Aborted()
        if not self.go:
            raise _Aborted()


def child_main() -> int:
    """Run the publish the parent asks for; exit 0 on success or abort, 1 on error, 143 on SIGTERM."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nothing but the protocol on the pipe
    _die_with_parent()
    request: Request = pickle.loads(base64.b64decode(sys.stdin.buffer.readline()))
    channel = _Channel(out, request.log_level)
    log.addHandler(channel)
    log.setLevel(request.log_level)
    log.propagate = False
    word = _Go()

    from mkdocs_s3_crossaccount.engine import SiteBuiltLater, Terminated, publish

    def on_sigterm(signum: int, frame: object) -> None:
        # When the build process dies, both arrive: the end of the pipe (abort) and SIGTERM (PR_SET_PDEATHSIG).
        # Whichever is first unwinds the publish; the other must not interrupt the lock's release.
        if word.unwinding.is_set():
            return
        word.unwinding.set()
        word.stop.set()
        log.warning("SIGTERM: stopping the publish (nothing new starts; the lock is released)")
        raise Terminated()

    signal.signal(signal.SIGTERM, on_sigterm)  # the engine keeps a host's own handler

    try:
        publish(SiteBuiltLater(request.site_dir, word.wait), request.settings, generator=request.generator)
    except _Aborted:
        channel.send({"aborted": True})
        return 0
    except Terminated:
        channel.send({"terminated": True})
        return TERMINATED_EXIT
    except PublishError as exc:
        channel.send({"error": [exc.message, exc.fix]})
        return 1
    except BaseException as exc:  # a bug: the parent says so, with the traceback on stderr
        traceback.print_exc()
        channel.send(
            {
                "error": [
                    redact(f"Unexpected {type(exc).__name__} in the publishing process: {exc}"),
                    "Please report this with the build's log; set prepare_during_build: false to work around it.",
                ]
            }
        )
        return 1
    finally:
        word.stop.set()  # a scan still waiting for "go" ends, so the process can exit
    channel.send({"done": True})
    return 0


if __name__ == "__main__":  # pragma: no cover - run as the child process
    sys.exit(child_main())
