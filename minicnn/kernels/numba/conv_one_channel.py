"""The ``numba`` set's direct convolution of a one-channel input (the first layer).

No column matrix: with C = 1 its products have only kh*kw rows, which BLAS runs far from
its peak. The common 3x3 window with stride 1 (the study's) has the nine taps unrolled;
other windows at stride 1 without dilation take a kernel row's taps eight at a time
(:data:`TAP_GROUP`) in one vectorised pass over an output row, instead of one pass per tap
that reads and writes the whole row again.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL
from ..window import Window
from .window import geometry, valid_range

TAP_GROUP = 8
"""Taps of a kernel row taken in one pass over an output row by the stride-1 kernels
(:func:`_conv_forward_tap_groups`, whose unrolled sums are written for eight): a row of 5
or 7 taps is one pass, padded with zero taps."""


@njit(parallel=True, cache=True)
def _conv_forward_one_channel(x, w, bias, y, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Direct convolution of a one-channel input: ``y[n, f, oy] = b[f] + sum over (i, j) of
    w[f, i, j] * (row oy*sh + i*dh - ph of x[n, 0], shifted by j*dw - pw)``, one output row
    at a time while it is in cache. No column matrix: with C = 1 its products have only
    kh*kw rows, which BLAS runs far from its peak. Threads take (sample, filter) planes."""
    n, _, h, width = x.shape
    filters = w.shape[0]
    for plane in prange(n * filters):
        k, f = plane // filters, plane % filters
        image = x[k, 0]
        for oy in range(oh):
            out = y[k, f, oy]
            out[:] = bias[f]
            for i in range(kh):
                yy = oy * sh + i * dh - ph
                if yy < 0 or yy >= h:
                    continue
                row = image[yy]
                for j in range(kw):
                    x0 = j * dw - pw
                    lo, hi = valid_range(x0, sw, width, ow)
                    tap = w[f, i, j]
                    dst = out[lo:hi]
                    if sw == 1:  # contiguous views, non-negative indices: vectorised
                        src = row[lo + x0:hi + x0]
                        for t in range(hi - lo):
                            dst[t] += tap * src[t]
                    else:
                        for t in range(hi - lo):
                            dst[t] += tap * row[(lo + t) * sw + x0]


@njit(inline="always")
def _row_total(row, zero):
    """The sum of a gradient row in the input's type (``zero``): one row's share of the
    bias gradient."""
    total = zero
    for t in range(row.shape[0]):
        total += row[t]
    return total


