"""Numba kernels for the CPU: the contract of ``minicnn/kernels/__init__.py``, fast.

What makes them fast, in order of weight:

- A one-channel input (the first layer) is convolved directly, row by row (3x3 windows
  with stride 1, the study's, with the nine taps unrolled). With more channels,
  convolution spreads whole samples over the threads: each writes one sample's im2col
  columns into its own workspace (reused across calls, small enough to stay in cache) and
  multiplies them with single-threaded BLAS straight away. The columns are pixel-major,
  ``(OH*OW, kh*kw*C)`` with the channels innermost: with 16 to 64 filters BLAS runs the
  products in that orientation up to 1.5x faster, and im2col and col2im move C
  consecutive numbers at a time. Nothing of ``col`` is kept for
  backward: rebuilding it per sample is cheaper than writing and re-reading a whole-batch
  ``col`` from memory. One threading system (Numba's) keeps both cores busy; BLAS threads
  spinning beside Numba's would fight them for the same cores.
- Outputs come from a caching allocator (``memory.POOL``): after the first step no large
  array is freshly mapped (and zero-filled by the kernel) again.
- Batch norm, ReLU and pooling are single loops instead of a chain of array expressions
  that each read and write the whole tensor, and batch norm -> ReLU -> 2x2 max pooling
  is one fused pass each way after the batch statistics (:mod:`minicnn.kernels.cpu_norm`).
- ``@njit(cache=True)``: compiled once per machine and kept on disk; ``parallel=True``
  with ``prange`` over samples or channels, where the work is large enough.

Threads: Numba uses ``MINICNN_NUM_THREADS``; BLAS runs one thread per Numba thread
(see ``minicnn.backend.set_num_threads``).
"""
from __future__ import annotations

import sys

import numba
import numpy as np
from numba import njit, prange

from .cpu_norm import (batchnorm_apply, batchnorm_backward, batchnorm_relu_maxpool_2x2_backward,  # noqa: F401
                       batchnorm_relu_maxpool_2x2_forward, batchnorm_stats)
from .generic import batchnorm_inv_std, batchnorm_relu_maxpool_kernels  # noqa: F401
from .memory import POOL
from .window import Window

_workspaces: dict = {}
_TWO_BY_TWO = Window(2, 2, 2, 2)  # the pooling with fast paths


def workspace(name: str, shape: tuple, dtype) -> np.ndarray:
    """A scratch array kept between calls (one per name, shape and dtype): reusing it
    avoids the page faults of a fresh large allocation at every step."""
    key = (name, tuple(shape), np.dtype(dtype))
    array = _workspaces.get(key)
    if array is None:
        array = _workspaces[key] = np.empty(shape, dtype)
    return array


@njit(cache=True)
def _valid_range(offset, stride, size, out):
    """Output positions ``o`` in [lo, hi) whose input index ``o*stride + offset`` is in [0, size)."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = 0 if offset >= size else min(out, (size - 1 - offset) // stride + 1)
    return lo, max(hi, lo)


@njit(cache=True)
def _im2col_sample(x, col, pad, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """x ``(C, H, W)`` -> col ``(C*kh*kw, oh*ow)``, ``pad`` where the window reads padding.
    With stride 1 each output row is one contiguous slice copy. This channel-major pair
    serves the contract's ``im2col``/``col2im`` (average pooling reads that layout as it
    is); convolution uses the pixel-major pair below. Serving the contract from the
    pixel-major pair and transposing made average pooling 1.5x slower (measured)."""
    channels, h, w = x.shape
    for c in range(channels):
        for i in range(kh):
            for j in range(kw):
                row = col[(c * kh + i) * kw + j]
                x0 = j * dw - pw
                lo, hi = _valid_range(x0, sw, w, ow)
                for oy in range(oh):
                    y = oy * sh + i * dh - ph
                    out = row[oy * ow:(oy + 1) * ow]
                    if y < 0 or y >= h:
                        out[:] = pad
                        continue
                    out[:lo] = pad
                    out[hi:] = pad
                    if sw == 1:
                        out[lo:hi] = x[c, y, lo + x0:hi + x0]
                    else:
                        for ox in range(lo, hi):
                            out[ox] = x[c, y, ox * sw + x0]


@njit(cache=True)
def _col2im_sample(col, x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The adjoint: add col ``(C*kh*kw, oh*ow)`` back into x ``(C, H, W)`` (zeroed first)."""
    channels, h, w = x.shape
    x[:] = 0
    for c in range(channels):
        for i in range(kh):
            for j in range(kw):
                row = col[(c * kh + i) * kw + j]
                x0 = j * dw - pw
                lo, hi = _valid_range(x0, sw, w, ow)
                for oy in range(oh):
                    y = oy * sh + i * dh - ph
                    if 0 <= y < h:
                        src = row[oy * ow:(oy + 1) * ow]
                        if sw == 1:
                            x[c, y, lo + x0:hi + x0] += src[lo:hi]
                        else:
                            for ox in range(lo, hi):
                                x[c, y, ox * sw + x0] += src[ox]


