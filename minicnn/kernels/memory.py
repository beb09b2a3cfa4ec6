"""A caching allocator for large arrays: blocks come back to a free list when the last
array using them dies, and the next request of the same size takes them again.

Why: a fresh large NumPy array is zero-filled page by page by the kernel on first touch
(mmap), which costs about as much as the arithmetic that fills it; a training step makes
the same allocations every time, so after the first step nothing is newly mapped.

How: each array is a view of a ``ctypes`` window over a pooled block; the window is
referenced by every NumPy view made from the array (through the buffer protocol), so it
dies only when the last view does, and its finalizer returns the block to the pool.
A request takes the smallest free block of at least its size and at most twice it, so a
block freed by one layer can serve a smaller one later: blocks are kept by byte size, any
shape and dtype may reuse them. A request no free block fits maps a fresh block and drops
as many bytes of the free blocks too small for it, largest first: a network whose sizes
grow (a DenseNet's concatenations) then does not keep the small ones beside the large, and
a step that repeats the last one's requests finds every block where it was.
Arrays smaller than ``min_bytes`` come from
``numpy.empty`` as usual. The free lists are not guarded by a lock: one thread at a time
allocates from a pool.

The ``numba`` set takes from :data:`POOL` both its outputs and its scratch buffers (which
die when the kernel returns, so the next call takes the same blocks again).
"""
from __future__ import annotations

import ctypes
import math
import weakref
from collections import defaultdict

import numpy as np

PAGE = 4096


class BufferPool:
    def __init__(self, min_bytes: int = 1 << 20):
        self.min_bytes = min_bytes
        self._free: dict[int, list[np.ndarray]] = defaultdict(list)

    def empty(self, shape, dtype) -> np.ndarray:
        """An uninitialised C-contiguous array, like ``numpy.empty(shape, dtype)``."""
        dtype = np.dtype(dtype)
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype)
        size = -(-nbytes // PAGE) * PAGE
        fits = [s for s, blocks in self._free.items() if blocks and size <= s <= 2 * size]
        if fits:
            size = min(fits)
            block = self._free[size].pop()
        else:
            self._give_back(size)
            block = np.empty(size, np.uint8)
        window = (ctypes.c_byte * nbytes).from_buffer(block)
        weakref.finalize(window, self._free[size].append, block)
        return np.frombuffer(window, dtype, count).reshape(shape)

    def _give_back(self, wanted: int) -> None:
        """Drop free blocks too small for a ``wanted``-byte request, largest first, until
        ``wanted`` bytes are dropped or none is left: a freshly mapped block then does not
        add to what the pool holds, and blocks that may serve a later request stay."""
        smaller = sorted((s for s, blocks in self._free.items() if blocks and s < wanted),
                         reverse=True)
        for size in smaller:
            blocks = self._free[size]
            while blocks and wanted > 0:
                blocks.pop()
                wanted -= size
            if wanted <= 0:
                return

    def held_bytes(self) -> int:
        """Bytes in free blocks, waiting for reuse."""
        return sum(size * len(blocks) for size, blocks in self._free.items())

    def release(self) -> None:
        """Drop every free block (arrays in use are not affected)."""
        self._free.clear()


POOL = BufferPool()
