"""Worker processes that die with the process that started them.

A cohort's local workers are separate processes: if the cohort process is killed by a
signal it cannot catch (SIGKILL, the out-of-memory killer, a closed terminal's SIGHUP that
bypasses Python), nothing stops them, and they would run on, orphaned, for minutes. Two
lines of defence, both installed by `tie_to_parent` in each worker as it starts:

- on Linux, the kernel's parent-death signal (`prctl(PR_SET_PDEATHSIG, SIGKILL)`): the
  worker is killed the moment its parent ends;
- everywhere, a watchdog thread that checks every `POLL_S` seconds whether the worker's
  parent is still the process that started it (an orphan is re-parented), and ends the
  worker at once if not.

Threads inside a worker (Numba's pool) end with it; multiprocessing's resource tracker
ends by itself once every process that holds its pipe has ended.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL_S = 0.5


def _parent_death_signal(signum: int) -> bool:
    """Ask the kernel to send `signum` to this process when its parent ends (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int, poll_s: float) -> None:
    event = threading.Event()
    while not event.wait(poll_s):
        if os.getppid() != parent_pid:
            os._exit(1)  # orphaned: nothing to hand results to; no cleanup can be owed


def tie_to_parent(parent_pid: int, poll_s: float = POLL_S) -> None:
    """End this process when `parent_pid` ends (call it first thing in a worker).

    Parameters
    ----------
    parent_pid
        The process that started this one (`os.getpid()` there, passed to the worker).
    poll_s
        How often the portable watchdog checks the parent, in seconds.
    """
    _parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent ended before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid, poll_s), daemon=True,
                     name="bispecific-parent-watchdog").start()
