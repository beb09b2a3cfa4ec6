"""The ``numba`` set's depthwise convolution: a direct kernel, one (sample, channel) plane
per task over the threads.

Output channel ``f`` of a weight ``(C*m, 1, kh, kw)`` reads input channel ``f // m`` only,
so each plane is a small 2-D correlation. Each task copies its input plane into the
thread's zero-padded plane once, then for each output row and tap (i, j) adds
``w[f, 0, i, j]`` times the padded pixels the tap reads: no im2col and no branch in the
inner loop. Backward takes the input planes: each task owns ``dx[n, c]`` (through a padded
plane of its own) and the ``m`` output planes that read it, adding into ``dx`` and into its
own partial weight gradient ``dw_n[f, i, j]``; the caller sums the partials over the
samples. Float32 and float64 (one compilation each). Small maps with many channels go to
:mod:`.conv_depthwise_channels_last` instead (:func:`channels_last`).
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL
from ..window import Window
from . import conv_depthwise_channels_last


@njit(cache=True)
def _pad_plane(src, padded, ph, pw):
    """``padded[ph:ph+H, pw:pw+W] = src``, zeros around it."""
    h, w = src.shape
    padded[:, :] = 0
    for y in range(h):
        for xx in range(w):
            padded[ph + y, pw + xx] = src[y, xx]


# The loops below index 2-D planes with unsigned (``np.uintp``) indices. Numba treats a
# signed index it cannot prove non-negative as possibly counted from the end and tests it
# on every access, which keeps LLVM from vectorising the loop; every index here is
# non-negative (the planes are padded), and unsigned ones are not tested: five times faster.

@njit(parallel=True, cache=True)
def _forward(x, w3, bias, y, padded, kh, kw, sh, sw, ph, pw, dh, dw):
    """``y[n, f, oy, ox] = b[f] + sum_{i,j} w3[f, i, j] * xpad[n, f // m, oy*sh + i*dh,
    ox*sw + j*dw]``, one input plane ``(n, c)`` per task, padded once into the thread's
    ``padded`` plane for the ``m`` output planes that read it; per output row, one loop
    over the row per tap."""
    n, c = x.shape[0], x.shape[1]
    filters, oh, ow = y.shape[1], y.shape[2], y.shape[3]
    m, step = filters // c, np.uintp(sw)
    for plane in prange(n * c):
        k, ch = plane // c, plane % c
        xp = padded[numba.get_thread_id()]
        _pad_plane(x[k, ch], xp, ph, pw)
        for f in range(ch * m, ch * m + m):
            out, b = y[k, f], bias[f]
            for oy in range(oh):
                for ox in range(ow):
                    out[oy, ox] = b
                for i in range(kh):
                    iy = np.uintp(oy * sh + i * dh)
                    for j in range(kw):
                        wv, x0 = w3[f, i, j], np.uintp(j * dw)
                        for ox in range(ow):
                            u = np.uintp(ox)
                            out[oy, u] += wv * xp[iy, x0 + u * step]


@njit(parallel=True, cache=True, fastmath={"reassoc"})  # the weight sums vectorise
def _backward(x, w3, g, grad_x, grad_w_parts, padded, padded_grad, need_x, need_w,
              kh, kw, sh, sw, ph, pw, dh, dw):
    """Per input plane ``(n, c)``, padded into the thread's planes, for the ``m`` output
    channels ``f = c*m .. c*m + m - 1``: ``grad_w_parts[n, f, i, j] = sum g[n, f] * xpad``
    at the tap's pixels, and ``dxpad += w3[f, i, j] * g[n, f]`` there, ``dx[n, c]`` its
    inside."""
    n, c, h, w = x.shape
    filters, oh, ow = g.shape[1], g.shape[2], g.shape[3]
    m, zero, step = filters // c, x.dtype.type(0), np.uintp(sw)
    for plane in prange(n * c):
        k, ch = plane // c, plane % c
        thread = numba.get_thread_id()
        xp, dxp = padded[thread], padded_grad[thread]
        if need_w:
            _pad_plane(x[k, ch], xp, ph, pw)
        if need_x:
            dxp[:, :] = 0
        for f in range(ch * m, ch * m + m):
            gp = g[k, f]
            for i in range(kh):
                for j in range(kw):
                    wv, x0, acc = w3[f, i, j], np.uintp(j * dw), zero
                    for oy in range(oh):
                        iy = np.uintp(oy * sh + i * dh)
                        if need_w:
                            for ox in range(ow):
                                u = np.uintp(ox)
                                acc += gp[oy, u] * xp[iy, x0 + u * step]
                        if need_x:
                            for ox in range(ow):
                                u = np.uintp(ox)
                                dxp[iy, x0 + u * step] += wv * gp[oy, u]
                    grad_w_parts[k, f, i, j] = acc
        if need_x:
            out = grad_x[k, ch]
            for yy in range(h):
                for xx in range(w):
                    out[yy, xx] = dxp[ph + yy, pw + xx]


def _padded_planes(x, win: Window):
    """Each thread's padded plane ``(H + 2*ph, W + 2*pw)``, read by every tap."""
    h, w = x.shape[2:]
    return POOL.empty((numba.get_num_threads(), h + 2 * win.ph, w + 2 * win.pw), x.dtype)


def _geometry(win: Window) -> tuple:
    return win.kh, win.kw, win.sh, win.sw, win.ph, win.pw, win.dh, win.dw


def channels_last(channels: int, filters: int, pixels: int) -> bool:
    """Whether :mod:`.conv_depthwise_channels_last` serves the layer rather than a plane per
    task: one filter per channel and no more output pixels per sample than twice the
    channels (``benchmarks/conv_paths.py --depthwise``; figures in
    ``benchmarks/RESULTS.md``)."""
    return filters == channels and pixels <= 2 * channels


def depthwise_conv2d_forward(x, weight, bias, win: Window):
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    filters = weight.shape[0]
    if channels_last(c, filters, math.prod(win.out_shape(h, w))):
        return conv_depthwise_channels_last.forward(x, weight, bias, win), None
    y = POOL.empty((n, filters, *win.out_shape(h, w)), x.dtype)
    bias = np.zeros(filters, x.dtype) if bias is None else bias
    w3 = np.ascontiguousarray(weight).reshape(filters, win.kh, win.kw)
    _forward(x, w3, bias, y, _padded_planes(x, win), *_geometry(win))
    return y, None


def depthwise_conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True,
                              need_b=True):
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    n, filters = g.shape[:2]
    grad_b = g.sum(axis=(0, 2, 3)) if need_b else None
    if channels_last(x.shape[1], filters, g.shape[2] * g.shape[3]):
        grad_x, grad_w = conv_depthwise_channels_last.backward(g, x, weight, win, need_x, need_w)
        return grad_x, grad_w, grad_b
    w3 = np.ascontiguousarray(weight).reshape(filters, win.kh, win.kw)
    grad_x = POOL.empty(x.shape, x.dtype) if need_x else np.empty((n, 0, 0, 0), x.dtype)
    parts = np.empty((n, filters, win.kh, win.kw), x.dtype)
    if need_x or need_w:
        _backward(x, w3, g, grad_x, parts, _padded_planes(x, win), _padded_planes(x, win),
                  need_x, need_w, *_geometry(win))
    grad_w = parts.sum(axis=0).reshape(weight.shape) if need_w else None
    return (grad_x if need_x else None), grad_w, grad_b
