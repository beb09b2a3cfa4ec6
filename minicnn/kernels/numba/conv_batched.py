"""The ``numba`` set's convolution where the weight outweighs one sample's columns: all
samples' columns in one matrix product.

With ``P = OH*OW`` output pixels and ``K = C*kh*kw`` taps, one sample's channel-major
columns are ``(K, P)`` (:mod:`.window`) and the weight, as it is stored, ``W (F, K)``.
Where maps are small and channels wide (``P`` of 4 to 64 against ``F`` of 256 or 512) a
product per sample reads the whole weight for a handful of columns, and the weight gradient
``g_n (F, P) @ col_n^T (P, K)`` is an outer product summed sample by sample. Here the
columns of a block of ``B`` samples sit side by side in one ``(K, B*P)`` matrix, so each
product has ``B*P`` columns (forward), rows (input gradient) or an inner size (weight
gradient):

    out    (F, B*P) = W (F, K)       @ cols (K, B*P)     y[n, f, p] = out[f, n*P + p] + b[f]
    dW     (F, K)  += gF (F, B*P)    @ cols^T (B*P, K)   gF[f, n*P + p] = g[n, f, p]
    dcols  (B*P, K) = gP (B*P, F)    @ W (F, K)          dx[n] = col2im(dcols[n*P:(n+1)*P]^T)

The weight and its gradient stay in the layer's own layout, so nothing the size of the
weight is copied or transposed (where the batch is small, such copies cost more than the
products). Each
product is split by rows over the threads (single-threaded BLAS each), except the input
gradient's where it has fewer rows than ``F / threads``: there each thread multiplies
its share of the filters, reading only that share of the weight, and the shares' products
are summed (:func:`_dot_by_inner`); im2col, col2im and
the gradient's two layouts are spread over the samples. Samples are taken in blocks whose
columns fit :data:`BLOCK_BYTES`, so the workspace stays bounded at any batch size; its
buffers come from :data:`minicnn.kernels.memory.POOL`.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL
from .window import col2im_sample, im2col_sample

BLOCK_BYTES = 4 << 20
"""The most bytes of stacked columns one block of samples takes (at least one sample)."""


@njit(parallel=True, cache=True)
def _im2col_columns(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """``cols[:, n*P:(n+1)*P] = im2col(x[n])`` ``(K, P)`` for every sample of the block."""
    p = oh * ow
    for k in prange(x.shape[0]):
        im2col_sample(x[k], cols[:, k * p:(k + 1) * p], 0.0, kh, kw, sh, sw, ph, pw, dh, dw,
                      oh, ow)


@njit(parallel=True, cache=True)
def _col2im_rows(cols, dx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """``dx[n] = col2im(cols[n*P:(n+1)*P]^T)`` for every sample of the block; cols
    ``(B*P, K)``."""
    p = oh * ow
    for k in prange(dx.shape[0]):
        col2im_sample(cols[k * p:(k + 1) * p].T, dx[k], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit(parallel=True, cache=True)
def _dot_by_rows(a, b, out, chunks):
    """``out = a @ b``, the rows of ``a`` and ``out`` split into ``chunks`` products."""
    rows = a.shape[0]
    for t in prange(chunks):
        lo, hi = rows * t // chunks, rows * (t + 1) // chunks
        if hi > lo:
            np.dot(a[lo:hi], b, out[lo:hi])


@njit(parallel=True, cache=True)
def _dot_by_inner(a_t, b, out, partials):
    """``out = a_t^T @ b`` with the inner dimension (the rows of ``a_t`` and ``b``) split
    into one product per thread, each into its own ``partials[t]``, then summed: where
    ``out`` has few rows, each thread reads only its share of ``b`` instead of all of it."""
    chunks, inner = partials.shape[0], b.shape[0]
    for t in prange(chunks):
        lo, hi = inner * t // chunks, inner * (t + 1) // chunks
        if hi > lo:
            np.dot(a_t[lo:hi].T, b[lo:hi], partials[t])
        else:
            partials[t][:] = 0
    rows = out.shape[0]
    for r in prange(rows):
        row = out[r]
        row[:] = partials[0, r]
        for t in range(1, chunks):
            row += partials[t, r]


@njit(parallel=True, cache=True)
def _unstack_output(out, bias, y):
    """``y[n, f, p] = out[f, n*P + p] + bias[f]``; out ``(F, B*P)``, y ``(B, F, P)``."""
    filters, p = y.shape[1], y.shape[2]
    for k in prange(y.shape[0]):
        for f in range(filters):
            row, src, b = y[k, f], out[f, k * p:(k + 1) * p], bias[f]
            for q in range(p):
                row[q] = src[q] + b


@njit(parallel=True, cache=True)
def _stack_gradient(g, g_rows, g_filters):
    """g ``(B, F, P)`` into ``g_rows (B*P, F)`` and ``g_filters (F, B*P)``."""
    filters, p = g.shape[1], g.shape[2]
    for k in prange(g.shape[0]):
        for f in range(filters):
            row = g[k, f]
            g_filters[f, k * p:(k + 1) * p] = row
            for q in range(p):
                g_rows[k * p + q, f] = row[q]


def sample_blocks(n: int, row_bytes: int) -> list[slice]:
    """Consecutive sample blocks of at most :data:`BLOCK_BYTES` where one sample takes
    ``row_bytes`` (at least one sample per block)."""
    size = max(1, min(n, BLOCK_BYTES // max(row_bytes, 1)))
    return [slice(lo, min(lo + size, n)) for lo in range(0, n, size)]


def forward(x, weight, bias, y, geometry):
    """Fill ``y (N, F, P)`` from x ``(N, C, H, W)``, the weight as ``(F, K)`` and the bias
    ``(F,)``."""
    n, f, p = y.shape
    depth, threads = weight.shape[1], numba.get_num_threads()
    blocks = sample_blocks(n, p * depth * x.itemsize)
    for block in blocks:
        width = (block.stop - block.start) * p
        cols, out = POOL.empty((depth, width), x.dtype), POOL.empty((f, width), x.dtype)
        _im2col_columns(x[block], cols, *geometry)
        _dot_by_rows(weight, cols, out, threads)
        _unstack_output(out, bias, y[block])
        del cols, out  # back to the pool before the next block takes its pair


def backward(g, x, weight, grad_x, need_x: bool, need_w: bool, geometry):
    """``dW (F, K)`` (None unless ``need_w``) from g ``(N, F, P)`` and the weight as
    ``(F, K)``, filling ``grad_x`` when ``need_x``."""
    n, f, p = g.shape
    depth, threads = weight.shape[1], numba.get_num_threads()
    blocks = sample_blocks(n, p * depth * x.itemsize)
    grad_w = np.empty((f, depth), x.dtype) if need_w else None
    product = np.empty((f, depth), x.dtype) if need_w and len(blocks) > 1 else None
    for k, block in enumerate(blocks):
        rows = (block.stop - block.start) * p
        g_rows, g_filters = POOL.empty((rows, f), g.dtype), POOL.empty((f, rows), g.dtype)
        _stack_gradient(g[block], g_rows, g_filters)
        if need_w:
            cols = POOL.empty((depth, rows), x.dtype)
            _im2col_columns(x[block], cols, *geometry)
            _dot_by_rows(g_filters, cols.T, grad_w if k == 0 else product, threads)
            if k:  # the first block wrote dW itself
                grad_w += product
        if need_x:
            grad_cols = POOL.empty((rows, depth), x.dtype)
            if rows * threads < f:  # few rows: split the weight, not the rows
                _dot_by_inner(g_filters, weight, grad_cols,
                              POOL.empty((threads, rows, depth), x.dtype))
            else:
                _dot_by_rows(g_rows, weight, grad_cols, threads)
            _col2im_rows(grad_cols, grad_x[block], *geometry)
        g_rows = g_filters = cols = grad_cols = None  # back to the pool for the next block
    return grad_w
