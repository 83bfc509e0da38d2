"""Atomic file writes: a temporary sibling renamed into place, so a file is either complete or absent.

Folders are written by `pcnsim.outdir` (checked, locked, swapped in without deleting anything foreign)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_INFIX = ".pcnsim-tmp-"  # `.NAME.pcnsim-tmp-XXXX`: how pcnsim's temporaries are named


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_INFIX}", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
