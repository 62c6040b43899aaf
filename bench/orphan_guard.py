"""Exec a server so that the kernel kills it when the harness dies.

Run as ``python -S -E orphan_guard.py PARENT_PID ARGV...`` by :mod:`servers`. It sets
``PR_SET_PDEATHSIG`` = SIGKILL (kept across ``exec``) and then becomes ``ARGV``; if the
harness has already gone (our parent is no longer ``PARENT_PID``) it exits instead.
Linux only; standard library only. This replaces ``preexec_fn``, which is unsafe in a
process with threads.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> int:
    parent, argv = int(sys.argv[1]), sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        return 1
    if os.getppid() != parent:
        return 1
    os.execvp(argv[0], argv)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
