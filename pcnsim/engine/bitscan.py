"""The lowest set bit of a 64-bit mask, for numba kernels that read off a mask of comparisons.

`kernels.list_due` compares 64 patients' next event days with today into one bit mask (a loop LLVM
vectorises) and lists the set bits in order; each takes one `tzcnt` (LLVM's cttz). Without the JIT
(NUMBA_DISABLE_JIT=1) the Python version below runs.
"""

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import overload

from .config import OVERLOAD_OPTIONS


def lowest_set_bit(m):
    """The position (0-63) of the lowest set bit of a non-zero uint64 mask."""
    m = int(m)
    return (m & -m).bit_length() - 1


@overload(lowest_set_bit, jit_options=OVERLOAD_OPTIONS)
def _lowest_set_bit_overload(m):
    return lambda m: np.int64(trailing_zeros(m))
