"""Numba kernels of the ``numba`` set for batch norm, alone and fused with ReLU and 2x2
max pooling (the set's module, :mod:`minicnn.kernels.cpu`, takes them from here).

Batch norm is memory-bound: its cost is the number of passes over the tensor. So:

- Statistics sum each (sample, channel) plane while it is in cache: its mean, then the
  squared deviations from that mean (two passes over a few kilobytes, no cancellation),
  and the planes are combined per channel in double (Chan et al.'s pairwise formula)::

      mean = mean over n of mean_n,
      var  = (sum over n of M2_n + m * sum over n of (mean_n - mean)**2) / (N m)

  where ``m`` is the plane size and ``M2_n`` the plane's sum of squared deviations.
  ``fastmath={"reassoc"}`` lets LLVM vectorise these double sums.
- The fused batch norm -> ReLU -> max pool (2x2 windows, stride 2, no padding) reads
  the input once and writes only quarter-size arrays: the pooled output, an ``int8``
  argmax and the input value at each argmax; the normalised and rectified tensors are
  never stored. Backward rebuilds the gradient at the batch norm's output from those:
  within each window it is ``g`` at the argmax when the output is positive, else 0, so
  its sums need only the quarter-size arrays. Counting every read or write of a
  full-size tensor, from the statistics to the input gradient: four, against fifteen
  for the layer-by-layer chain (normalise, rectify, pool, and back).
  The values are the same as the chain's: the same ``x * scale + shift``, the same ReLU,
  the same first-maximum tie rule.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .memory import POOL


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _plane_stats(x3, means, squares):
    """x3 ``(N, C, m)`` -> per plane its mean and its sum of squared deviations ``(N, C)``."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        row = x3[b, ch]
        total = 0.0
        for k in range(m):
            total += row[k]
        mu = total / m
        deviations = 0.0
        for k in range(m):
            d = row[k] - mu
            deviations += d * d
        means[b, ch] = mu
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
def _bn_grad_input(g3, x3, out, mean, inv_std, scale, mean_g, mean_gx):
    """``dx = scale * (g - mean(g) - xhat * mean(g * xhat))`` per channel."""
    n, c, m = x3.shape
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu, inv, a, mg, mgx = mean[ch], inv_std[ch], scale[ch], mean_g[ch], mean_gx[ch]
        for k in range(m):
            out[b, ch, k] = a * (g3[b, ch, k] - mg - (x3[b, ch, k] - mu) * inv * mgx)


@njit(parallel=True, cache=True)
def _bn_relu_maxpool_2x2(x, scale, shift, y, argmax, chosen):
    """``z = relu(x * scale[c] + shift[c])`` and its 2x2 window maxima (first maximum wins),
    without storing ``z``; ``chosen`` gets the input value ``x`` at each argmax."""
    n, c = x.shape[0], x.shape[1]
    oh, ow = y.shape[2], y.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        a, s = scale[ch], shift[ch]
        for oy in range(oh):
            top, bottom = x[b, ch, 2 * oy], x[b, ch, 2 * oy + 1]
            out, arg, picked = y[b, ch, oy], argmax[b, ch, oy], chosen[b, ch, oy]
            for ox in range(ow):
                u = top[2 * ox]
                v = u * a + s
                best, k, at = (v if v > 0 else 0), 0, u
                u = top[2 * ox + 1]
                v = u * a + s
                v = v if v > 0 else 0
                if v > best:
                    best, k, at = v, 1, u
                u = bottom[2 * ox]
                v = u * a + s
                v = v if v > 0 else 0
                if v > best:
                    best, k, at = v, 2, u
                u = bottom[2 * ox + 1]
                v = u * a + s
                v = v if v > 0 else 0
                if v > best:
                    best, k, at = v, 3, u
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
def _bn_relu_maxpool_grad_input_2x2(g, y, argmax, x, out, mean, inv_std, scale, mean_g, mean_gx):
    """:func:`_bn_grad_input` with the gradient at the batch norm's output rebuilt window
    by window; the row and column no window covers (odd sizes) have gradient 0 there."""
    n, c, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        mu, inv, a, mg, mgx = mean[ch], inv_std[ch], scale[ch], mean_g[ch], mean_gx[ch]
        for yy in range(h):
            oy, r = yy // 2, yy % 2
            row, dst = x[b, ch, yy], out[b, ch, yy]
            covered = ow if oy < oh else 0
            for ox in range(covered):
                k = argmax[b, ch, oy, ox]
                gv = g[b, ch, oy, ox] if y[b, ch, oy, ox] > 0 else 0.0
                for q in range(2):
                    gz = gv if k == 2 * r + q else 0.0
                    dst[2 * ox + q] = a * (gz - mg - (row[2 * ox + q] - mu) * inv * mgx)
            for xx in range(2 * covered, w):
                dst[xx] = a * (0.0 - mg - (row[xx] - mu) * inv * mgx)


def _as3(x) -> np.ndarray:
    x = np.ascontiguousarray(x)
    return x.reshape(x.shape[0], x.shape[1], -1)


