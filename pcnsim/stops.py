"""Clean stops: a stopped command leaves no process of its own running.

- SIGTERM is handled like Ctrl-C (KeyboardInterrupt), so the same clean-up runs for both: temporaries
  deleted, locks released, a sweep's worker processes terminated.
- Child processes (a sweep's pool workers, the dashboard's Solara server) ask the kernel to kill them when
  their parent dies (Linux PR_SET_PDEATHSIG), so even a SIGKILLed parent, which runs no clean-up, leaves
  none behind; where that is not available a watchdog thread exits the child once its parent is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1


def terminate_as_interrupt() -> None:
    """Make SIGTERM raise KeyboardInterrupt in the main thread, as Ctrl-C does."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _set_parent_death_signal(sig: int) -> bool:
    """Ask Linux to send `sig` to this process when its parent dies; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int) -> None:
    """Make this (child) process end when process `parent_pid` does: a pool worker's initializer."""
    if sys.platform.startswith("linux") and _set_parent_death_signal(signal.SIGKILL) and os.getppid() == parent_pid:
        return
    if os.getppid() != parent_pid:  # the parent died before the kernel was asked to tell us
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="pcnsim-parent-watch", daemon=True).start()


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Terminate a process pool's workers now (their runs are lost, finished ones are saved), then shut it
    down. The pool's processes are read from its private `_processes`: the executor offers no public way to
    stop a worker in the middle of a task."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for p in processes:
        with contextlib.suppress(OSError, ValueError):
            p.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            p.join(timeout=5)
            if p.is_alive():
                p.kill()


def _child_setup() -> None:  # runs in the child between fork and exec
    _set_parent_death_signal(signal.SIGTERM)


def run_child(cmd: list[str], grace: float = 10.0) -> int:
    """Run a command as a child process until it ends; if this process is interrupted (Ctrl-C or SIGTERM)
    stop the child first (SIGTERM, then SIGKILL after `grace` seconds) and re-raise. Returns its exit code."""
    terminate_as_interrupt()
    child = subprocess.Popen(cmd, preexec_fn=_child_setup if sys.platform.startswith("linux") else None)
    try:
        return child.wait()
    except BaseException:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        raise
