"""The ``numba`` set's max pooling: any window, and the 2x2 stride-2 window unrolled."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..memory import POOL
from ..window import Window

TWO_BY_TWO = Window(2, 2, 2, 2)  # the pooling with fast paths


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
    if win == TWO_BY_TWO:
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
    if win == TWO_BY_TWO:
        _maxpool_backward_2x2(np.ascontiguousarray(grad_y), argmax, grad_x)
    else:
        _maxpool_backward(np.ascontiguousarray(grad_y), argmax, grad_x, win.kw, win.sh, win.sw,
                          win.ph, win.pw, win.dh, win.dw)
    return grad_x
