"""A stable sort of 63-bit keys into an order, in the workspace (kernels never allocate).

Used for the day's requests (booking order: urgency, then a random priority) and the month's case-finding
candidates (complexity, then a random priority). Below their rank bits the keys are random, so a counting
sort on the top bits leaves a handful of keys per bucket and one insertion pass finishes the job.
"""

import numpy as np

from .config import jit
from .state import SORT_BITS


@jit
def sort_keys(W, n):
    """Set W.order[:n] to the stable ascending order of W.order_key[:n] (all below 2**63), as a stable
    argsort would, and W.sorted_key[:n] to the keys in that order."""
    keys, order, end = W.order_key, W.order, W.buckets
    bits = 4
    while bits < SORT_BITS and (1 << bits) < n:
        bits += 1
    n_buckets = 1 << bits
    shift = np.uint64(63 - bits)
    for b in range(n_buckets + 1):
        end[b] = 0
    for q in range(n):
        end[(keys[q] >> shift) + np.uint64(1)] += 1
    for b in range(n_buckets):
        end[b + 1] += end[b]
    for q in range(n):
        b = keys[q] >> shift
        order[end[b]] = q
        W.sorted_key[end[b]] = keys[q]
        end[b] += 1
    insertion_pass(W.sorted_key, order, n)


@jit
def insertion_pass(sorted_key, order, n):
    """Finish a bucketed order[:n] whose keys are sorted_key[:n] in the same places: one insertion sort, in
    which a key moves only within its bucket (the keys read in place, not through `order`)."""
    for x in range(1, n):
        key = sorted_key[x]
        if sorted_key[x - 1] <= key:
            continue
        q = order[x]
        y = x - 1
        while y >= 0 and sorted_key[y] > key:
            sorted_key[y + 1] = sorted_key[y]
            order[y + 1] = order[y]
            y -= 1
        sorted_key[y + 1] = key
        order[y + 1] = q
