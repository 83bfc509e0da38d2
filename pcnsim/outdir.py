"""Output folders pcnsim writes: checked before any simulation, claimed with a lock, replaced atomically.

The rules, so that no command deletes or replaces anything it did not write:
- an output folder that exists is replaced only with `overwrite=True`, and only if pcnsim wrote it: its
  `manifest.json` says `"generator": "pcnsim"` and the folder holds exactly the files the manifest lists
  (a user's file inside makes it foreign); folders filled run by run (sweeps, optimiser runs) carry a
  hidden `.pcnsim-output` marker instead and may hold only the names their writer makes;
- the location is checked (not a file, writable, not taken) before any simulation starts;
- one writer at a time: `claim` holds an exclusive lock on the sibling `.NAME.lock` (fcntl.flock, so a
  killed holder releases it); a second writer is refused at once, before it simulates;
- a folder is written to the hidden sibling `.NAME.pcnsim-tmp-XXXX` (with a `.pcnsim-temp` marker inside),
  then swapped in: the old folder is renamed to `.NAME.pcnsim-old-XXXX`, the new one renamed in, the old
  one deleted. Ctrl-C and SIGTERM wait until both renames are done. A SIGKILL in between leaves the old
  folder complete under its aside name and the new one complete as a temporary: the next claim of the
  same output renames the old folder back and deletes pcnsim's leftovers (never anything else).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .atomic import FOLDER_MODE, TEMP_INFIX

try:
    import fcntl
except ImportError:  # not POSIX: a lock file created exclusively stands in for flock
    fcntl = None

GENERATOR = "pcnsim"
FORMAT = 1
TEMP_MARKER = ".pcnsim-temp"  # inside a temporary folder while it is being filled
OUTPUT_MARKER = ".pcnsim-output"  # inside a folder pcnsim fills run by run (sweep, optimise)
ASIDE_INFIX = ".pcnsim-old-"


class ResultsError(ValueError):
    """A results folder that cannot be written or read as asked (a user-facing problem: one line, exit 2)."""


# ---- what pcnsim wrote -----------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest.json if it parses as a JSON object, else None."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _ours_by_manifest(folder: Path) -> str | None:
    """None if the manifest says pcnsim wrote the folder and it holds just the listed files, else why not."""
    manifest = read_manifest(folder)
    if manifest is None:
        return "no readable manifest.json"
    if "generator" not in manifest and "replicate_seeds" in manifest:
        return "it is from a pcnsim older than manifests that name their writer; delete it yourself to reuse it"
    if manifest.get("generator") != GENERATOR or not isinstance(manifest.get("files"), dict):
        return "its manifest.json was not written by pcnsim"
    listed = set(manifest["files"]) | {"manifest.json"}
    sizes = manifest.get("bytes", {})
    for entry in sorted(folder.iterdir()):
        if entry.name in listed:
            if not entry.is_file() or (entry.name in sizes and entry.stat().st_size != sizes[entry.name]):
                return f"{entry.name} differs from its manifest"
        elif not (_our_report(entry) or _ours_hidden(folder, entry.name)):  # hidden: a report's lock, leftovers
            return f"it holds {entry.name}, which pcnsim did not write"
    missing = sorted(listed - {p.name for p in folder.iterdir()})
    return f"{missing[0]} is missing" if missing else None


def _ours_by_marker(folder: Path, names: tuple[str, ...]) -> str | None:
    """None if the folder carries pcnsim's output marker (or, written before markers, holds `names[0]`) and
    holds only `names`, else why not."""
    marker_path = folder / OUTPUT_MARKER
    if marker_path.exists():
        try:
            marker = json.loads(marker_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            marker = None
        if not isinstance(marker, dict) or marker.get("generator") != GENERATOR:
            return f"its {OUTPUT_MARKER} was not written by pcnsim"
    for entry in sorted(folder.iterdir()):
        if entry.name != OUTPUT_MARKER and entry.name not in names and not (_our_report(entry)
                                                                            or _ours_hidden(folder, entry.name)):
            return f"it holds {entry.name}, which pcnsim did not write"
    if not marker_path.exists() and not (folder / names[0]).exists():
        return "it was not written by pcnsim"
    return None


def ours(folder: Path, names: tuple[str, ...] | None = None) -> str | None:
    """None if pcnsim wrote this folder (so it may replace it, or with `names`, the names a folder filled run
    by run may hold, add to it), else a short reason why not."""
    if names is not None:
        return _ours_by_marker(folder, names)
    return _ours_by_manifest(folder)


def _our_report(entry: Path) -> bool:
    """The report folder `pcnsim report` writes inside a results folder by default, if pcnsim wrote it."""
    return entry.name == "report" and entry.is_dir() and ours(entry) is None


def _ours_hidden(folder: Path, name: str) -> bool:
    """pcnsim's own hidden leftovers next to or inside an output (locks, temporaries, asides)."""
    return name.startswith(".") and (name.endswith(".lock") or TEMP_INFIX in name or ASIDE_INFIX in name)


