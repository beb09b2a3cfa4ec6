"""The ``numba`` set's convolution where the weight outweighs one sample's columns: all
samples' columns in one matrix product.

With ``P = OH*OW`` output pixels and ``K = kh*kw*C`` columns, one sample's pixel-major
columns are ``(P, K)`` and the weight ``(F, K)``. Where maps are small and channels wide
(``P`` of 4 to 64 against ``F`` of 256 or 512) a product per sample reads the whole weight
for a handful of rows, and the weight gradient ``g_n (F, P) @ col_n (P, K)`` is an outer
product summed sample by sample. Here the columns of a block of ``B`` samples are stacked
into one ``(B*P, K)`` matrix, so each product has ``B*P`` rows (forward, input gradient)
or an inner dimension of ``B*P`` (weight gradient):

    out    (B*P, F) = cols (B*P, K) @ W'^T (K, F)        y[n, f, p] = out[n*P + p, f] + b[f]
    dW'    (F, K)  += gT (F, B*P)    @ cols (B*P, K)     gT[f, n*P + p] = g[n, f, p]
    dcols  (B*P, K) = gP (B*P, F)    @ W' (F, K)          dx[n] = col2im(dcols[n*P:(n+1)*P])

``W'`` is the weight with its columns ordered (i, j, c) (:mod:`.conv`). Each product is
split by rows over the threads (single-threaded BLAS each); im2col, col2im and the
transposes are spread over the samples. Samples are taken in blocks whose columns fit
:data:`BLOCK_BYTES`, so the workspace stays bounded at any batch size; its buffers come
from :data:`minicnn.kernels.memory.POOL`.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL
from .window import col2im_pixel_major, im2col_pixel_major

BLOCK_BYTES = 4 << 20
"""The most bytes of stacked columns one block of samples takes (at least one sample)."""


@njit(parallel=True, cache=True)
def _im2col_rows(x, cols, scratches, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """``cols[n*P:(n+1)*P] = im2col_pixel_major(x[n])`` for every sample of the block."""
    p = oh * ow
    for k in prange(x.shape[0]):
        im2col_pixel_major(x[k], scratches[numba.get_thread_id()], cols[k * p:(k + 1) * p],
                           kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit(parallel=True, cache=True)
def _col2im_rows(cols, scratches, dx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """``dx[n] = col2im_pixel_major(cols[n*P:(n+1)*P])`` for every sample of the block."""
    p = oh * ow
    for k in prange(dx.shape[0]):
        col2im_pixel_major(cols[k * p:(k + 1) * p], scratches[numba.get_thread_id()], dx[k],
                           kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit(parallel=True, cache=True)
def _dot_by_rows(a, b, out, chunks):
    """``out = a @ b``, the rows of ``a`` and ``out`` split into ``chunks`` products."""
    rows = a.shape[0]
    for t in prange(chunks):
        lo, hi = rows * t // chunks, rows * (t + 1) // chunks
        if hi > lo:
            np.dot(a[lo:hi], b, out[lo:hi])


@njit(parallel=True, cache=True)
def _unstack_output(out, bias, y):
    """``y[n, f, p] = out[n*P + p, f] + bias[f]``; out ``(B*P, F)``, y ``(B, F, P)``."""
    filters, p = y.shape[1], y.shape[2]
    for k in prange(y.shape[0]):
        for f in range(filters):
            row, b = y[k, f], bias[f]
            for q in range(p):
                row[q] = out[k * p + q, f] + b


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


def _workspace(x, samples: int, p: int, depth: int):
    threads, (c, h, w) = numba.get_num_threads(), x.shape[1:]
    return (POOL.empty((samples * p, depth), x.dtype),
            POOL.empty((threads, h, w, c), x.dtype))


def forward(x, wmat, bias, y, geometry):
    """Fill ``y (N, F, P)`` from x ``(N, C, H, W)``, ``W' (F, K)`` and the bias ``(F,)``."""
    n, f, p = y.shape
    depth, threads = wmat.shape[1], numba.get_num_threads()
    blocks = sample_blocks(n, p * depth * x.itemsize)
    wmat_t = np.ascontiguousarray(wmat.T)
    cols, scratches = _workspace(x, blocks[0].stop, p, depth)
    out = POOL.empty((blocks[0].stop * p, f), x.dtype)
    for block in blocks:
        rows = (block.stop - block.start) * p
        _im2col_rows(x[block], cols[:rows], scratches, *geometry)
        _dot_by_rows(cols[:rows], wmat_t, out[:rows], threads)
        _unstack_output(out[:rows], bias, y[block])


def backward(g, x, wmat, grad_x, need_x: bool, need_w: bool, geometry):
    """``dW' (F, K)`` (None unless ``need_w``) from g ``(N, F, P)``, filling ``grad_x``
    when ``need_x``."""
    n, f, p = g.shape
    depth, threads = wmat.shape[1], numba.get_num_threads()
    blocks = sample_blocks(n, p * depth * x.itemsize)
    cols, scratches = _workspace(x, blocks[0].stop, p, depth)
    zeros_or_empty = np.zeros if len(blocks) > 1 else np.empty  # one block writes it all
    grad_w = zeros_or_empty((f, depth), x.dtype) if need_w else None
    product = np.empty((f, depth), x.dtype) if need_w and len(blocks) > 1 else grad_w
    for block in blocks:
        rows = (block.stop - block.start) * p
        g_rows, g_filters = POOL.empty((rows, f), g.dtype), POOL.empty((f, rows), g.dtype)
        _stack_gradient(g[block], g_rows, g_filters)
        if need_w:
            _im2col_rows(x[block], cols[:rows], scratches, *geometry)
            _dot_by_rows(g_filters, cols[:rows], product, threads)
            if product is not grad_w:
                grad_w += product
        if need_x:
            _dot_by_rows(g_rows, wmat, cols[:rows], threads)
            _col2im_rows(cols[:rows], scratches, grad_x[block], *geometry)
    return grad_w
