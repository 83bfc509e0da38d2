"""Atomic file writes: a temporary sibling renamed into place, so a file is either complete or absent.

Files and folders pcnsim makes follow the user's umask, as a plain `open` or `mkdir` would: colleagues
on a shared drive can read what a umask of 022 lets them read. (`tempfile.mkstemp` and `mkdtemp` make
private ones, 0600 and 0700, so their modes are set from the umask.) Folders are written by
`pcnsim.outdir` (checked, locked, swapped in without deleting anything foreign)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_INFIX = ".pcnsim-tmp-"  # `.NAME.pcnsim-tmp-XXXX`: how pcnsim's temporaries are named


def _read_umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux's /proc), else by
    setting and restoring it (done once, at import, before pcnsim starts any thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _read_umask()
FILE_MODE = 0o666 & ~UMASK  # what open() gives a new file
FOLDER_MODE = 0o777 & ~UMASK  # what mkdir() gives a new folder


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_INFIX}", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp's file is private whatever the umask
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
