"""Run one command and measure its wall time, CPU time and the peak RSS of its tree.

The command is started by ``spawn_wrapper.py`` (a fresh, small Python process), which
times it and reports ``wait4``'s rusage. Peak RSS is the larger of:

* the largest *sum* of the resident set sizes of all the wrapper's descendants, polled
  every 20 ms through psutil; this counts helper processes that live at the same time
  (a shell script running ``aws``, ...);
* ``ru_maxrss`` from ``wait4``: the kernel's exact high-water mark of the largest
  single process of the tree that was waited for, so a short spike between two polls
  is not missed.

CPU time is user + system time of the command and its waited-for descendants.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

POLL_SECONDS = 0.02
WRAPPER = Path(__file__).resolve().parent / "spawn_wrapper.py"


@dataclass(frozen=True)
class Measurement:
    """Result of one measured command."""

    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    stdout: str
    stderr: str


def _descendants_rss(wrapper: psutil.Process) -> int:
    total = 0
    try:
        procs = wrapper.children(recursive=True)
    except psutil.Error:
        return 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


class _Poller(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self._pid = pid
        self._stop_event = threading.Event()
        self.peak = 0

    def run(self) -> None:
        try:
            wrapper = psutil.Process(self._pid)
        except psutil.Error:
            return
        while not self._stop_event.is_set():
            self.peak = max(self.peak, _descendants_rss(wrapper))
            self._stop_event.wait(POLL_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _kill_tree(pid: int) -> None:
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            continue


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    timeout_s: float = 3600.0,
) -> Measurement:
    """Run ``argv`` to completion and measure it; its output is captured."""
    with (
        tempfile.TemporaryFile() as out_f,
        tempfile.TemporaryFile() as err_f,
        tempfile.NamedTemporaryFile(suffix=".json") as report_f,
    ):
        proc = subprocess.Popen(
            [sys.executable, "-S", "-E", str(WRAPPER), report_f.name, *argv],
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out_f,
            stderr=err_f,
        )
        poller = _Poller(proc.pid)
        poller.start()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            proc.wait()
        except BaseException:  # interrupted (Ctrl-C, SIGTERM): leave nothing running
            _kill_tree(proc.pid)
            proc.wait()
            raise
        finally:
            poller.stop()
        out_f.seek(0)
        err_f.seek(0)
        stdout = out_f.read().decode("utf-8", errors="replace")
        stderr = err_f.read().decode("utf-8", errors="replace")
        try:
            report = json.loads(Path(report_f.name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            # The wrapper could not start the command (or was killed): a failed run.
            report = {"wall_s": 0.0, "cpu_s": 0.0, "maxrss_kib": 0}
            report["returncode"] = proc.returncode or 127
    return Measurement(
        argv=tuple(argv),
        returncode=int(report["returncode"]),
        wall_s=float(report["wall_s"]),
        cpu_s=float(report["cpu_s"]),
        peak_rss_bytes=max(poller.peak, int(report["maxrss_kib"]) * 1024),
        stdout=stdout,
        stderr=stderr,
    )