@njit(parallel=True, cache=True)
def _im2col_batch(x, col, pad, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    for k in prange(x.shape[0]):
        _im2col_sample(x[k], col[k], pad, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit(parallel=True, cache=True)
def _col2im_batch(col, x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    for k in prange(x.shape[0]):
        _col2im_sample(col[k], x[k], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit(cache=True)
def _im2col_pixel_major(x, scratch, col_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """im2col in the pixel-major layout: x ``(C, H, W)`` is transposed into ``scratch
    (H, W, C)``, then ``col_t (oh*ow, kh*kw*C)`` gets, for each output pixel and tap
    (i, j), the C channel values of the pixel the tap reads (zeros for padding): a copy
    of C consecutive numbers. Columns are ordered (i, j, c)."""
    channels, h, w = x.shape
    for c in range(channels):
        for y in range(h):
            for xx in range(w):
                scratch[y, xx, c] = x[c, y, xx]
    for oy in range(oh):
        band = col_t[oy * ow:(oy + 1) * ow]
        for i in range(kh):
            y = oy * sh + i * dh - ph
            for j in range(kw):
                c0 = (i * kw + j) * channels
                x0 = j * dw - pw
                lo, hi = _valid_range(x0, sw, w, ow)
                if y < 0 or y >= h:
                    lo, hi = 0, 0
                for ox in range(ow):
                    dst = band[ox]
                    if lo <= ox < hi:
                        src = scratch[y, ox * sw + x0]
                        for c in range(channels):
                            dst[c0 + c] = src[c]
                    else:
                        for c in range(channels):
                            dst[c0 + c] = 0


@njit(cache=True)
def _col2im_pixel_major(col_t, scratch, x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The adjoint of :func:`_im2col_pixel_major`: ``col_t`` is added into ``scratch
    (H, W, C)`` (C consecutive numbers per output pixel and tap), then ``x (C, H, W)``
    is its transpose."""
    channels, h, w = x.shape
    scratch[:] = 0
    for oy in range(oh):
        band = col_t[oy * ow:(oy + 1) * ow]
        for i in range(kh):
            y = oy * sh + i * dh - ph
            if y < 0 or y >= h:
                continue
            dst = scratch[y]
            for j in range(kw):
                x0 = j * dw - pw
                lo, hi = _valid_range(x0, sw, w, ow)
                c0 = (i * kw + j) * channels
                for ox in range(lo, hi):
                    pixel, src = dst[ox * sw + x0], band[ox]
                    for c in range(channels):
                        pixel[c] += src[c0 + c]
    for c in range(channels):
        for y in range(h):
            for xx in range(w):
                x[c, y, xx] = scratch[y, xx, c]


@njit(parallel=True, cache=True)
def _conv_forward(x, wmat_t, bias, y, cols, scratches, outs, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Each thread takes whole samples: pixel-major im2col into its own ``cols[thread]``,
    then one single-threaded BLAS product ``y_k^T = col^T @ W'^T`` while the columns are
    in cache (``W'`` the weight ``(F, kh*kw*C)`` with columns ordered (i, j, c)), and
    ``y[k]`` is its transpose plus the bias."""
    filters = wmat_t.shape[1]
    for k in prange(x.shape[0]):
        thread = numba.get_thread_id()
        col_t, out_t = cols[thread], outs[thread]
        _im2col_pixel_major(x[k], scratches[thread], col_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
        np.dot(col_t, wmat_t, out_t)
        for f in range(filters):
            row, b = y[k, f], bias[f]
            for p in range(row.size):
                row[p] = out_t[p, f] + b


@njit(parallel=True, cache=True)
def _conv_backward(x, g3, wmat, grad_x, grad_ws, products, cols, scratches, need_x, need_w,
                   kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Per sample: rebuild the pixel-major ``col^T``; ``dW'[thread] += g_k @ col^T``; then
    the columns' gradient ``dcol^T = g_k^T @ W'`` into the same buffer and col2im from it
    into ``dx[k]``. Each thread sums its own dW' (columns (i, j, c)); the caller adds
    them up and reorders them."""
    for k in prange(x.shape[0]):
        thread = numba.get_thread_id()
        col_t, scratch = cols[thread], scratches[thread]
        if need_w:
            _im2col_pixel_major(x[k], scratch, col_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
            np.dot(g3[k], col_t, products[thread])
            grad_ws[thread] += products[thread]
        if need_x:
            np.dot(g3[k].T, wmat, col_t)
            _col2im_pixel_major(col_t, scratch, grad_x[k], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit(parallel=True, cache=True)
def _conv_forward_one_channel(x, w, bias, y, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Direct convolution of a one-channel input: ``y[n, f, oy] = b[f] + sum over (i, j) of
    w[f, i, j] * (row oy*sh + i*dh - ph of x[n, 0], shifted by j*dw - pw)``, one output row
    at a time while it is in cache. No column matrix: with C = 1 its products have only
    kh*kw rows, which BLAS runs far from its peak. Threads take (sample, filter) planes."""
    n, _, h, width = x.shape
    filters = w.shape[0]
    for plane in prange(n * filters):
        k, f = plane // filters, plane % filters
        image = x[k, 0]
        for oy in range(oh):
            out = y[k, f, oy]
            out[:] = bias[f]
            for i in range(kh):
                yy = oy * sh + i * dh - ph
                if yy < 0 or yy >= h:
                    continue
                row = image[yy]
                for j in range(kw):
                    x0 = j * dw - pw
                    lo, hi = _valid_range(x0, sw, width, ow)
                    tap = w[f, i, j]
                    dst = out[lo:hi]
                    if sw == 1:  # contiguous views, non-negative indices: vectorised
                        src = row[lo + x0:hi + x0]
                        for t in range(hi - lo):
                            dst[t] += tap * src[t]
                    else:
                        for t in range(hi - lo):
                            dst[t] += tap * row[(lo + t) * sw + x0]


@njit(parallel=True, cache=True, fastmath={"reassoc"})  # reassociation lets the sums vectorise
def _conv_backward_one_channel(x, g, grad_ws, grad_bs, zero, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The weight and bias gradients of :func:`_conv_forward_one_channel`:
    ``dW[f, i, j] = sum over (n, oy, ox) of g[n, f, oy, ox] * x[n, 0, oy*sh + i*dh - ph,
    ox*sw + j*dw - pw]`` and ``db[f] = sum of g[n, f]``, each row of ``g`` read once and
    used for every tap while in cache. Each row's sum is in the input's type (``zero``),
    the running totals in double, one partial per thread."""
    n, _, h, width = x.shape
    filters = g.shape[1]
    for plane in prange(n * filters):
        thread = numba.get_thread_id()
        k, f = plane // filters, plane % filters
        image = x[k, 0]
        for oy in range(oh):
            grad_row = g[k, f, oy]
            total = zero
            for ox in range(ow):
                total += grad_row[ox]
            grad_bs[thread, f] += total
            for i in range(kh):
                yy = oy * sh + i * dh - ph
                if yy < 0 or yy >= h:
                    continue
                row = image[yy]
                for j in range(kw):
                    x0 = j * dw - pw
                    lo, hi = _valid_range(x0, sw, width, ow)
                    a = grad_row[lo:hi]
                    total = zero
                    if sw == 1:
                        b = row[lo + x0:hi + x0]
                        for t in range(hi - lo):
                            total += a[t] * b[t]
                    else:
                        for t in range(hi - lo):
                            total += a[t] * row[(lo + t) * sw + x0]
                    grad_ws[thread, f, i, j] += total


@njit(parallel=True, cache=True)
def _conv3x3_forward_one_channel(xpad, w, bias, y):
    """:func:`_conv_forward_one_channel` for the common 3x3 window with stride 1 on a
    padded input ``xpad (N, OH + 2, OW + 2)``: the nine taps unrolled, so each output
    pixel is one expression over three input rows and the loop over a row vectorises.
    The same sums in the same order as the general kernel."""
    n = xpad.shape[0]
    filters = w.shape[0]
    oh, ow = y.shape[2], y.shape[3]
    for plane in prange(n * filters):
        k, f = plane // filters, plane % filters
        image, b = xpad[k], bias[f]
        w00, w01, w02 = w[f, 0, 0], w[f, 0, 1], w[f, 0, 2]
        w10, w11, w12 = w[f, 1, 0], w[f, 1, 1], w[f, 1, 2]
        w20, w21, w22 = w[f, 2, 0], w[f, 2, 1], w[f, 2, 2]
        for oy in range(oh):
            out = y[k, f, oy]
            r0, r1, r2 = image[oy], image[oy + 1], image[oy + 2]
            for t in range(ow):
                out[t] = (b + w00 * r0[t] + w01 * r0[t + 1] + w02 * r0[t + 2]
                          + w10 * r1[t] + w11 * r1[t + 1] + w12 * r1[t + 2]
                          + w20 * r2[t] + w21 * r2[t + 1] + w22 * r2[t + 2])


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _conv3x3_backward_one_channel(xpad, g, grad_ws, grad_bs, zero):
    """:func:`_conv_backward_one_channel` for the same case: the ten sums of a gradient
    row (bias and nine taps) in one vectorised loop, each row's sums in the input's type
    (``zero``), the running totals in double, one partial per thread."""
    n, filters, oh, ow = g.shape
    for plane in prange(n * filters):
        thread = numba.get_thread_id()
        k, f = plane // filters, plane % filters
        image = xpad[k]
        for oy in range(oh):
            grad_row = g[k, f, oy]
            r0, r1, r2 = image[oy], image[oy + 1], image[oy + 2]
            sb = s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = zero
            for t in range(ow):
                v = grad_row[t]
                sb += v
                s00 += v * r0[t]
                s01 += v * r0[t + 1]
                s02 += v * r0[t + 2]
                s10 += v * r1[t]
                s11 += v * r1[t + 1]
                s12 += v * r1[t + 2]
                s20 += v * r2[t]
                s21 += v * r2[t + 1]
                s22 += v * r2[t + 2]
            grad_bs[thread, f] += sb
            gw = grad_ws[thread, f]
            gw[0, 0] += s00
            gw[0, 1] += s01
            gw[0, 2] += s02
            gw[1, 0] += s10
            gw[1, 1] += s11
            gw[1, 2] += s12
            gw[2, 0] += s20
            gw[2, 1] += s21
            gw[2, 2] += s22


def _padded_one_channel(x, win: Window):
    """``x (N, 1, H, W)`` -> ``(N, H + 2ph, W + 2pw)`` with zero borders, in a workspace."""
    n, _, h, w = x.shape
    xpad = workspace("padded", (n, h + 2 * win.ph, w + 2 * win.pw), x.dtype)
    xpad[:, :win.ph] = 0
    xpad[:, h + win.ph:] = 0
    xpad[:, :, :win.pw] = 0
    xpad[:, :, w + win.pw:] = 0
    xpad[:, win.ph:h + win.ph, win.pw:w + win.pw] = x[:, 0]
    return xpad


def _is_3x3_stride_1(win: Window) -> bool:
    return (win.kh, win.kw, win.sh, win.sw, win.dh, win.dw) == (3, 3, 1, 1, 1, 1)


def _geometry(win: Window, oh: int, ow: int) -> tuple:
    return (win.kh, win.kw, win.sh, win.sw, win.ph, win.pw, win.dh, win.dw, oh, ow)


def im2col(x, win: Window, pad_value: float = 0.0):
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    col = np.empty((n, c * win.kh * win.kw, oh * ow), x.dtype)
    _im2col_batch(np.ascontiguousarray(x), col, x.dtype.type(pad_value), *_geometry(win, oh, ow))
    return col.reshape(n, c, win.kh, win.kw, oh, ow)


def col2im(col, win: Window, h: int, w: int):
    n, c, kh, kw, oh, ow = col.shape
    x = np.empty((n, c, h, w), col.dtype)
    _col2im_batch(np.ascontiguousarray(col).reshape(n, c * kh * kw, oh * ow), x, *_geometry(win, oh, ow))
    return x


def _pixel_major_weight(weight) -> np.ndarray:
    """``W' (F, kh*kw*C)``: the weight with columns ordered (i, j, c)."""
    return np.ascontiguousarray(weight.transpose(0, 2, 3, 1)).reshape(weight.shape[0], -1)


def _thread_buffers(x, oh: int, ow: int, depth: int) -> tuple:
    """Each thread's pixel-major columns ``(oh*ow, depth)`` and ``(H, W, C)`` scratch."""
    threads, (c, h, w) = numba.get_num_threads(), x.shape[1:]
    return (workspace("col", (threads, oh * ow, depth), x.dtype),
            workspace("scratch", (threads, h, w, c), x.dtype))


def conv2d_forward(x, weight, bias, win: Window):
    """``y[n] = W @ col_n + b``, samples spread over the threads; saves nothing."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    f = weight.shape[0]
    oh, ow = win.out_shape(h, w)
    bias = np.zeros(f, x.dtype) if bias is None else bias
    y = POOL.empty((n, f, oh, ow), x.dtype)
    if c == 1:
        taps = np.ascontiguousarray(weight[:, 0])
        if _is_3x3_stride_1(win):
            _conv3x3_forward_one_channel(_padded_one_channel(x, win), taps, bias, y)
        else:
            _conv_forward_one_channel(x, taps, bias, y, *_geometry(win, oh, ow))
        return y, None
    wmat_t = np.ascontiguousarray(_pixel_major_weight(weight).T)
    cols, scratches = _thread_buffers(x, oh, ow, wmat_t.shape[0])
    outs = workspace("out", (numba.get_num_threads(), oh * ow, f), x.dtype)
    _conv_forward(x, wmat_t, bias, y.reshape(n, f, oh * ow), cols, scratches, outs, *_geometry(win, oh, ow))
    return y, None


def _conv_backward_one_channel_wb(g, x, weight, win: Window):
    """(dW, db) of a one-channel convolution, from the direct kernel."""
    threads, f = numba.get_num_threads(), weight.shape[0]
    grad_ws = np.zeros((threads,) + weight[:, 0].shape, np.float64)
    grad_bs = np.zeros((threads, f), np.float64)
    if _is_3x3_stride_1(win):
        _conv3x3_backward_one_channel(_padded_one_channel(x, win), g, grad_ws, grad_bs, x.dtype.type(0))
    else:
        _conv_backward_one_channel(x, g, grad_ws, grad_bs, x.dtype.type(0), *_geometry(win, *g.shape[2:]))
    return grad_ws.sum(axis=0).astype(x.dtype).reshape(weight.shape), grad_bs.sum(axis=0).astype(x.dtype)


def conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True, need_b=True):
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    if x.shape[1] == 1 and (need_w or need_b):
        grad_w, grad_b = _conv_backward_one_channel_wb(g, x, weight, win)
        grad_x = conv2d_backward(g, saved, x, weight, win, True, False, False)[0] if need_x else None
        return grad_x, (grad_w if need_w else None), (grad_b if need_b else None)
    n, f = g.shape[:2]
    oh, ow = g.shape[2:]
    wmat = _pixel_major_weight(weight)
    threads, depth = numba.get_num_threads(), wmat.shape[1]
    g3 = g.reshape(n, f, oh * ow)
    grad_x = POOL.empty(x.shape, x.dtype) if need_x else np.empty((n, 0, 0, 0), x.dtype)
    grad_ws = np.zeros((threads, f, depth), x.dtype)
    products = workspace("dW", (threads, f, depth), x.dtype)
    _conv_backward(x, g3, wmat, grad_x, grad_ws, products, *_thread_buffers(x, oh, ow, depth),
                   need_x, need_w, *_geometry(win, oh, ow))
    grad_w = None
    if need_w:
        kh, kw, c = weight.shape[2], weight.shape[3], weight.shape[1]
        grad_w = np.ascontiguousarray(grad_ws.sum(axis=0).reshape(f, kh, kw, c).transpose(0, 3, 1, 2))
    grad_b = g3.sum(axis=(0, 2)) if need_b else None
    return (grad_x if need_x else None), grad_w, grad_b


@njit(parallel=True, cache=True)
def _maxpool_forward(x, y, argmax, kh, kw, sh, sw, ph, pw, dh, dw):
    """Any window. Taps are visited in row-major order and a tap wins only when strictly
    greater, so the first maximum wins. Out-of-range taps are read clamped and masked
    out: selects instead of branches, which random data would mispredict half the time."""
    n, c, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        image = x[b, ch]
        for oy in range(oh):
            y0 = oy * sh - ph
            for ox in range(ow):
                x0 = ox * sw - pw
                best = image[0, 0] - np.inf
                best_k = 0
                for i in range(kh):
                    yy = y0 + i * dh
                    row_ok = (yy >= 0) & (yy < h)
                    row = min(max(yy, 0), h - 1)
                    for j in range(kw):
                        xx = x0 + j * dw
                        v = image[row, min(max(xx, 0), w - 1)]
                        better = row_ok & (xx >= 0) & (xx < w) & (v > best)
                        best_k = i * kw + j if better else best_k
                        best = v if better else best
                y[b, ch, oy, ox] = best
                argmax[b, ch, oy, ox] = best_k


@njit(parallel=True, cache=True)
def _maxpool_forward_2x2(x, y, argmax):
    """The common case (kernel 2, stride 2, no padding), unrolled: same tie rule."""
    n, c = x.shape[0], x.shape[1]
    oh, ow = y.shape[2], y.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for oy in range(oh):
            top, bottom = x[b, ch, 2 * oy], x[b, ch, 2 * oy + 1]
            out, arg = y[b, ch, oy], argmax[b, ch, oy]
            for ox in range(ow):
                best, k = top[2 * ox], 0
                if top[2 * ox + 1] > best:
                    best, k = top[2 * ox + 1], 1
                if bottom[2 * ox] > best:
                    best, k = bottom[2 * ox], 2
                if bottom[2 * ox + 1] > best:
                    best, k = bottom[2 * ox + 1], 3
                out[ox] = best
                arg[ox] = k


@njit(parallel=True, cache=True)
def _maxpool_backward(g, argmax, grad_x, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = grad_x.shape
    oh, ow = g.shape[2], g.shape[3]
    for plane in prange(n * c):  # windows overlap only inside one plane: no races
        b, ch = plane // c, plane % c
        grad_x[b, ch] = 0
        for oy in range(oh):
            for ox in range(ow):
                k = argmax[b, ch, oy, ox]
                yy = oy * sh + (k // kw) * dh - ph
                xx = ox * sw + (k % kw) * dw - pw
                if 0 <= yy < h and 0 <= xx < w:
                    grad_x[b, ch, yy, xx] += g[b, ch, oy, ox]


def maxpool2d_forward(x, win: Window):
    """argmax is int8 when the window has at most 127 cells (a quarter of int32's memory)."""
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    y = POOL.empty((n, c, oh, ow), x.dtype)
    argmax = POOL.empty((n, c, oh, ow), np.int8 if win.kh * win.kw <= 127 else np.int32)
    if win == _TWO_BY_TWO:
        _maxpool_forward_2x2(np.ascontiguousarray(x), y, argmax)
    else:
        _maxpool_forward(np.ascontiguousarray(x), y, argmax, win.kh, win.kw, win.sh, win.sw,
                         win.ph, win.pw, win.dh, win.dw)
    return y, argmax


@njit(parallel=True, cache=True)
def _maxpool_backward_2x2(g, argmax, grad_x):
    """Kernel 2, stride 2, no padding: every input pixel is in exactly one window, so each
    is written once (the gradient or 0) and no zeroing pass is needed."""
    n, c = g.shape[0], g.shape[1]
    oh, ow = g.shape[2], g.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        grad_x[b, ch, 2 * oh:, :] = 0  # rows and columns no window covers (odd sizes)
        grad_x[b, ch, :, 2 * ow:] = 0
        for oy in range(oh):
            top, bottom = grad_x[b, ch, 2 * oy], grad_x[b, ch, 2 * oy + 1]
            for ox in range(ow):
                k = argmax[b, ch, oy, ox]
                v = g[b, ch, oy, ox]
                top[2 * ox] = v if k == 0 else 0
                top[2 * ox + 1] = v if k == 1 else 0
                bottom[2 * ox] = v if k == 2 else 0
                bottom[2 * ox + 1] = v if k == 3 else 0


def maxpool2d_backward(grad_y, argmax, win: Window, h: int, w: int):
    n, c = grad_y.shape[:2]
    grad_x = POOL.empty((n, c, h, w), grad_y.dtype)
    if win == _TWO_BY_TWO:
        _maxpool_backward_2x2(np.ascontiguousarray(grad_y), argmax, grad_x)
    else:
        _maxpool_backward(np.ascontiguousarray(grad_y), argmax, grad_x, win.kw, win.sh, win.sw,
                          win.ph, win.pw, win.dh, win.dw)
    return grad_x


@njit(parallel=True, cache=True)
def _relu(x, y):
    for k in prange(x.size):
        y[k] = x[k] if x[k] > 0 else 0


@njit(parallel=True, cache=True)
def _relu_grad(g, y, out):
    for k in prange(g.size):
        out[k] = g[k] if y[k] > 0 else 0


def relu_forward(x):
    x = np.ascontiguousarray(x)
    y = POOL.empty(x.shape, x.dtype)
    _relu(x.reshape(-1), y.reshape(-1))
    return y


def relu_backward(g, y):
    g = np.ascontiguousarray(g)
    out = POOL.empty(g.shape, g.dtype)
    _relu_grad(g.reshape(-1), np.ascontiguousarray(y).reshape(-1), out.reshape(-1))
    return out


_composed_bn_relu_maxpool_forward, _composed_bn_relu_maxpool_backward = \
    batchnorm_relu_maxpool_kernels(sys.modules[__name__])


def batchnorm_relu_maxpool_forward(x, mean, inv_std, weight, bias, win: Window):
    """Fused for 2x2 windows with stride 2 (``cpu_norm``), composed from this set's kernels
    for any other window."""
    if win == _TWO_BY_TWO:
        return batchnorm_relu_maxpool_2x2_forward(x, mean, inv_std, weight, bias)
    return _composed_bn_relu_maxpool_forward(x, mean, inv_std, weight, bias, win)


def batchnorm_relu_maxpool_backward(g, y, saved, x, mean, inv_std, weight, batch_stats, win: Window,
                                    need_x=True, need_w=True, need_b=True):
    if win == _TWO_BY_TWO:
        return batchnorm_relu_maxpool_2x2_backward(g, y, saved, x, mean, inv_std, weight, batch_stats,
                                                   need_x, need_w, need_b)
    return _composed_bn_relu_maxpool_backward(g, y, saved, x, mean, inv_std, weight, batch_stats, win,
                                              need_x, need_w, need_b)