def marked_kind(folder: Path) -> str | None:
    """The kind of command filling a folder run by run (its output marker's), or None without a marker."""
    try:
        marker = json.loads((folder / OUTPUT_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker.get("kind") if isinstance(marker, dict) and marker.get("generator") == GENERATOR else None


def mark(folder: Path, kind: str) -> None:
    """Mark a folder pcnsim fills run by run (a sweep's, the optimiser's) as its own."""
    if not (folder / OUTPUT_MARKER).exists():
        text = json.dumps({"generator": GENERATOR, "format": FORMAT, "kind": kind})
        (folder / OUTPUT_MARKER).write_text(text, encoding="utf-8")


# ---- checking a location before work starts --------------------------------------------------------------


def check_location(target: Path, what: str = "--out", file: bool = False) -> None:
    """Refuse a target that is a file (a folder, for a file target), lies inside a file, or sits where
    nothing can be written."""
    if not file and target.exists() and not target.is_dir():
        raise ResultsError(f"{target}: {what} exists and is not a directory")
    if file and target.is_dir():
        raise ResultsError(f"{target}: {what} is a directory, not a file")
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ResultsError(f"{target}: {what} cannot be created: {parent} is a file")
    writable = target if target.is_dir() else target.parent if target.parent.exists() else parent
    if not os.access(writable, os.W_OK | os.X_OK):
        raise ResultsError(f"{target}: {what} cannot be written (no write permission in {writable})")


def check_file(target: Path, header: str, what: str) -> None:
    """Refuse a file target that cannot be written, or that exists and does not start with `header` (the
    first line pcnsim writes into such files)."""
    check_location(target, what, file=True)
    if target.exists():
        try:
            with target.open(encoding="utf-8", errors="replace") as f:
                first = f.readline()
        except OSError as exc:
            raise ResultsError(f"{target}: {what} cannot be read ({exc.strerror})") from None
        if not first.startswith(header):
            raise ResultsError(f"{target}: not replaced: {what} exists and was not written by pcnsim (it does not "
                               f"start with {header.strip()!r}); choose another")


def check_target(target: Path, overwrite: bool, what: str = "--out", resumable: tuple[str, ...] | None = None
                 ) -> None:
    """Refuse a target that cannot be written, or that exists and may not be replaced (see the module's rules).

    resumable: the names a folder filled run by run holds (its writer adds to it); it may exist if ours."""
    check_location(target, what)
    if not target.exists() or not any(target.iterdir()):
        return
    if resumable is not None:
        why = ours(target, resumable)
        if why is not None:
            raise ResultsError(f"{target}: {what} not used: {why}; choose another")
        return
    if not overwrite:
        raise ResultsError(f"{target}: {what} is not empty (choose another, or --overwrite a previous "
                           "pcnsim results directory)")
    why = ours(target)
    if why is not None:
        raise ResultsError(f"{target}: not replaced: {why}; pcnsim replaces only folders it wrote")


# ---- claiming an output: the lock, recovery, leftovers ---------------------------------------------------


def _siblings(target: Path, infix: str) -> list[Path]:
    prefix = f".{target.name}{infix}"
    return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix)) if target.parent.is_dir() else []


def _is_our_temp(path: Path) -> bool:
    """A temporary folder pcnsim made: by name, and by its marker (or, once filled, by its manifest)."""
    if not path.is_dir() or path.is_symlink():
        return False
    return (path / TEMP_MARKER).is_file() or (read_manifest(path) or {}).get("generator") == GENERATOR


def _remove(folder: Path) -> None:
    """Delete a folder of pcnsim's, its marker and manifest last: one killed halfway is still recognised."""
    last = (TEMP_MARKER, "manifest.json")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name in last):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()


def tidy(target: Path) -> list[str]:
    """After a killed run: put back a folder left aside by an interrupted replacement, delete pcnsim's
    temporary and aside folders of this target. Call with the target's lock held; returns what was done."""
    done = []
    asides = [p for p in _siblings(target, ASIDE_INFIX) if _is_our_temp(p)]
    if asides and not target.exists():
        os.replace(asides.pop(), target)
        done.append(f"{target}: restored the previous folder, left aside by an interrupted replacement")
    for p in [*asides, *(p for p in _siblings(target, TEMP_INFIX) if _is_our_temp(p))]:
        _remove(p)
        done.append(f"{target}: deleted {p.name}, left by an interrupted run")
    for p in [*_siblings(target, ASIDE_INFIX), *_siblings(target, TEMP_INFIX)]:
        with contextlib.suppress(OSError):  # empty ones (killed before anything went in); rmdir keeps the rest
            p.rmdir()
    return done


