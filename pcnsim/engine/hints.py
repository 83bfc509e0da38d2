"""Hints to the compiler and the cache that change no result: non-negative indices and prefetching.

The day's patients are visited in slot order (every ~20th patient) and its requests in a random priority
order, so each one's record is a cache miss on a large list; asking for the record of the patient a few
places ahead while working on this one hides most of that wait (`prefetch`).
"""

import numpy as np

from .config import jit
from .prefetch import prefetch

AHEAD = 8  # patients ahead whose record is prefetched
PREFETCH_FROM = 2_000  # patients: a smaller list (~0.5 MB of records) stays in the core's cache anyway


@jit
def slot(x):
    """x (a patient slot or a place in a list, never negative) as an index known to be non-negative: numba
    adds the array's length to a negative index, and a cleared sign bit lets LLVM drop that fix-up."""
    return np.int64(x) & np.int64(0x7FFFFFFFFFFFFFFF)


@jit
def prefetch_pays(S):
    """Whether prefetching is worth it: a list of PREFETCH_FROM patients or more."""
    return S.patients.shape[0] >= PREFETCH_FROM


@jit
def prefetch_patient(S, i):
    """Ask the cache for patient i's record (`state.PATIENT`: its first, middle and last lines)."""
    prefetch(S.rows, i)
