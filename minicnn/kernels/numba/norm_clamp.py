"""The ``numba`` set's fused batch norm -> clamp (ReLU, ReLU6, Hardtanh): one pass each way
after the batch statistics.

Forward writes ``y = min(max(x * scale[c] + shift[c], low), high)`` straight from ``x``;
the normalised tensor is never stored. Backward needs only ``x``: the gradient at the
batch norm's output is ``gz = g * [low < y < high]``, and ``low < y < high`` exactly where
``low < x * scale + shift < high``, the same numbers made again; its per-plane sums and the
input gradient (:mod:`.norm`'s formulas) are computed with ``gz`` made on the fly, so it is
never stored either. Counting every read or write of a full-size tensor: two forward (four
layer by layer: normalise, then clamp) and five backward (eight, and one array fewer). The
values are the layer-by-layer chain's: the same ``x * scale + shift`` in the input's dtype,
the same bounds; a NaN stays NaN, as with torch's clamp.
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
def _inside(x, scale, shift, low, high):
    """``[low < x * scale + shift < high]``, the forward's own number before the clamp, so
    exactly where its output was strictly inside the bounds, as a float32 1 or 0 (a factor
    exact in either dtype): the gradient is multiplied by it, not chosen by a branch, so
    the loops vectorise (with a branch the fused backward was slower than the two ops
    apart)."""
    v = x * scale + shift
    return np.float32((v > low) & (v < high))


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _bn_clamp_plane_grad_sums(g3, x3, mean, scale, shift, low, high, sums_g, sums_gx):
    """Per plane ``sum(gz)`` and ``sum(gz * (x - mean))`` in double, ``gz = g`` where the
    forward's output was strictly inside the bounds (:func:`_inside`) and 0 elsewhere."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu, a, t = mean[ch], scale[ch], shift[ch]
        s, sx = 0.0, 0.0
        for k in range(m):
            xv = x3[b, ch, k]
            gv = g3[b, ch, k] * _inside(xv, a, t, low, high)
            s += gv
            sx += gv * (xv - mu)
        sums_g[b, ch] = s
        sums_gx[b, ch] = sx


@njit(parallel=True, cache=True)
def _bn_clamp_grad_input(g3, x3, out, mean, forward, line, low, high):
    """``dx = scale*gz + shift + slope*(x - mean)`` per channel, ``line = (scale, shift,
    slope)`` (:func:`.norm.grad_input_line`), ``gz`` as in :func:`_bn_clamp_plane_grad_sums`
    from the forward's ``(scale, shift)``."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu, a, d0, d1 = mean[ch], line[0][ch], line[1][ch], line[2][ch]
        fa, fs = forward[0][ch], forward[1][ch]
        for k in range(m):
            xv = x3[b, ch, k]
            gz = g3[b, ch, k] * _inside(xv, fa, fs, low, high)
            out[b, ch, k] = a * gz + d0 + d1 * (xv - mu)


def batchnorm_clamp_forward(x, mean, inv_std, weight, bias, low, high):
    scale, shift = scale_shift(mean, inv_std, weight, bias, x.dtype)
    x3 = as_planes(x)
    y = POOL.empty(x3.shape, x.dtype)
    bound = x.dtype.type
    _bn_clamp(x3, y, scale, shift, bound(low), bound(high))
    return y.reshape(x.shape)


def batchnorm_clamp_backward(g, y, x, mean, inv_std, weight, bias, batch_stats, low, high,
                             need_x=True, need_w=True, need_b=True):
    """The contract's ``batchnorm_clamp_backward``, the mask made again from ``x`` with the
    forward's scale and shift (two reads of ``y`` fewer); ``y`` is not read."""
    g3, x3 = as_planes(g), as_planes(x)
    n, c, m = x3.shape
    sums_g, sums_gx = np.empty((n, c)), np.empty((n, c))
    bound = x.dtype.type
    low, high = bound(low), bound(high)
    forward = scale_shift(mean, inv_std, weight, bias, x.dtype)
    _bn_clamp_plane_grad_sums(g3, x3, mean, *forward, low, high, sums_g, sums_gx)

    def grad_input(out, scale, shift, slope):
        _bn_clamp_grad_input(g3, x3, out.reshape(x3.shape), mean, forward,
                             (scale, shift, slope), low, high)

    return gradients_from_plane_sums(sums_g, sums_gx, inv_std, x, n * m, weight, batch_stats,
                                     grad_input, need_x, need_w, need_b)
