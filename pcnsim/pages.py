"""Arrays in memory maps of their own, on ordinary pages, for large tables written once.

numpy asks Linux for transparent huge pages for an array of 4 MiB or more; on a machine whose memory is
fragmented the kernel then compacts memory to find them, which made writing a large table into fresh
memory several times slower. And the C allocator keeps some freed blocks for later, so the memory of
replicates' tables freed after their join stayed with the process. A map of its own avoids both.
"""

import mmap

import numpy as np


def empty_on_small_pages(shape: tuple, dtype) -> np.ndarray:
    """An empty array in a memory map of its own, on ordinary pages (the kernel is asked not to gather them
    into transparent huge pages, on Linux), given back to the system as soon as the array is freed.

    For the per-patient tables, not the engine's state (whose scattered reads gain from huge pages)."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    private = {"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS} if hasattr(mmap, "MAP_ANONYMOUS") else {}
    buffer = mmap.mmap(-1, max(count * dtype.itemsize, 1), **private)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        buffer.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(buffer, dtype, count).reshape(shape)
