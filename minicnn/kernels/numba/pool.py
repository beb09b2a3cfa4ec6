"""The ``numba`` set's pooling, a plane per task and no im2col: max and average pooling over
any window (average: a window's tap at a time along each output row), and the 2x2 stride-2
window of both unrolled."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..memory import POOL
from ..window import Window
from .window import valid_range

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


@njit(parallel=True, cache=True)
def _avgpool_forward(x, y, divisor, kh, kw, sh, sw, ph, pw, dh, dw):
    """``y[n, c, oy, ox] = sum_{i,j} x[n, c, oy*sh + i*dh - ph, ox*sw + j*dw - pw] /
    divisor[oy, ox]`` over the taps inside the input (the padding adds 0)."""
    n, c, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for oy in range(oh):
            dst = y[b, ch, oy]
            dst[:] = 0
            for i in range(kh):
                yy = oy * sh + i * dh - ph
                if yy < 0 or yy >= h:
                    continue
                src = x[b, ch, yy]
                for j in range(kw):
                    shift = j * dw - pw
                    lo, hi = valid_range(shift, sw, w, ow)
                    for ox in range(lo, hi):
                        dst[ox] += src[ox * sw + shift]
            for ox in range(ow):
                dst[ox] /= divisor[oy, ox]


@njit(parallel=True, cache=True)
def _avgpool_backward(g, grad_x, divisor, kh, kw, sh, sw, ph, pw, dh, dw):
    """Each output's share ``g / divisor`` added to every input pixel of its window."""
    n, c, h, w = grad_x.shape
    oh, ow = g.shape[2], g.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        grad_x[b, ch] = 0
        share = np.empty(ow, g.dtype)
        for oy in range(oh):
            for ox in range(ow):
                share[ox] = g[b, ch, oy, ox] / divisor[oy, ox]
            for i in range(kh):
                yy = oy * sh + i * dh - ph
                if yy < 0 or yy >= h:
                    continue
                dst = grad_x[b, ch, yy]
                for j in range(kw):
                    shift = j * dw - pw
                    lo, hi = valid_range(shift, sw, w, ow)
                    for ox in range(lo, hi):
                        dst[ox * sw + shift] += share[ox]


@njit(parallel=True, cache=True)
def _avgpool_forward_2x2(x, y, divisor):
    """Kernel 2, stride 2, no padding: each output the sum of its four pixels, in one pass."""
    n, c = x.shape[0], x.shape[1]
    oh, ow = y.shape[2], y.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for oy in range(oh):
            top, bottom, dst = x[b, ch, 2 * oy], x[b, ch, 2 * oy + 1], y[b, ch, oy]
            for ox in range(ow):
                dst[ox] = (top[2 * ox] + top[2 * ox + 1] + bottom[2 * ox]
                           + bottom[2 * ox + 1]) / divisor[oy, ox]


@njit(parallel=True, cache=True)
def _avgpool_backward_2x2(g, grad_x, divisor):
    """Kernel 2, stride 2, no padding: every input pixel is in at most one window, so each
    is written once (its window's share or 0)."""
    n, c = g.shape[0], g.shape[1]
    oh, ow = g.shape[2], g.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        grad_x[b, ch, 2 * oh:, :] = 0  # rows and columns no window covers (odd sizes)
        grad_x[b, ch, :, 2 * ow:] = 0
        for oy in range(oh):
            top, bottom, src = grad_x[b, ch, 2 * oy], grad_x[b, ch, 2 * oy + 1], g[b, ch, oy]
            for ox in range(ow):
                v = src[ox] / divisor[oy, ox]
                top[2 * ox] = v
                top[2 * ox + 1] = v
                bottom[2 * ox] = v
                bottom[2 * ox + 1] = v


def _divisor(divisor, win: Window, oh: int, ow: int, dtype) -> np.ndarray:
    """The divisor per output pixel ``(OH, OW)``: ``kh*kw`` everywhere when None."""
    if divisor is None:
        return np.full((oh, ow), win.kh * win.kw, dtype)
    return np.ascontiguousarray(divisor, dtype=dtype)


def avgpool2d_forward(x, win: Window, divisor):
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    y = POOL.empty((n, c, oh, ow), x.dtype)
    x, divisor = np.ascontiguousarray(x), _divisor(divisor, win, oh, ow, x.dtype)
    if win == TWO_BY_TWO:
        _avgpool_forward_2x2(x, y, divisor)
    else:
        _avgpool_forward(x, y, divisor, win.kh, win.kw, win.sh, win.sw, win.ph, win.pw, win.dh,
                         win.dw)
    return y


def avgpool2d_backward(grad_y, win: Window, h: int, w: int, divisor):
    n, c, oh, ow = grad_y.shape
    grad_x = POOL.empty((n, c, h, w), grad_y.dtype)
    grad_y, divisor = np.ascontiguousarray(grad_y), _divisor(divisor, win, oh, ow, grad_y.dtype)
    if win == TWO_BY_TWO:
        _avgpool_backward_2x2(grad_y, grad_x, divisor)
    else:
        _avgpool_backward(grad_y, grad_x, divisor, win.kh, win.kw, win.sh, win.sw, win.ph,
                          win.pw, win.dh, win.dw)
    return grad_x
