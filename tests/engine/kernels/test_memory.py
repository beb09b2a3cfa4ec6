"""The caching allocator (``minicnn/kernels/memory.py``): a freed block serves the next request
of a size it fits, whatever its shape and dtype; a live array's block is never handed out;
small arrays are not pooled; a freshly mapped block gives back as many free bytes; kernels
looping over sample blocks hold one block's buffers at a time."""
import gc

import numpy as np

from minicnn.kernels.memory import PAGE, BufferPool

MIB = 1 << 20


def address(array) -> int:
    return array.__array_interface__["data"][0]


def test_a_freed_block_serves_the_next_request_whatever_its_shape_and_dtype():
    pool = BufferPool(min_bytes=MIB)
    a = pool.empty((512, 1024), np.float32)  # 2 MiB
    assert a.shape == (512, 1024) and a.dtype == np.float32 and a.flags.c_contiguous
    where = address(a)
    del a
    gc.collect()
    assert pool.held_bytes() == 2 * MIB
    b = pool.empty((256, 1024), np.float64)  # the same 2 MiB, another shape and dtype
    assert address(b) == where and b.shape == (256, 1024) and b.dtype == np.float64
    assert pool.held_bytes() == 0


def test_a_block_serves_requests_from_half_its_size_up_and_no_smaller():
    pool = BufferPool(min_bytes=MIB)
    big = pool.empty((4 * MIB,), np.uint8)
    where = address(big)
    del big
    gc.collect()
    half = pool.empty((2 * MIB,), np.uint8)
    assert address(half) == where
    del half
    gc.collect()
    small = pool.empty((MIB,), np.uint8)  # a quarter of the block: too small to take it
    assert address(small) != where


def test_a_fresh_block_gives_back_as_many_bytes_of_blocks_too_small_for_it():
    pool = BufferPool(min_bytes=MIB)
    blocks = [pool.empty((size * MIB,), np.uint8) for size in (40, 3, 2, 1)]
    del blocks
    gc.collect()
    assert pool.held_bytes() == 46 * MIB
    four = pool.empty((4 * MIB,), np.uint8)  # fits none: 3 and 2 MiB go, 40 MiB may serve
    assert pool.held_bytes() == 41 * MIB and four.size == 4 * MIB
    twenty = pool.empty((20 * MIB,), np.uint8)  # the 40 MiB block serves it
    assert pool.held_bytes() == MIB and twenty.size == 20 * MIB


def test_a_view_keeps_the_block_in_use():
    pool = BufferPool(min_bytes=MIB)
    a = pool.empty((MIB // 8,), np.float64)
    view = a[10:20]
    where = address(a)
    del a
    gc.collect()
    b = pool.empty((MIB // 8,), np.float64)
    assert address(b) != where  # the view still reads the first block
    view[:] = 1.0
    b[:] = 2.0
    assert view.tolist() == [1.0] * 10


def test_small_arrays_are_not_pooled_and_release_drops_the_free_blocks():
    pool = BufferPool(min_bytes=MIB)
    small = pool.empty((10,), np.float32)
    del small
    gc.collect()
    assert pool.held_bytes() == 0
    a = pool.empty((MIB + 1,), np.uint8)
    del a
    gc.collect()
    assert pool.held_bytes() == MIB + PAGE  # rounded up to whole pages
    pool.release()
    assert pool.held_bytes() == 0


def pages(nbytes: int) -> int:
    return -(-nbytes // PAGE) * PAGE


def test_a_convolution_over_several_sample_blocks_holds_one_blocks_buffers_at_a_time():
    from minicnn.kernels.memory import POOL
    from minicnn.kernels.numba import conv_batched, conv_winograd
    from minicnn.kernels.numba.window import geometry
    from minicnn.kernels.window import Window

    rng = np.random.default_rng(0)
    win = Window(3, 3, 1, 1, 1, 1)
    # stacked: 16 -> 64 channels at 32 x 32, 7 samples a block (3 blocks); each block's
    # columns (144, 7 * 1024) and output (64, 7 * 1024) come from the pool
    x = rng.standard_normal((21, 16, 32, 32), dtype=np.float32)
    weight = rng.standard_normal((64, 16 * 9), dtype=np.float32)
    y = np.empty((21, 64, 32 * 32), np.float32)
    assert len(conv_batched.sample_blocks(21, 1024 * 144 * 4)) == 3
    gc.collect()  # no other test's arrays come back to the pool during the call
    POOL.release()
    conv_batched.forward(x, weight, np.zeros(64, np.float32), y, geometry(win, 32, 32))
    gc.collect()
    assert POOL.held_bytes() == pages(144 * 7168 * 4) + pages(64 * 7168 * 4)
    # Winograd: 64 -> 64 channels at 16 x 16, 16 samples a block (3 blocks); each block's
    # V and M (16, 16 * 64 tiles, 64) come from the pool
    x = rng.standard_normal((48, 64, 16, 16), dtype=np.float32)
    weight = rng.standard_normal((64, 64, 3, 3), dtype=np.float32)
    y = np.empty((48, 64, 16, 16), np.float32)
    assert len(conv_batched.sample_blocks(48, 16 * 64 * 64 * 4)) == 3
    gc.collect()
    POOL.release()
    conv_winograd.forward(x, weight, np.zeros(64, np.float32), y, win)
    gc.collect()
    assert POOL.held_bytes() == 2 * pages(16 * 1024 * 64 * 4)
    POOL.release()
