"""The ``numba`` set's 1 x 1 convolution without padding: a plain matrix product per sample,
no im2col.

With ``P = OH*OW`` pixels, a 1 x 1 window reads one input pixel per output pixel, so in the
NCHW layout each sample is already its own column matrix ``x_n (C, P)`` (after taking every
``sh``-th row and ``sw``-th column where the stride is above 1):

    y_n (F, P)  = W (F, C) @ x_n (C, P) + b
    dx_n (C, P) = W^T (C, F) @ g_n (F, P)
    dW (F, C)   = sum_n g_n (F, P) @ x_n^T (P, C)

Samples are spread over the threads, each calling single-threaded BLAS; each thread sums
its own ``dW``, the caller adds the threads' sums. Where the stride is above 1 the input
gradient is zero at the pixels no window reads.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL


@njit(parallel=True, cache=True)
def _forward(x3, wmat, bias, y3):
    """``y3[n] = W @ x3[n] + b``; x3 ``(N, C, P)``, y3 ``(N, F, P)``."""
    filters, p = y3.shape[1], y3.shape[2]
    for k in prange(x3.shape[0]):
        out = y3[k]
        np.dot(wmat, x3[k], out)
        for f in range(filters):
            b = bias[f]
            for q in range(p):
                out[f, q] += b


@njit(parallel=True, cache=True)
def _backward(x3, g3, wmat_t, grad_x3, grad_ws, products, need_x, need_w):
    """``grad_x3[n] = W^T @ g3[n]``; ``grad_ws[thread] += g3[n] @ x3[n]^T``."""
    for k in prange(x3.shape[0]):
        thread = numba.get_thread_id()
        if need_x:
            np.dot(wmat_t, g3[k], grad_x3[k])
        if need_w:
            np.dot(g3[k], x3[k].T, products[thread])
            grad_ws[thread] += products[thread]


def takes(win) -> bool:
    """Whether this module serves the window: 1 x 1, no padding (any stride)."""
    return win.kh == win.kw == 1 and win.ph == win.pw == 0


def _sampled(x, win):
    """x ``(N, C, H, W)`` at the pixels the windows read, ``(N, C, P)``, contiguous."""
    if win.sh > 1 or win.sw > 1:
        x = x[:, :, ::win.sh, ::win.sw]
    n, c = x.shape[:2]
    return np.ascontiguousarray(x).reshape(n, c, -1)


def forward(x, weight, bias, y, win):
    """Fill ``y (N, F, OH, OW)`` from x ``(N, C, H, W)``, weight ``(F, C, 1, 1)`` and the
    bias ``(F,)``."""
    n, f = y.shape[:2]
    _forward(_sampled(x, win), np.ascontiguousarray(weight.reshape(f, -1)), bias,
             y.reshape(n, f, -1))


def backward(g, x, weight, win, need_x: bool, need_w: bool):
    """``(dx, dW)`` from g ``(N, F, OH, OW)``, each None unless wanted."""
    n, f = g.shape[:2]
    x3, g3 = _sampled(x, win), np.ascontiguousarray(g).reshape(n, f, -1)
    wmat_t = np.ascontiguousarray(weight.reshape(f, -1).T)
    threads, c = numba.get_num_threads(), x.shape[1]
    strided = win.sh > 1 or win.sw > 1
    grad_x3 = POOL.empty(x3.shape, x.dtype) if need_x else np.empty((n, 0, 0), x.dtype)
    grad_ws = np.zeros((threads, f, c), x.dtype)
    products = np.empty((threads, f, c), x.dtype)
    _backward(x3, g3, wmat_t, grad_x3, grad_ws, products, need_x, need_w)
    grad_x = None
    if need_x and strided:
        grad_x = np.zeros(x.shape, x.dtype)
        grad_x[:, :, ::win.sh, ::win.sw] = grad_x3.reshape(n, c, *g.shape[2:])
    elif need_x:
        grad_x = grad_x3.reshape(x.shape)
    grad_w = grad_ws.sum(axis=0).reshape(weight.shape) if need_w else None
    return grad_x, grad_w
