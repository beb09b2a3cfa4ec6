"""The ``numba`` set's fused batch norm -> ReLU -> max pooling.

For 2x2 windows with stride 2 and no padding it reads the input once and writes only
quarter-size arrays: the pooled output, an ``int8`` argmax and the input value at each
argmax; the normalised and rectified tensors are never stored. Backward rebuilds the
gradient at the batch norm's output from those: within each window it is ``g`` at the
argmax when the output is positive, else 0, so its sums need only the quarter-size
arrays. Counting every read or write of a full-size tensor, from the statistics to the
input gradient: four, against fifteen for the layer-by-layer chain (normalise, rectify,
pool, and back). The values are the same as the chain's: the same ``x * scale + shift``,
the same ReLU, the same first-maximum tie rule. Any other window is the composition of
this set's batch norm, ReLU and max pooling.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..composed import compose_batchnorm_relu_maxpool
from ..memory import POOL
from ..window import Window
from . import activation, norm, pool
from .norm import as_planes, gradients_from_plane_sums, scale_shift
from .pool import TWO_BY_TWO


@njit(parallel=True, cache=True)
def _bn_relu_maxpool_2x2(x, scale, shift, y, argmax, chosen, zero):
    """``z = relu(x * scale[c] + shift[c])`` and its 2x2 window maxima (first maximum wins),
    without storing ``z``; ``chosen`` gets the input value ``x`` at each argmax. Each later
    value of a window replaces the running maximum, its index and its input only where
    larger, written as selects rather than branches, so the loop over windows vectorises;
    ``zero`` is 0 in the input's dtype, so the arithmetic stays in it."""
    n, c = x.shape[0], x.shape[1]
    oh, ow = y.shape[2], y.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        a, s = scale[ch], shift[ch]
        for oy in range(oh):
            top, bottom = x[b, ch, 2 * oy], x[b, ch, 2 * oy + 1]
            out, arg, picked = y[b, ch, oy], argmax[b, ch, oy], chosen[b, ch, oy]
            for ox in range(ow):
                u0, u1 = top[2 * ox], top[2 * ox + 1]
                u2, u3 = bottom[2 * ox], bottom[2 * ox + 1]
                v0, v1, v2, v3 = u0 * a + s, u1 * a + s, u2 * a + s, u3 * a + s
                best, k, at = (v0 if v0 > zero else zero), 0, u0
                v1 = v1 if v1 > zero else zero
                larger = v1 > best
                best, k, at = (v1 if larger else best), (1 if larger else k), (u1 if larger else at)
                v2 = v2 if v2 > zero else zero
                larger = v2 > best
                best, k, at = (v2 if larger else best), (2 if larger else k), (u2 if larger else at)
                v3 = v3 if v3 > zero else zero
                larger = v3 > best
                best, k, at = (v3 if larger else best), (3 if larger else k), (u3 if larger else at)
                out[ox] = best
                arg[ox] = k
                picked[ox] = at


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _bn_relu_maxpool_plane_grad_sums(g, y, chosen, mean, sums_g, sums_gx):
    """:func:`_bn_plane_grad_sums` of the gradient at the batch norm's output, which is
    ``g`` at each window's argmax where ``y > 0`` and 0 elsewhere: a sum over windows,
    with ``chosen`` the input at each argmax. Arrays ``(N, C, OH*OW)``."""
    n, c, m = y.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu = mean[ch]
        s, sx = 0.0, 0.0
        for k in range(m):
            gv = g[b, ch, k] if y[b, ch, k] > 0 else 0.0
            s += gv
            sx += gv * (chosen[b, ch, k] - mu)
        sums_g[b, ch] = s
        sums_gx[b, ch] = sx


