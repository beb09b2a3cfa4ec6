"""The ``numba`` set's batch normalisation.

Batch norm is memory-bound: its cost is the number of passes over the tensor. Statistics
sum each (sample, channel) plane while it is in cache: its mean, then the squared
deviations from that mean (two passes over a few kilobytes, no cancellation), and the
planes are combined per channel in double (Chan et al.'s pairwise formula)::

    mean = mean over n of mean_n,
    var  = (sum over n of M2_n + m * sum over n of (mean_n - mean)**2) / (N m)

where ``m`` is the plane size and ``M2_n`` the plane's sum of squared deviations. A
plane's two sums are in the input's dtype, which ``fastmath={"reassoc"}`` lets LLVM
split over a vector's lanes (so each partial sum holds a fraction of the plane, as in a
pairwise sum): in double the conversions made them slower than the memory they read. The
gradient's plane sums stay in double. Normalising and the input gradient are one pass
each. The running-estimate update and the inverse deviation (per channel, tiny) are the
array formulas of :mod:`minicnn.kernels.formulas`.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..memory import POOL


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _plane_stats(x3, means, squares):
    """x3 ``(N, C, m)`` -> per plane its mean and its sum of squared deviations ``(N, C)``,
    each plane's sums in the input's dtype (``means``, ``squares`` are double)."""
    n, c, m = x3.shape
    zero = x3.dtype.type(0)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        row = x3[b, ch]
        total = zero
        for k in range(m):
            total += row[k]
        mu = x3.dtype.type(total / m)
        deviations = zero
        for k in range(m):
            d = row[k] - mu
            deviations += d * d
        means[b, ch] = total / m
        squares[b, ch] = deviations


@njit(parallel=True, cache=True)
def _bn_apply(x3, y3, shift, scale):
    """``y = x * scale[c] + shift[c]``, one pass, parallel over (sample, channel) planes."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        a, s = scale[ch], shift[ch]
        for k in range(m):
            y3[b, ch, k] = x3[b, ch, k] * a + s


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _bn_plane_grad_sums(g3, x3, mean, sums_g, sums_gx):
    """Per (sample, channel) plane: ``sum(g)`` and ``sum(g * (x - mean))``, in double."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu = mean[ch]
        s, sx = 0.0, 0.0
        for k in range(m):
            gv = g3[b, ch, k]
            s += gv
            sx += gv * (x3[b, ch, k] - mu)
        sums_g[b, ch] = s
        sums_gx[b, ch] = sx


@njit(parallel=True, cache=True)
def _bn_grad_input(g3, x3, out, mean, scale, shift, slope):
    """``dx = scale*g + shift + slope*(x - mean)`` per channel (:func:`grad_input_line`)."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu, a, d0, d1 = mean[ch], scale[ch], shift[ch], slope[ch]
        for k in range(m):
            out[b, ch, k] = a * g3[b, ch, k] + d0 + d1 * (x3[b, ch, k] - mu)


def as_planes(x) -> np.ndarray:
    x = np.ascontiguousarray(x)
    return x.reshape(x.shape[0], x.shape[1], -1)


def batchnorm_stats(x):
    x3 = as_planes(x)
    n, c, m = x3.shape
    means, squares = np.empty((n, c)), np.empty((n, c))
    _plane_stats(x3, means, squares)
    mean = means.mean(axis=0)
    var = (squares.sum(axis=0) + m * ((means - mean) ** 2).sum(axis=0)) / (n * m)
    return mean.astype(x.dtype), var.astype(x.dtype)


def scale_shift(mean, inv_std, weight, bias, dtype) -> tuple:
    """``(scale, shift)`` with ``batchnorm_apply(x) = x * scale + shift`` per channel."""
    scale = inv_std if weight is None else inv_std * weight
    shift = -mean * scale if bias is None else bias - mean * scale
    return scale.astype(dtype), shift.astype(dtype)


def batchnorm_apply(x, mean, inv_std, weight, bias):
    scale, shift = scale_shift(mean, inv_std, weight, bias, x.dtype)
    x3 = as_planes(x)
    y = POOL.empty(x3.shape, x.dtype)
    _bn_apply(x3, y, shift, scale)
    return y.reshape(x.shape)


def grad_input_line(sum_g, sum_gx, count, inv_std, weight, batch_stats, dtype) -> tuple:
    """``(scale, shift, slope)`` per channel, in ``dtype``, of the input gradient as a line
    in the input: with ``a = inv_std * weight``, ``xhat = (x - mean) * inv_std`` and ``gz``
    the gradient at the batch norm's output,

        dx = a * (gz - mean(gz) - xhat * mean(gz * xhat))
           = a * gz + (-a * mean(gz)) + (-a * inv_std * mean(gz * xhat)) * (x - mean),

    the coefficients made in double from the sums over the ``count`` numbers per channel,
    so the kernels' per-element arithmetic stays in the input's dtype. With constant
    statistics (evaluation) the two means are 0 and ``dx = a * gz``."""
    scale = (inv_std if weight is None else inv_std * weight).astype(np.float64)
    if not batch_stats:
        zeros = np.zeros_like(sum_g, dtype=dtype)
        return scale.astype(dtype), zeros, zeros
    shift = -scale * (sum_g / count)
    slope = -scale * inv_std * (sum_gx / count)
    return scale.astype(dtype), shift.astype(dtype), slope.astype(dtype)


def gradients_from_plane_sums(sums_g, sums_gx, inv_std, x, count, weight, batch_stats,
                              grad_input, need_x, need_w, need_b) -> tuple:
    """Per-plane sums ``(N, C)`` -> (dx, dgamma, dbeta); ``grad_input(out, scale, shift,
    slope)`` fills dx (:func:`grad_input_line`)."""
    sum_g, sum_gx = sums_g.sum(axis=0), sums_gx.sum(axis=0) * inv_std
    grad_x = None
    if need_x:
        grad_x = POOL.empty(x.shape, x.dtype)
        grad_input(grad_x, *grad_input_line(sum_g, sum_gx, count, inv_std, weight,
                                            batch_stats, x.dtype))
    return (grad_x, sum_gx.astype(x.dtype) if need_w else None,
            sum_g.astype(x.dtype) if need_b else None)


def batchnorm_backward(g, x, mean, inv_std, weight, batch_stats: bool,
                       need_x=True, need_w=True, need_b=True):
    g3, x3 = as_planes(g), as_planes(x)
    n, c, m = x3.shape
    sums_g, sums_gx = np.empty((n, c)), np.empty((n, c))
    _bn_plane_grad_sums(g3, x3, mean, sums_g, sums_gx)

    def grad_input(out, scale, shift, slope):
        _bn_grad_input(g3, x3, out.reshape(x3.shape), mean, scale, shift, slope)

    return gradients_from_plane_sums(sums_g, sums_gx, inv_std, x, n * m, weight, batch_stats,
                                     grad_input, need_x, need_w, need_b)
