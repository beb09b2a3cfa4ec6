"""The ``numba`` set's fused batch norm -> clamp (ReLU, ReLU6, Hardtanh): one pass each way
after the batch statistics.

Forward writes ``y = min(max(x * scale[c] + shift[c], low), high)`` straight from ``x``;
the normalised tensor is never stored. Backward needs ``y`` and ``x``: the gradient at the
batch norm's output is ``gz = g * [low < y < high]``, and its per-plane sums and the input
gradient (:mod:`.norm`'s formulas) are computed with ``gz`` made on the fly, so it is never
stored either. Counting every read or write of a full-size tensor: two forward (four layer
by layer: normalise, then clamp) and seven backward (eight, and one array fewer). The values
are the layer-by-layer chain's: the same ``x * scale + shift`` in the input's dtype, the
same bounds; a NaN stays NaN, as with torch's clamp.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..memory import POOL
from .norm import as_planes, gradients_from_plane_sums, scale_shift


@njit(parallel=True, cache=True)
def _bn_clamp(x3, y3, scale, shift, low, high):
    """``y = min(max(x * scale[c] + shift[c], low), high)`` per (sample, channel) plane."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        a, s = scale[ch], shift[ch]
        src, dst = x3[b, ch], y3[b, ch]
        for k in range(m):
            v = src[k] * a + s
            v = low if v < low else v
            dst[k] = high if v > high else v


@njit(inline="always", cache=True)
def _inside(y, low, high):
    """``[low < y < high]`` as a float32 1 or 0 (a factor exact in either dtype): the
    gradient is multiplied by it, not chosen by a branch, so the loops vectorise (with a
    branch the fused backward was slower than the two ops apart)."""
    return np.float32((y > low) & (y < high))


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _bn_clamp_plane_grad_sums(g3, y3, x3, mean, low, high, sums_g, sums_gx):
    """Per plane ``sum(gz)`` and ``sum(gz * (x - mean))`` in double, ``gz = g`` where
    ``low < y < high`` and 0 elsewhere."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu = mean[ch]
        s, sx = 0.0, 0.0
        for k in range(m):
            gv = g3[b, ch, k] * _inside(y3[b, ch, k], low, high)
            s += gv
            sx += gv * (x3[b, ch, k] - mu)
        sums_g[b, ch] = s
        sums_gx[b, ch] = sx


@njit(parallel=True, cache=True)
def _bn_clamp_grad_input(g3, y3, x3, out, mean, scale, shift, slope, low, high):
    """``dx = scale*gz + shift + slope*(x - mean)`` per channel
    (:func:`.norm.grad_input_line`)."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu, a, d0, d1 = mean[ch], scale[ch], shift[ch], slope[ch]
        for k in range(m):
            gz = g3[b, ch, k] * _inside(y3[b, ch, k], low, high)
            out[b, ch, k] = a * gz + d0 + d1 * (x3[b, ch, k] - mu)


def batchnorm_clamp_forward(x, mean, inv_std, weight, bias, low, high):
    scale, shift = scale_shift(mean, inv_std, weight, bias, x.dtype)
    x3 = as_planes(x)
    y = POOL.empty(x3.shape, x.dtype)
    bound = x.dtype.type
    _bn_clamp(x3, y, scale, shift, bound(low), bound(high))
    return y.reshape(x.shape)


def batchnorm_clamp_backward(g, y, x, mean, inv_std, weight, batch_stats, low, high,
                             need_x=True, need_w=True, need_b=True):
    g3, y3, x3 = as_planes(g), as_planes(y), as_planes(x)
    n, c, m = x3.shape
    sums_g, sums_gx = np.empty((n, c)), np.empty((n, c))
    bound = x.dtype.type
    low, high = bound(low), bound(high)
    _bn_clamp_plane_grad_sums(g3, y3, x3, mean, low, high, sums_g, sums_gx)

    def grad_input(out, scale, shift, slope):
        _bn_clamp_grad_input(g3, y3, x3, out.reshape(x3.shape), mean, scale, shift, slope,
                             low, high)

    return gradients_from_plane_sums(sums_g, sums_gx, inv_std, x, n * m, weight, batch_stats,
                                     grad_input, need_x, need_w, need_b)