@contextlib.contextmanager
def _deferred_signals() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done (only the main thread can set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in (signal.SIGINT,
                                                                                           signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for s in caught:
            signal.raise_signal(s)


def _pause(step: str) -> None:
    """A test hook: PCNSIM_TEST_PAUSE=STEP:SECONDS sleeps at that step of a replacement (to kill it there)."""
    hook = os.environ.get("PCNSIM_TEST_PAUSE", "")
    if hook.startswith(f"{step}:"):
        time.sleep(float(hook.split(":", 1)[1]))


def replace_dir(target: Path, fill: Callable[[Path], None], overwrite: bool = False, what: str = "--out") -> Path:
    """Fill a temporary sibling with `fill(tmp)`, then swap it in for `target` (which must be absent, empty,
    or ours and overwrite=True). Call with the target claimed. On any error the temporary is deleted and the
    target is as it was."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{TEMP_INFIX}", dir=target.parent))
    aside = None
    try:
        (tmp / TEMP_MARKER).write_text(json.dumps({"generator": GENERATOR, "pid": os.getpid()}), encoding="utf-8")
        fill(tmp)
        (tmp / TEMP_MARKER).unlink()
        tmp.chmod(FOLDER_MODE)  # as a folder made by mkdir (mkdtemp makes it private)
        check_target(target, overwrite, what)  # again: a user may have put something there meanwhile
        with _deferred_signals():
            if target.exists():
                aside = Path(tempfile.mkdtemp(prefix=f".{target.name}{ASIDE_INFIX}", dir=target.parent))
                os.replace(target, aside)  # an empty directory is replaced by the rename
                _pause("between-renames")
            os.replace(tmp, target)
    except BaseException:
        if aside is not None and not target.exists():
            os.replace(aside, target)
            aside = None
        _remove(tmp)
        raise
    finally:
        if aside is not None:
            _remove(aside)
    return target


class Claim:
    """An output location held by this process: locked, tidied and checked. Use as a context manager."""

    def __init__(self, target: Path, overwrite: bool = False, what: str = "--out",
                 resumable: tuple[str, ...] | None = None, header: str | None = None,
                 notify: Callable[[str], None] | None = None):
        """resumable: the names a folder filled run by run holds (the first always there once written);
        header: the target is a file that pcnsim may replace only if it starts with this line;
        notify: told what was tidied (leftovers of killed runs), before the target is checked."""
        self.target = Path(target)
        self.overwrite, self.what, self.resumable, self.header = overwrite, what, resumable, header
        self.notes: list[str] = []
        self.notify = notify
        self._fd: int | None = None
        self._made: list[Path] = []

    @property
    def lock_path(self) -> Path:
        return self.target.parent / f".{self.target.name}.lock"

    def __enter__(self) -> Claim:
        check_location(self.target, self.what, file=self.header is not None)
        missing = [p for p in [self.target.parent, *self.target.parent.parents] if not p.exists()]
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ResultsError(f"{self.target}: {self.what} cannot be created ({exc.strerror})") from None
        self._made = missing
        try:
            self._lock()
            if self.header is not None:
                check_file(self.target, self.header, self.what)
            else:
                self.notes += tidy(self.target)
                for note in self.notes if self.notify else []:
                    self.notify(note)
                check_target(self.target, self.overwrite, self.what, self.resumable)
            _pause("claimed")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _lock(self) -> None:
        if fcntl is None:
            try:
                self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                raise ResultsError(f"{self.target}: another pcnsim command is writing this {self.what} now (or one "
                                   f"was killed: then delete {self.lock_path})") from None
            except OSError as exc:
                raise ResultsError(f"{self.target}: {self.what} cannot be written ({exc.strerror})") from None
            os.write(self._fd, str(os.getpid()).encode())
            return
        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise ResultsError(f"{self.target}: {self.what} cannot be written ({exc.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    raise ResultsError(f"{self.target}: another pcnsim command (pid {holder}) is writing this "
                                       f"{self.what} now; wait for it to finish or choose another") from None
                raise
            try:  # the holder before us may have deleted the file on release: lock the file at the path
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
                self._fd = fd
                return
            os.close(fd)

    def write(self, fill: Callable[[Path], None]) -> Path:
        """Write the output folder atomically with `fill(tmp)` (see `replace_dir`)."""
        return replace_dir(self.target, fill, self.overwrite, self.what)

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.lock_path.unlink()
            os.close(self._fd)  # releases the lock
            self._fd = None
        if exc_type is not None or not self.target.exists():
            for p in self._made:  # parents this claim created, if nothing went into them
                with contextlib.suppress(OSError):
                    p.rmdir()


def write_folder(target: Path, fill: Callable[[Path], None], overwrite: bool = False, claim: Claim | None = None,
                 what: str = "--out") -> Path:
    """Write a folder atomically with `fill(tmp)` (`replace_dir`), through `claim` if the caller holds the
    target already (the command line claims it before simulating), else under a claim of its own."""
    if claim is not None:
        return claim.write(fill)
    with Claim(Path(target), overwrite, what=what) as own:
        return own.write(fill)


def recover(target: Path) -> list[str]:
    """Before reading a folder that is missing: restore it if a replacement was killed between its renames
    (`tidy`), unless another pcnsim holds it. Returns what was done."""
    target = Path(target)
    if target.exists() or not _siblings(target, ASIDE_INFIX):
        return []
    claim = Claim(target, overwrite=False, what="results directory")
    try:
        claim._lock()
    except ResultsError:
        return []  # being written now: its writer finishes the replacement
    try:
        return tidy(target)
    finally:
        claim.__exit__(None, None, None)
