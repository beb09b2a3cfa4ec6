"""The ``numba`` set's convolution.

A one-channel input (the first layer) is convolved directly (:mod:`.conv_one_channel`).
With more channels, convolution spreads whole samples over the threads: each writes one
sample's pixel-major im2col columns (:mod:`.window`) into its own scratch buffer (small
enough to stay in cache) and multiplies them with single-threaded BLAS straight away.
Nothing of ``col`` is kept for backward: it is rebuilt per sample. One threading system
(Numba's) keeps the cores busy; BLAS threads spinning beside Numba's would fight them for
the same cores. Where maps are small and channels wide (:func:`stacks_samples`), all
samples' columns go into one product instead (:mod:`.conv_batched`). Scratch buffers and
outputs come from :data:`minicnn.kernels.memory.POOL`.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL
from ..window import Window
from . import conv_batched, conv_pointwise
from .conv_one_channel import conv_one_channel_forward, conv_one_channel_weight_bias_grads
from .window import col2im_pixel_major, geometry, im2col_pixel_major


@njit(parallel=True, cache=True)
def _conv_forward(x, wmat_t, bias, y, cols, scratches, outs,
                  kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Each thread takes whole samples: pixel-major im2col into its own ``cols[thread]``,
    then one single-threaded BLAS product ``y_k^T = col^T @ W'^T`` while the columns are
    in cache (``W'`` the weight ``(F, kh*kw*C)`` with columns ordered (i, j, c)), and
    ``y[k]`` is its transpose plus the bias."""
    filters = wmat_t.shape[1]
    for k in prange(x.shape[0]):
        thread = numba.get_thread_id()
        col_t, out_t = cols[thread], outs[thread]
        im2col_pixel_major(x[k], scratches[thread], col_t,
                           kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
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
            im2col_pixel_major(x[k], scratch, col_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
            np.dot(g3[k], col_t, products[thread])
            grad_ws[thread] += products[thread]
        if need_x:
            np.dot(g3[k].T, wmat, col_t)
            col2im_pixel_major(col_t, scratch, grad_x[k],
                               kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


def stacks_samples(pixels: int, filters: int) -> bool:
    """Whether a convolution with ``pixels = OH*OW`` outputs per sample and ``filters``
    output channels takes :mod:`.conv_batched` (all samples' columns in one product) rather
    than a product per sample: where the weight has more rows than a sample's columns
    (``benchmarks/conv_paths.py`` times both on the layers of VGG and ResNet at CIFAR size;
    figures in ``benchmarks/RESULTS.md``)."""
    return pixels < filters


def _pixel_major_weight(weight) -> np.ndarray:
    """``W' (F, kh*kw*C)``: the weight with columns ordered (i, j, c)."""
    return np.ascontiguousarray(weight.transpose(0, 2, 3, 1)).reshape(weight.shape[0], -1)


def _thread_buffers(x, oh: int, ow: int, depth: int) -> tuple:
    """Each thread's pixel-major columns ``(oh*ow, depth)`` and ``(H, W, C)`` scratch."""
    threads, (c, h, w) = numba.get_num_threads(), x.shape[1:]
    return (POOL.empty((threads, oh * ow, depth), x.dtype),
            POOL.empty((threads, h, w, c), x.dtype))


def conv2d_forward(x, weight, bias, win: Window):
    """``y[n] = W @ col_n + b``, samples spread over the threads; saves nothing."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    f = weight.shape[0]
    oh, ow = win.out_shape(h, w)
    bias = np.zeros(f, x.dtype) if bias is None else bias
    y = POOL.empty((n, f, oh, ow), x.dtype)
    if c == 1:
        conv_one_channel_forward(x, weight, bias, y, win)
        return y, None
    if stacks_samples(oh * ow, f):
        conv_batched.forward(x, _pixel_major_weight(weight), bias, y.reshape(n, f, oh * ow),
                             geometry(win, oh, ow))
        return y, None
    if conv_pointwise.takes(win):
        conv_pointwise.forward(x, weight, bias, y, win)
        return y, None
    wmat_t = np.ascontiguousarray(_pixel_major_weight(weight).T)
    cols, scratches = _thread_buffers(x, oh, ow, wmat_t.shape[0])
    outs = POOL.empty((numba.get_num_threads(), oh * ow, f), x.dtype)
    _conv_forward(x, wmat_t, bias, y.reshape(n, f, oh * ow), cols, scratches, outs,
                  *geometry(win, oh, ow))
    return y, None


def conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True, need_b=True):
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    if x.shape[1] == 1 and (need_w or need_b):
        grad_w, grad_b = conv_one_channel_weight_bias_grads(g, x, weight, win)
        grad_x = None
        if need_x:
            grad_x = conv2d_backward(g, saved, x, weight, win, True, False, False)[0]
        return grad_x, (grad_w if need_w else None), (grad_b if need_b else None)
    n, f, oh, ow = g.shape
    g3 = g.reshape(n, f, oh * ow)
    stacked = stacks_samples(oh * ow, f)
    if conv_pointwise.takes(win) and not stacked:
        grad_x, grad_w = conv_pointwise.backward(g, x, weight, win, need_x, need_w)
        return grad_x, grad_w, (g3.sum(axis=(0, 2)) if need_b else None)
    wmat = _pixel_major_weight(weight)
    threads, depth = numba.get_num_threads(), wmat.shape[1]
    grad_x = POOL.empty(x.shape, x.dtype) if need_x else np.empty((n, 0, 0, 0), x.dtype)
    if stacked:
        grad_w = conv_batched.backward(g3, x, wmat, grad_x, need_x, need_w,
                                       geometry(win, oh, ow))
        return _finish_backward(g3, weight, grad_x, grad_w, need_x, need_b)
    grad_ws = np.zeros((threads, f, depth), x.dtype)
    products = POOL.empty((threads, f, depth), x.dtype)
    _conv_backward(x, g3, wmat, grad_x, grad_ws, products, *_thread_buffers(x, oh, ow, depth),
                   need_x, need_w, *geometry(win, oh, ow))
    return _finish_backward(g3, weight, grad_x, grad_ws.sum(axis=0) if need_w else None,
                            need_x, need_b)


def _finish_backward(g3, weight, grad_x, grad_wmat, need_x, need_b):
    """The contract's ``(dx, dW, db)`` from ``dW' (F, K)`` (columns (i, j, c)) and g
    ``(N, F, P)``."""
    grad_w = None
    if grad_wmat is not None:
        f, c, kh, kw = weight.shape
        grad_w = np.ascontiguousarray(grad_wmat.reshape(f, kh, kw, c).transpose(0, 3, 1, 2))
    grad_b = g3.sum(axis=(0, 2)) if need_b else None
    return (grad_x if need_x else None), grad_w, grad_b
