"""The ``numba`` set's depthwise convolution where maps are small and channels many: one
sample per task, channels last, the channel loop innermost.

On a 4 x 4 or 8 x 8 map a plane per task (:mod:`.conv_depthwise`) spends its time starting
loops of four or eight numbers. Here each task transposes its sample into a zero-padded
channels-last plane ``xpad (H + 2*ph, W + 2*pw, C)`` and, with the weight as ``wt (kh, kw,
C)``, computes for each output pixel and tap

    y[oy, ox, :] += wt[i, j, :] * xpad[oy*sh + i*dh, ox*sw + j*dw, :]

one loop over all C channels (which vectorises), then transposes the output back. Backward
is the same loop read the other way: ``dxpad[...] += wt[i, j, :] * g[oy, ox, :]`` and the
task's own partial weight gradient ``dwt[i, j, :] += g[oy, ox, :] * xpad[...]``, summed
over the threads by the caller. Multiplier 1 (one filter per channel) only.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL
from ..window import Window
from .window import from_channels_last, padded_channels_last


@njit(parallel=True, cache=True)
def _forward(x, wt, bias, y, planes, outs, kh, kw, sh, sw, ph, pw, dh, dw):
    channels, oh, ow = y.shape[1], y.shape[2], y.shape[3]
    for k in prange(x.shape[0]):
        thread = numba.get_thread_id()
        xp, out = planes[thread], outs[thread]
        padded_channels_last(x[k], xp, ph, pw)
        for oy in range(oh):
            for ox in range(ow):
                acc = out[oy, ox]
                acc[:] = 0
                for i in range(kh):
                    for j in range(kw):
                        src, tap = xp[oy * sh + i * dh, ox * sw + j * dw], wt[i, j]
                        for c in range(channels):
                            acc[c] += tap[c] * src[c]
        from_channels_last(out, y[k], 0, 0, bias)


@njit(parallel=True, cache=True)
def _backward(x, wt, g, grad_x, grad_wts, planes, grad_planes, grads, need_x, need_w,
              kh, kw, sh, sw, ph, pw, dh, dw):
    channels, h, w = x.shape[1], x.shape[2], x.shape[3]
    oh, ow = g.shape[2], g.shape[3]
    for k in prange(x.shape[0]):
        thread = numba.get_thread_id()
        xp, dxp, gl, dwt = planes[thread], grad_planes[thread], grads[thread], grad_wts[thread]
        padded_channels_last(g[k], gl, 0, 0)
        if need_w:
            padded_channels_last(x[k], xp, ph, pw)
        if need_x:
            dxp[:, :, :] = 0
        for oy in range(oh):
            for ox in range(ow):
                gv = gl[oy, ox]
                for i in range(kh):
                    for j in range(kw):
                        iy, ix = oy * sh + i * dh, ox * sw + j * dw
                        if need_w:
                            src, part = xp[iy, ix], dwt[i, j]
                            for c in range(channels):
                                part[c] += gv[c] * src[c]
                        if need_x:
                            dst, tap = dxp[iy, ix], wt[i, j]
                            for c in range(channels):
                                dst[c] += tap[c] * gv[c]
        if need_x:
            for c in range(channels):
                for yy in range(h):
                    for xx in range(w):
                        grad_x[k, c, yy, xx] = dxp[ph + yy, pw + xx, c]


def _geometry(win: Window) -> tuple:
    return win.kh, win.kw, win.sh, win.sw, win.ph, win.pw, win.dh, win.dw


def _planes(x, win: Window, count: int = 1):
    """Each thread's padded channels-last plane ``(H + 2*ph, W + 2*pw, C)``, ``count``."""
    c, h, w = x.shape[1:]
    shape = (numba.get_num_threads(), h + 2 * win.ph, w + 2 * win.pw, c)
    return [POOL.empty(shape, x.dtype) for _ in range(count)]


def _weight_channels_last(weight, win: Window):
    """``wt (kh, kw, C)`` from the weight ``(C, 1, kh, kw)``."""
    return np.ascontiguousarray(weight.reshape(-1, win.kh, win.kw).transpose(1, 2, 0))


def forward(x, weight, bias, win: Window):
    """``y (N, C, OH, OW)``; bias ``(C,)`` (zeros when None)."""
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    y = POOL.empty((n, c, oh, ow), x.dtype)
    bias = np.zeros(c, x.dtype) if bias is None else bias
    outs = POOL.empty((numba.get_num_threads(), oh, ow, c), x.dtype)
    _forward(x, _weight_channels_last(weight, win), bias, y, *_planes(x, win), outs,
             *_geometry(win))
    return y


def backward(g, x, weight, win: Window, need_x: bool, need_w: bool):
    """``(dx, dW)``, each None unless wanted."""
    n, c = x.shape[:2]
    threads = numba.get_num_threads()
    grad_x = POOL.empty(x.shape, x.dtype) if need_x else np.empty((n, 0, 0, 0), x.dtype)
    grad_wts = np.zeros((threads, win.kh, win.kw, c), x.dtype)
    grads = POOL.empty((threads, *g.shape[2:], c), x.dtype)
    _backward(x, _weight_channels_last(weight, win), g, grad_x, grad_wts, *_planes(x, win, 2),
              grads, need_x, need_w, *_geometry(win))
    grad_w = None
    if need_w:
        grad_w = np.ascontiguousarray(grad_wts.sum(axis=0).transpose(2, 0, 1))
        grad_w = grad_w.reshape(weight.shape)
    return (grad_x if need_x else None), grad_w