def batchnorm_stats(x):
    x3 = _as3(x)
    n, c, m = x3.shape
    means, squares = np.empty((n, c)), np.empty((n, c))
    _plane_stats(x3, means, squares)
    mean = means.mean(axis=0)
    var = (squares.sum(axis=0) + m * ((means - mean) ** 2).sum(axis=0)) / (n * m)
    return mean.astype(x.dtype), var.astype(x.dtype)


def _scale_shift(mean, inv_std, weight, bias, dtype) -> tuple:
    """``(scale, shift)`` with ``batchnorm_apply(x) = x * scale + shift`` per channel."""
    scale = inv_std if weight is None else inv_std * weight
    shift = -mean * scale if bias is None else bias - mean * scale
    return scale.astype(dtype), shift.astype(dtype)


def batchnorm_apply(x, mean, inv_std, weight, bias):
    scale, shift = _scale_shift(mean, inv_std, weight, bias, x.dtype)
    x3 = _as3(x)
    y = POOL.empty(x3.shape, x.dtype)
    _bn_apply(x3, y, shift, scale)
    return y.reshape(x.shape)


def _grad_input_terms(sum_g, sum_gx, count, inv_std, weight, batch_stats) -> tuple:
    """``(scale, mean(g), mean(g * xhat))`` for the input gradient; the two means are 0
    when the statistics were constants (evaluation), which leaves ``dx = g * scale``."""
    scale = (inv_std if weight is None else inv_std * weight).astype(np.float64)
    if not batch_stats:
        return scale, np.zeros_like(sum_g), np.zeros_like(sum_g)
    return scale, sum_g / count, sum_gx / count


def _gradients(sums_g, sums_gx, inv_std, x, count, weight, batch_stats, grad_input,
               need_x, need_w, need_b) -> tuple:
    """Per-plane sums ``(N, C)`` -> (dx, dgamma, dbeta); ``grad_input(out, scale, mg, mgx)``
    fills dx."""
    sum_g, sum_gx = sums_g.sum(axis=0), sums_gx.sum(axis=0) * inv_std
    grad_x = None
    if need_x:
        grad_x = POOL.empty(x.shape, x.dtype)
        grad_input(grad_x, *_grad_input_terms(sum_g, sum_gx, count, inv_std, weight, batch_stats))
    return (grad_x, sum_gx.astype(x.dtype) if need_w else None,
            sum_g.astype(x.dtype) if need_b else None)


def batchnorm_backward(g, x, mean, inv_std, weight, batch_stats: bool,
                       need_x=True, need_w=True, need_b=True):
    g3, x3 = _as3(g), _as3(x)
    n, c, m = x3.shape
    sums_g, sums_gx = np.empty((n, c)), np.empty((n, c))
    _bn_plane_grad_sums(g3, x3, mean, sums_g, sums_gx)

    def grad_input(out, scale, mean_g, mean_gx):
        _bn_grad_input(g3, x3, out.reshape(x3.shape), mean, inv_std, scale, mean_g, mean_gx)

    return _gradients(sums_g, sums_gx, inv_std, x, n * m, weight, batch_stats, grad_input,
                      need_x, need_w, need_b)


def batchnorm_relu_maxpool_2x2_forward(x, mean, inv_std, weight, bias) -> tuple:
    """The contract's ``batchnorm_relu_maxpool_forward`` for 2x2 windows, stride 2, no
    padding; ``saved`` is ``(argmax, chosen)``, ``chosen`` the input at each argmax."""
    n, c, h, w = x.shape
    scale, shift = _scale_shift(mean, inv_std, weight, bias, x.dtype)
    y = POOL.empty((n, c, h // 2, w // 2), x.dtype)
    argmax, chosen = POOL.empty(y.shape, np.int8), POOL.empty(y.shape, x.dtype)
    _bn_relu_maxpool_2x2(np.ascontiguousarray(x), scale, shift, y, argmax, chosen)
    return y, (argmax, chosen)


def batchnorm_relu_maxpool_2x2_backward(g, y, saved, x, mean, inv_std, weight, batch_stats,
                                        need_x=True, need_w=True, need_b=True) -> tuple:
    """The contract's ``batchnorm_relu_maxpool_backward`` for the same windows; ``saved``
    is the argmax and the input at each argmax."""
    argmax, chosen = saved
    g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
    n, c, h, w = x.shape
    sums_g, sums_gx = np.empty((n, c)), np.empty((n, c))
    _bn_relu_maxpool_plane_grad_sums(_as3(g), _as3(y), _as3(chosen), mean, sums_g, sums_gx)

    def grad_input(out, scale, mean_g, mean_gx):
        _bn_relu_maxpool_grad_input_2x2(g, y, argmax, x, out, mean, inv_std, scale, mean_g, mean_gx)

    return _gradients(sums_g, sums_gx, inv_std, x, n * h * w, weight, batch_stats, grad_input,
                      need_x, need_w, need_b)
