"""Numba compilation flags and the compiled-code cache, in one place: every kernel is decorated with `jit`.

cache=True keeps compiled kernels on disk so a second process starts warm; fastmath stays off so the
engine and the plain-Python reference compute bit-identical floating point. NUMBA_DISABLE_JIT=1 turns
every kernel back into Python (slow, but coverage tools can see it).

Numba checks a cached kernel only against its own source file, while the engine's kernels call each other
across modules and read constants from `pcnsim.vocab`: after an edit to a callee, a caller's cached
machine code would still be used. So the engine's cache is keyed on a hash of all those sources
(`EngineCacheLocator`): any change to any of them recompiles every kernel.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
from numba.core import caching, types
from numba.core.registry import CPUDispatcher

FLAGS = {"cache": True, "fastmath": False, "nogil": True, "error_model": "numpy"}

# Kernels never allocate (even the day's sort works in the workspace), so they run without numba's
# reference counting (NRT): with it, every array taken from a state namedtuple inside a loop costs an
# atomic increment and decrement, more than the work itself.
# Only the kernels Python calls (`entry`) get the wrapper that unpacks Python arguments: for the others it
# would be compiled for nothing, and with the parameter tables' ~60 arrays it was half the engine's compile
# time. Calling such a kernel from Python raises TypeError (numba itself would crash the interpreter).
entry = numba.njit(_nrt=False, **FLAGS)
_kernel = numba.njit(_nrt=False, no_cpython_wrapper=True, no_cfunc_wrapper=True, **FLAGS)


def _widened(arg):
    """An argument's type as kernels are compiled for it: the type, not a constant's value; integers narrower
    than 64 bits as int64 (values are kept; numba would otherwise compile a kernel again for each)."""
    arg = types.unliteral(arg)
    if isinstance(arg, types.Integer) and arg.bitwidth < 64:
        return types.int64
    return arg


class KernelOnly(CPUDispatcher):
    """A kernel compiled without a Python entry point: callable from other kernels only, and compiled once per
    kind of argument (`_widened`), not again for every constant or integer width a caller passes (each
    counter column given to `counters.count`, a slot index read from an int32 list)."""

    def get_call_template(self, args, kws):
        return super().get_call_template(tuple(_widened(a) for a in args), {k: _widened(v) for k, v in kws.items()})

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.py_func.__qualname__} is called from other kernels only; call it from a kernel "
                        "decorated with pcnsim.engine.config.entry (or numba.njit)")


def jit(func):
    """Compile `func` as a kernel called from other kernels (see `entry` for those called from Python)."""
    dispatcher = _kernel(func)
    if isinstance(dispatcher, CPUDispatcher):  # not with NUMBA_DISABLE_JIT=1, where it stays a Python function
        dispatcher.__class__ = KernelOnly
    return dispatcher

# The jit options of the `@overload`s that wrap LLVM intrinsics (prefetch, bit scan): cached like the
# kernels that inline them.
OVERLOAD_OPTIONS = {"cache": FLAGS["cache"]}


def sources_hash(files: list[Path]) -> str:
    """SHA-256 over the files' names and contents, in the order given."""
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_directories(package: Path) -> list[Path]:
    """Where a package's compiled kernels may be kept, in order of preference: under NUMBA_CACHE_DIR if the
    user set one, beside the sources, or in the user's cache folder."""
    chosen = [Path(numba.config.CACHE_DIR) / f"pcnsim-{package.name}"] if numba.config.CACHE_DIR else []
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return [*chosen, package / "__pycache__", user_cache / "pcnsim" / "numba" / package.name]


def register_cache(package: Path, also: tuple[Path, ...] = ()) -> type:
    """Make numba cache the kernels defined in `package` (a folder of modules) under a stamp that is the
    hash of every module there and of the files `also`, and return the locator class it uses."""
    package = package.resolve()
    files = sorted(package.glob("*.py")) + [p.resolve() for p in also]
    stamp = sources_hash(files)

    class EngineCacheLocator(caching._CacheLocator):
        def __init__(self, py_func, py_file, path: Path):
            self._lineno = py_func.__code__.co_firstlineno
            self._path = str(path)

        def get_cache_path(self):
            return self._path

        def get_source_stamp(self):
            return stamp

        def get_disambiguator(self):
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file):
            if Path(py_file).resolve().parent != package:
                return None
            for path in cache_directories(package):
                locator = cls(py_func, py_file, path)
                try:
                    locator.ensure_cache_path()
                except OSError:
                    continue
                return locator
            return None

    implementation = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # renamed in numba 0.62
    implementation._locator_classes.insert(0, EngineCacheLocator)
    return EngineCacheLocator


ENGINE = Path(__file__).resolve().parent
register_cache(ENGINE, also=(ENGINE.parent / "vocab.py",))
