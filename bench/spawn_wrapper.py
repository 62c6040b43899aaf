"""Start one command, wait for it, and write its wall time and rusage as JSON.

Run as ``python -S -E spawn_wrapper.py OUT_JSON ARGV...`` by :mod:`measure`.

Why a separate small process: on Linux ``ru_maxrss`` of a child also counts the memory
it had *before* ``exec``, which for a child forked from the harness (Python with boto3
loaded, ~60 MB) would hide any tool that peaks lower. Forked from this process (only
the standard library, ~9 MB), the command's own peak is what ``wait4`` reports.
Standard library only, and keep it small.
"""

import ctypes
import json
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1


def main() -> int:
    out_path, argv = sys.argv[1], sys.argv[2:]
    child: list[int] = []
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if child:
            os.kill(child[0], signum)
        else:
            pending.append(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    # If the harness dies, we get SIGTERM and pass it on to the command.
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:
        return 1
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ)
    child.append(pid)
    for signum in pending:
        os.kill(pid, signum)
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "wall_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "maxrss_kib": usage.ru_maxrss,
                "returncode": code,
            },
            f,
        )
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
