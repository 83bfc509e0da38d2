"""Where a results folder came from, recorded in its manifest.json (`provenance`): pcnsim's version and its
dependencies' versions, Python and the platform, the git commit (and whether the tree had changes) when
pcnsim runs from a checkout, the command line, the working directory, when the work started and how long it
took, the seeds, and the folder's files that hold the resolved scenarios and the experiment file.

So that a folder found months later says how to make it again, and with what.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import shlex
import subprocess
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PYTHON_API = "python API"  # the command of a folder written from Python rather than the command line
GIT_SECONDS = 5  # git answers in milliseconds; a hung network drive must not hold a run's results

_command: tuple[str, float] | None = None  # the pcnsim command line being run, and when it started


def command_started(argv: list[str]) -> None:
    """Note that pcnsim runs as the command `argv` (sys.argv), from now (the command line calls this first)."""
    global _command
    _command = (shlex.join(["pcnsim", *argv[1:]]), time.time())


@functools.cache
def pcnsim_version() -> str:
    try:
        return metadata.version("pcnsim")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


@functools.cache
def dependencies() -> dict[str, str]:
    """The installed version of each library pcnsim requires (its package metadata: pyproject's list)."""
    try:
        required = metadata.requires("pcnsim") or []
    except metadata.PackageNotFoundError:
        required = []
    names = [re.match(r"[A-Za-z0-9_.-]+", r).group(0) for r in required if "extra ==" not in r]
    out = {}
    for name in sorted(dict.fromkeys(names), key=str.lower):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@functools.cache
def git_state() -> dict | None:
    """{"commit": sha, "dirty": changes to tracked files} when pcnsim's package sits at the top of a git
    checkout; None otherwise (installed from a wheel, no git, or git failing)."""
    checkout = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True,
                                  timeout=GIT_SECONDS, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel", "HEAD")
    if top is None or len(top.split()) != 2 or Path(top.split()[0]).resolve() != checkout:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    state = {"commit": top.split()[1]}
    if status is not None:
        state["dirty"] = bool(status.strip())
    return state


def versions() -> dict[str, str]:
    """pcnsim's version, then each dependency's."""
    return {"pcnsim": pcnsim_version(), **dependencies()}


def collect(started: float | None, seeds: dict, scenarios: list[str], **extra) -> dict:
    """The provenance of a folder whose work began at `started` (time.time(); None: now; the command's own
    start when run from the command line): versions, checkout, command, times, `seeds`, the folder's resolved
    `scenarios` files and `extra` (e.g. the experiment file's copy)."""
    if _command is not None:
        command, started = _command
    else:
        command, started = PYTHON_API, time.time() if started is None else started
    record = {
        "pcnsim": pcnsim_version(),
        "dependencies": dependencies(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "command": command,
        "working_directory": _working_directory(),
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 3),
        "seeds": seeds,
        "scenarios": scenarios,
        **extra,
    }
    git = git_state()
    if git is not None:
        record["git"] = git
    return record



def _working_directory() -> str | None:
    """Where relative paths in the command line start (None if that folder was deleted meanwhile)."""
    try:
        return os.getcwd()
    except OSError:
        return None