@njit(parallel=True, cache=True, fastmath={"reassoc"})  # reassociation lets the sums vectorise
def _conv_backward_one_channel(x, g, grad_ws, grad_bs, zero,
                               kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The weight and bias gradients of :func:`_conv_forward_one_channel`:
    ``dW[f, i, j] = sum over (n, oy, ox) of g[n, f, oy, ox] * x[n, 0, oy*sh + i*dh - ph,
    ox*sw + j*dw - pw]`` and ``db[f] = sum of g[n, f]``, each row of ``g`` read once and
    used for every tap while in cache. Each row's sum is in the input's type (``zero``),
    the running totals in double, one partial per thread."""
    n, _, h, width = x.shape
    filters = g.shape[1]
    for plane in prange(n * filters):
        thread = numba.get_thread_id()
        k, f = plane // filters, plane % filters
        image = x[k, 0]
        for oy in range(oh):
            grad_row = g[k, f, oy]
            grad_bs[thread, f] += _row_total(grad_row, zero)
            for i in range(kh):
                yy = oy * sh + i * dh - ph
                if yy < 0 or yy >= h:
                    continue
                row = image[yy]
                for j in range(kw):
                    x0 = j * dw - pw
                    lo, hi = valid_range(x0, sw, width, ow)
                    a = grad_row[lo:hi]
                    total = zero
                    if sw == 1:
                        b = row[lo + x0:hi + x0]
                        for t in range(hi - lo):
                            total += a[t] * b[t]
                    else:
                        for t in range(hi - lo):
                            total += a[t] * row[(lo + t) * sw + x0]
                    grad_ws[thread, f, i, j] += total


@njit(parallel=True, cache=True)
def _conv3x3_forward_one_channel(xpad, w, bias, y):
    """:func:`_conv_forward_one_channel` for the common 3x3 window with stride 1 on a
    padded input ``xpad (N, OH + 2, OW + 2)``: the nine taps unrolled, so each output
    pixel is one expression over three input rows and the loop over a row vectorises.
    The same sums in the same order as the general kernel."""
    n = xpad.shape[0]
    filters = w.shape[0]
    oh, ow = y.shape[2], y.shape[3]
    for plane in prange(n * filters):
        k, f = plane // filters, plane % filters
        image, b = xpad[k], bias[f]
        w00, w01, w02 = w[f, 0, 0], w[f, 0, 1], w[f, 0, 2]
        w10, w11, w12 = w[f, 1, 0], w[f, 1, 1], w[f, 1, 2]
        w20, w21, w22 = w[f, 2, 0], w[f, 2, 1], w[f, 2, 2]
        for oy in range(oh):
            out = y[k, f, oy]
            r0, r1, r2 = image[oy], image[oy + 1], image[oy + 2]
            for t in range(ow):
                out[t] = (b + w00 * r0[t] + w01 * r0[t + 1] + w02 * r0[t + 2]
                          + w10 * r1[t] + w11 * r1[t + 1] + w12 * r1[t + 2]
                          + w20 * r2[t] + w21 * r2[t + 1] + w22 * r2[t + 2])


@njit(inline="always")
def _row_sums(g0, r0, r1, r2, zero):
    """The ten sums of one gradient row ``g0`` against the padded input rows ``r0 .. r2``
    it reads: ``(sum g0, sum g0 * r_i[t + j] for i, j < 3)``, in one vectorised loop."""
    sb = s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = zero
    for t in range(g0.shape[0]):
        v = g0[t]
        sb += v
        s00 += v * r0[t]
        s01 += v * r0[t + 1]
        s02 += v * r0[t + 2]
        s10 += v * r1[t]
        s11 += v * r1[t + 1]
        s12 += v * r1[t + 2]
        s20 += v * r2[t]
        s21 += v * r2[t + 1]
        s22 += v * r2[t + 2]
    return sb, s00, s01, s02, s10, s11, s12, s20, s21, s22


@njit(inline="always")
def _row_pair_sums(g0, g1, r0, r1, r2, r3, zero):
    """:func:`_row_sums` of two consecutive gradient rows together (``g1`` reads ``r1 ..
    r3``), in one loop: half the final reductions, and six input streams rather than the
    ten of four rows, which the hardware prefetcher keeps up with."""
    sb = s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = zero
    for t in range(g0.shape[0]):
        a, b = g0[t], g1[t]
        sb += a + b
        s00 += a * r0[t] + b * r1[t]
        s01 += a * r0[t + 1] + b * r1[t + 1]
        s02 += a * r0[t + 2] + b * r1[t + 2]
        s10 += a * r1[t] + b * r2[t]
        s11 += a * r1[t + 1] + b * r2[t + 1]
        s12 += a * r1[t + 2] + b * r2[t + 2]
        s20 += a * r2[t] + b * r3[t]
        s21 += a * r2[t + 1] + b * r3[t + 1]
        s22 += a * r2[t + 2] + b * r3[t + 2]
    return sb, s00, s01, s02, s10, s11, s12, s20, s21, s22


@njit(inline="always")
def _add_sums(gw, grad_b, f, sums):
    """Add the ten sums of :func:`_row_sums` into the bias total ``grad_b[f]`` and the
    taps ``gw (3, 3)``."""
    grad_b[f] += sums[0]
    for i in range(3):
        for j in range(3):
            gw[i, j] += sums[1 + 3 * i + j]


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _conv3x3_backward_one_channel(xpad, g, grad_ws, grad_bs, zero):
    """:func:`_conv_backward_one_channel` for the same case: the ten sums (bias and nine
    taps) of two gradient rows at a time in one vectorised loop (:func:`_row_pair_sums`;
    an odd last row alone), those sums in the input's type (``zero``), the running totals
    in double, one partial per thread."""
    n, filters, oh, ow = g.shape
    for plane in prange(n * filters):
        thread = numba.get_thread_id()
        k, f = plane // filters, plane % filters
        image, grads, gw = xpad[k], g[k, f], grad_ws[thread, f]
        for oy in range(0, oh - 1, 2):
            _add_sums(gw, grad_bs[thread], f,
                      _row_pair_sums(grads[oy], grads[oy + 1], image[oy], image[oy + 1],
                                     image[oy + 2], image[oy + 3], zero))
        if oh % 2:
            _add_sums(gw, grad_bs[thread], f,
                      _row_sums(grads[oh - 1], image[oh - 1], image[oh], image[oh + 1], zero))


@njit(parallel=True, cache=True)
def _conv_forward_tap_groups(xpad, w, bias, y):
    """:func:`_conv_forward_one_channel` at stride 1 without dilation on a padded input
    ``xpad (N, OH + kh - 1, OW + G*8 - 1)`` with ``w (F, kh, G*8)`` (each kernel row's taps
    followed by zeros up to ``G`` groups of :data:`TAP_GROUP`): per output row and kernel
    row ``i``, one pass per group, ``out[t] += sum over q < 8 of w[f, i, j + q] *
    xpad[oy + i, t + j + q]``, eight products for each load and store of ``out``."""
    n, filters = xpad.shape[0], w.shape[0]
    kh, groups = w.shape[1], w.shape[2] // 8
    oh = y.shape[2]
    for plane in prange(n * filters):
        k, f = plane // filters, plane % filters
        image, b = xpad[k], bias[f]
        for oy in range(oh):
            out = y[k, f, oy]
            out[:] = b
            for i in range(kh):
                row = image[oy + i]
                for j in range(0, 8 * groups, 8):
                    w0, w1, w2, w3 = w[f, i, j], w[f, i, j + 1], w[f, i, j + 2], w[f, i, j + 3]
                    w4, w5, w6, w7 = w[f, i, j + 4], w[f, i, j + 5], w[f, i, j + 6], w[f, i, j + 7]
                    r = row[j:]
                    for t in range(out.shape[0]):
                        out[t] += (w0 * r[t] + w1 * r[t + 1] + w2 * r[t + 2] + w3 * r[t + 3]
                                   + w4 * r[t + 4] + w5 * r[t + 5] + w6 * r[t + 6]
                                   + w7 * r[t + 7])


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _conv_backward_tap_groups(xpad, g, grad_ws, grad_bs, zero):
    """The weight and bias gradients of :func:`_conv_forward_tap_groups`: per gradient row
    and kernel row, the eight sums of a group of taps in one vectorised pass, each row's
    sums in the input's type (``zero``), the running totals in double, one partial per
    thread ``grad_ws (threads, F, kh, G*8)`` (the zero taps' sums are left unused)."""
    n, filters, oh, ow = g.shape
    kh, width = grad_ws.shape[2], grad_ws.shape[3]
    for plane in prange(n * filters):
        thread = numba.get_thread_id()
        k, f = plane // filters, plane % filters
        image = xpad[k]
        for oy in range(oh):
            grad_row = g[k, f, oy]
            grad_bs[thread, f] += _row_total(grad_row, zero)
            for i in range(kh):
                row, sums = image[oy + i], grad_ws[thread, f, i]
                for j in range(0, width, 8):
                    r = row[j:]
                    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
                    for t in range(ow):
                        v = grad_row[t]
                        s0 += v * r[t]
                        s1 += v * r[t + 1]
                        s2 += v * r[t + 2]
                        s3 += v * r[t + 3]
                        s4 += v * r[t + 4]
                        s5 += v * r[t + 5]
                        s6 += v * r[t + 6]
                        s7 += v * r[t + 7]
                    sums[j] += s0
                    sums[j + 1] += s1
                    sums[j + 2] += s2
                    sums[j + 3] += s3
                    sums[j + 4] += s4
                    sums[j + 5] += s5
                    sums[j + 6] += s6
                    sums[j + 7] += s7


def padded_one_channel(x, win: Window, extra: int = 0):
    """``x (N, 1, H, W)`` -> ``(N, H + 2ph, W + 2pw + extra)`` with zero borders (``extra``
    more zero columns on the right)."""
    n, _, h, w = x.shape
    xpad = POOL.empty((n, h + 2 * win.ph, w + 2 * win.pw + extra), x.dtype)
    xpad[:, :win.ph] = 0
    xpad[:, h + win.ph:] = 0
    xpad[:, :, :win.pw] = 0
    xpad[:, :, w + win.pw:] = 0
    xpad[:, win.ph:h + win.ph, win.pw:w + win.pw] = x[:, 0]
    return xpad


def is_3x3_stride_1(win: Window) -> bool:
    return (win.kh, win.kw, win.sh, win.sw, win.dh, win.dw) == (3, 3, 1, 1, 1, 1)


def _takes_tap_groups(win: Window) -> bool:
    """Stride 1 without dilation: the windows the tap-group kernels serve."""
    return (win.sh, win.sw, win.dh, win.dw) == (1, 1, 1, 1)


def _tap_groups(win: Window) -> int:
    """How many groups of :data:`TAP_GROUP` taps a kernel row takes."""
    return -(-win.kw // TAP_GROUP)


def _grouped_taps(weight, win: Window):
    """``(F, kh, G*8)``: the weight's kernel rows, each followed by zero taps."""
    taps = np.zeros((weight.shape[0], win.kh, TAP_GROUP * _tap_groups(win)), weight.dtype)
    taps[:, :, :win.kw] = weight[:, 0]
    return taps


def _grouped_padding(win: Window) -> int:
    """Zero columns after the padded input so the last group's zero taps read inside it."""
    return TAP_GROUP * _tap_groups(win) - win.kw


def conv_one_channel_forward(x, weight, bias, y, win: Window) -> None:
    """``y (N, F, OH, OW)`` of a one-channel ``x``, weight ``(F, 1, kh, kw)``, bias ``(F,)``."""
    if is_3x3_stride_1(win):
        _conv3x3_forward_one_channel(padded_one_channel(x, win),
                                     np.ascontiguousarray(weight[:, 0]), bias, y)
    elif _takes_tap_groups(win):
        _conv_forward_tap_groups(padded_one_channel(x, win, _grouped_padding(win)),
                                 _grouped_taps(weight, win), bias, y)
    else:
        _conv_forward_one_channel(x, np.ascontiguousarray(weight[:, 0]), bias, y,
                                  *geometry(win, *y.shape[2:]))


def conv_one_channel_weight_bias_grads(g, x, weight, win: Window):
    """(dW, db) of a one-channel convolution, from the direct kernel."""
    threads, f = numba.get_num_threads(), weight.shape[0]
    grad_bs = np.zeros((threads, f), np.float64)
    zero = x.dtype.type(0)
    if is_3x3_stride_1(win):
        grad_ws = np.zeros((threads,) + weight[:, 0].shape, np.float64)
        _conv3x3_backward_one_channel(padded_one_channel(x, win), g, grad_ws, grad_bs, zero)
    elif _takes_tap_groups(win):
        grad_ws = np.zeros((threads, f, win.kh, TAP_GROUP * _tap_groups(win)), np.float64)
        _conv_backward_tap_groups(padded_one_channel(x, win, _grouped_padding(win)), g,
                                  grad_ws, grad_bs, zero)
        grad_ws = grad_ws[..., :win.kw]
    else:
        grad_ws = np.zeros((threads,) + weight[:, 0].shape, np.float64)
        _conv_backward_one_channel(x, g, grad_ws, grad_bs, zero, *geometry(win, *g.shape[2:]))
    return (grad_ws.sum(axis=0).astype(x.dtype).reshape(weight.shape),
            grad_bs.sum(axis=0).astype(x.dtype))