@njit(parallel=True, cache=True)
def _bn_relu_maxpool_grad_input_2x2(g, y, argmax, x, out, mean, scale, shift, slope):
    """``dx = scale*gz + shift + slope*(x - mean)`` per channel
    (:func:`.norm.grad_input_line`) with the gradient at the batch norm's output ``gz``
    rebuilt window by window: ``g`` at the argmax where ``y > 0``, else 0, each pixel's
    share chosen by a select, so the loop over a row's windows vectorises. The row and
    column no window covers (odd sizes) have ``gz = 0``."""
    n, c, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    zero = x.dtype.type(0)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu, a, d0, d1 = mean[ch], scale[ch], shift[ch], slope[ch]
        for yy in range(h):
            oy, r = yy // 2, yy % 2
            row, dst = x[b, ch, yy], out[b, ch, yy]
            covered = ow if oy < oh else 0
            if covered:
                grads, outs, args = g[b, ch, oy], y[b, ch, oy], argmax[b, ch, oy]
                for ox in range(covered):
                    k = args[ox]
                    ga = a * grads[ox] if outs[ox] > zero else zero
                    dst[2 * ox] = (d0 + d1 * (row[2 * ox] - mu)
                                   + (ga if k == 2 * r else zero))
                    dst[2 * ox + 1] = (d0 + d1 * (row[2 * ox + 1] - mu)
                                       + (ga if k == 2 * r + 1 else zero))
            for xx in range(2 * covered, w):
                dst[xx] = d0 + d1 * (row[xx] - mu)


def batchnorm_relu_maxpool_2x2_forward(x, mean, inv_std, weight, bias) -> tuple:
    """The contract's ``batchnorm_relu_maxpool_forward`` for 2x2 windows, stride 2, no
    padding; ``saved`` is ``(argmax, chosen)``, ``chosen`` the input at each argmax."""
    n, c, h, w = x.shape
    scale, shift = scale_shift(mean, inv_std, weight, bias, x.dtype)
    y = POOL.empty((n, c, h // 2, w // 2), x.dtype)
    argmax, chosen = POOL.empty(y.shape, np.int8), POOL.empty(y.shape, x.dtype)
    _bn_relu_maxpool_2x2(np.ascontiguousarray(x), scale, shift, y, argmax, chosen,
                         x.dtype.type(0))
    return y, (argmax, chosen)


def batchnorm_relu_maxpool_2x2_backward(g, y, saved, x, mean, inv_std, weight, batch_stats,
                                        need_x=True, need_w=True, need_b=True) -> tuple:
    """The contract's ``batchnorm_relu_maxpool_backward`` for the same windows; ``saved``
    is the argmax and the input at each argmax."""
    argmax, chosen = saved
    g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
    n, c, h, w = x.shape
    sums_g, sums_gx = np.empty((n, c)), np.empty((n, c))
    _bn_relu_maxpool_plane_grad_sums(as_planes(g), as_planes(y), as_planes(chosen), mean,
                                     sums_g, sums_gx)

    def grad_input(out, scale, shift, slope):
        _bn_relu_maxpool_grad_input_2x2(g, y, argmax, x, out, mean, scale, shift, slope)

    return gradients_from_plane_sums(sums_g, sums_gx, inv_std, x, n * h * w, weight,
                                     batch_stats, grad_input, need_x, need_w, need_b)


_composed_forward, _composed_backward = compose_batchnorm_relu_maxpool(norm, activation, pool)


def batchnorm_relu_maxpool_forward(x, mean, inv_std, weight, bias, win: Window):
    """Fused for 2x2 windows with stride 2, composed from this set's kernels for any other
    window."""
    if win == TWO_BY_TWO:
        return batchnorm_relu_maxpool_2x2_forward(x, mean, inv_std, weight, bias)
    return _composed_forward(x, mean, inv_std, weight, bias, win)


def batchnorm_relu_maxpool_backward(g, y, saved, x, mean, inv_std, weight, batch_stats,
                                    win: Window, need_x=True, need_w=True, need_b=True):
    if win == TWO_BY_TWO:
        return batchnorm_relu_maxpool_2x2_backward(g, y, saved, x, mean, inv_std, weight,
                                                   batch_stats, need_x, need_w, need_b)
    return _composed_backward(g, y, saved, x, mean, inv_std, weight, batch_stats, win,
                              need_x, need_w, need_b)
