"""The ``numba`` set's depthwise convolution: a direct kernel, one (sample, channel) plane
per task over the threads.

Output channel ``f`` of a weight ``(C*m, 1, kh, kw)`` reads input channel ``f // m`` only,
so each plane is a small 2-D correlation: for each tap (i, j), the output rows and columns
whose input lies inside the image (``valid_range``) get ``w[f, 0, i, j]`` times the input
pixels they read, with no im2col and no branch in the inner loop (a unit-stride loop of
its own for stride 1, which vectorises). Backward takes the
input planes: each task owns ``dx[n, c]`` and the ``m`` output planes that read it, adding
into ``dx`` and into its own partial weight gradient ``dw_n[f, i, j]``; the caller sums
the partials over the samples. Float32 and float64 (one compilation each).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..memory import POOL
from ..window import Window
from .window import valid_range


@njit(parallel=True, cache=True)
def _forward(x, w3, bias, y, kh, kw, sh, sw, ph, pw, dh, dw):
    """``y[n, f] = b[f] + sum_{i,j} w3[f, i, j] * xpad[n, f // m] at the tap's positions``."""
    n, c, h, w = x.shape
    filters, oh, ow = y.shape[1], y.shape[2], y.shape[3]
    m = filters // c
    for plane in prange(n * filters):
        k, f = plane // filters, plane % filters
        src, out = x[k, f // m], y[k, f]
        out[:, :] = bias[f]
        for i in range(kh):
            ylo, yhi = valid_range(i * dh - ph, sh, h, oh)
            for j in range(kw):
                x0 = j * dw - pw
                xlo, xhi = valid_range(x0, sw, w, ow)
                wv, count = w3[f, i, j], xhi - xlo
                for oy in range(ylo, yhi):
                    row = src[oy * sh + i * dh - ph, xlo * sw + x0:]
                    orow = out[oy, xlo:xhi]
                    if sw == 1:  # unit stride: the loop vectorises
                        for t in range(count):
                            orow[t] += wv * row[t]
                    else:
                        for t in range(count):
                            orow[t] += wv * row[t * sw]


@njit(parallel=True, cache=True, fastmath={"reassoc"})  # the weight sums vectorise
def _backward(x, w3, g, grad_x, grad_w_parts, need_x, need_w, kh, kw, sh, sw, ph, pw, dh, dw):
    """Per input plane ``(n, c)``: ``dx[n, c] += w3[f, i, j] * g[n, f]`` at each tap's input
    pixels and ``grad_w_parts[n, f, i, j] = sum g[n, f] * x[n, c]`` over them, for the
    ``m`` output channels ``f = c*m .. c*m + m - 1``."""
    n, c, h, w = x.shape
    filters, oh, ow = g.shape[1], g.shape[2], g.shape[3]
    m, zero = filters // c, x.dtype.type(0)
    for plane in prange(n * c):
        k, ch = plane // c, plane % c
        src = x[k, ch]
        if need_x:
            grad_x[k, ch] = 0
        for f in range(ch * m, ch * m + m):
            gp = g[k, f]
            for i in range(kh):
                ylo, yhi = valid_range(i * dh - ph, sh, h, oh)
                for j in range(kw):
                    x0 = j * dw - pw
                    xlo, xhi = valid_range(x0, sw, w, ow)
                    wv, count = w3[f, i, j], xhi - xlo
                    acc = zero
                    for oy in range(ylo, yhi):
                        iy = oy * sh + i * dh - ph
                        grow = gp[oy, xlo:xhi]
                        if need_w:
                            row = src[iy, xlo * sw + x0:]
                            if sw == 1:
                                for t in range(count):
                                    acc += grow[t] * row[t]
                            else:
                                for t in range(count):
                                    acc += grow[t] * row[t * sw]
                        if need_x:
                            grow_x = grad_x[k, ch, iy, xlo * sw + x0:]
                            if sw == 1:  # unit stride: the loop vectorises
                                for t in range(count):
                                    grow_x[t] += wv * grow[t]
                            else:
                                for t in range(count):
                                    grow_x[t * sw] += wv * grow[t]
                    grad_w_parts[k, f, i, j] = acc


def _geometry(win: Window) -> tuple:
    return win.kh, win.kw, win.sh, win.sw, win.ph, win.pw, win.dh, win.dw


def depthwise_conv2d_forward(x, weight, bias, win: Window):
    x = np.ascontiguousarray(x)
    n, _, h, w = x.shape
    filters = weight.shape[0]
    y = POOL.empty((n, filters, *win.out_shape(h, w)), x.dtype)
    bias = np.zeros(filters, x.dtype) if bias is None else bias
    w3 = np.ascontiguousarray(weight).reshape(filters, win.kh, win.kw)
    _forward(x, w3, bias, y, *_geometry(win))
    return y, None


def depthwise_conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True,
                              need_b=True):
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    n, filters = g.shape[:2]
    w3 = np.ascontiguousarray(weight).reshape(filters, win.kh, win.kw)
    grad_x = POOL.empty(x.shape, x.dtype) if need_x else np.empty((n, 0, 0, 0), x.dtype)
    parts = np.empty((n, filters, win.kh, win.kw), x.dtype)
    if need_x or need_w:
        _backward(x, w3, g, grad_x, parts, need_x, need_w, *_geometry(win))
    grad_w = parts.sum(axis=0).reshape(weight.shape) if need_w else None
    grad_b = g.sum(axis=(0, 2, 3)) if need_b else None
    return (grad_x if need_x else None), grad_w, grad_b
