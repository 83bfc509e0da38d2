"""Numba compilation flags, in one place: every kernel is decorated with `jit`.

cache=True keeps compiled kernels on disk so a second process starts warm; fastmath stays off so the
engine and the plain-Python reference compute bit-identical floating point. NUMBA_DISABLE_JIT=1 turns
every kernel back into Python (slow, but coverage tools can see it).
"""

import numba

FLAGS = {"cache": True, "fastmath": False, "nogil": True, "error_model": "numpy"}

# Kernels never allocate (even the day's sort works in the workspace), so they run without numba's
# reference counting (NRT): with it, every array taken from a state namedtuple inside a loop costs an
# atomic incref/decref pair (~5 ns, measured), more than the work itself.
jit = numba.njit(_nrt=False, **FLAGS)

# The jit options of the `@overload`s that wrap LLVM intrinsics (prefetch, atomics, pause): cached like
# the kernels that inline them.
OVERLOAD_OPTIONS = {"cache": FLAGS["cache"]}
