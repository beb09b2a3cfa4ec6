"""The ``numba`` set's ``im2col`` and ``col2im``, in two column layouts.

Channel-major, ``(C*kh*kw, OH*OW)`` per sample, serves the contract's ``im2col``/``col2im``
(average pooling reads that layout as it is) and the stacked convolution
(:mod:`.conv_batched`, whose products take the weight as it is stored); with stride 1 each
output row is one contiguous slice copy. Pixel-major, ``(OH*OW, kh*kw*C)`` with the
channels innermost, is the layout the per-sample convolution multiplies (:mod:`.conv`):
each output pixel and tap copies C consecutive numbers.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..window import Window


@njit(cache=True)
def valid_range(offset, stride, size, out):
    """Output positions ``o`` in [lo, hi) whose input index ``o*stride + offset`` is in
    [0, size)."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = 0 if offset >= size else min(out, (size - 1 - offset) // stride + 1)
    return lo, max(hi, lo)


@njit(cache=True)
def im2col_sample(x, col, pad, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """x ``(C, H, W)`` -> col ``(C*kh*kw, oh*ow)``, ``pad`` where the window reads padding.
    Each output row's inside part is one slice copy at stride 1, else one loop over a view
    that starts at the row's first input pixel (stride ``sw``); its padded ends plain fills."""
    channels, h, w = x.shape
    for c in range(channels):
        plane = x[c]
        for i in range(kh):
            for j in range(kw):
                row = col[(c * kh + i) * kw + j]
                x0 = j * dw - pw
                lo, hi = valid_range(x0, sw, w, ow)
                first = lo * sw + x0
                for oy in range(oh):
                    y = oy * sh + i * dh - ph
                    out = row[oy * ow:(oy + 1) * ow]
                    inside = hi - lo if 0 <= y < h else 0
                    end = lo + inside
                    for ox in range(lo if inside else ow):
                        out[ox] = pad
                    for ox in range(end, ow if inside else 0):
                        out[ox] = pad
                    if inside and sw == 1:
                        out[lo:end] = plane[y, first:first + inside]
                    elif inside:
                        src, dst = plane[y, first:], out[lo:end]
                        for k in range(inside):
                            dst[k] = src[k * sw]


@njit(cache=True)
def col2im_sample(col, x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The adjoint: add col ``(C*kh*kw, oh*ow)`` back into x ``(C, H, W)`` (zeroed first),
    each output row's inside part as one slice at stride 1, else in one loop over a view of
    the input row from its first pixel (stride ``sw``)."""
    channels, h, w = x.shape
    x[:] = 0
    for c in range(channels):
        plane = x[c]
        for i in range(kh):
            for j in range(kw):
                row = col[(c * kh + i) * kw + j]
                x0 = j * dw - pw
                lo, hi = valid_range(x0, sw, w, ow)
                first = lo * sw + x0
                for oy in range(oh):
                    y = oy * sh + i * dh - ph
                    if 0 <= y < h and hi > lo:
                        src = row[oy * ow + lo:oy * ow + hi]
                        if sw == 1:
                            plane[y, first:first + hi - lo] += src
                        else:
                            dst = plane[y, first:]
                            for k in range(hi - lo):
                                dst[k * sw] += src[k]


@njit(parallel=True, cache=True)
def _im2col_batch(x, col, pad, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    for k in prange(x.shape[0]):
        im2col_sample(x[k], col[k], pad, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit(parallel=True, cache=True)
def _col2im_batch(col, x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    for k in prange(x.shape[0]):
        col2im_sample(col[k], x[k], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit(cache=True, inline="always")
def _column_runs(parity, pw, w, width, halves):
    """Where the image's columns ``x`` whose padded column ``q = pw + x`` has ``parity``
    (every column when not ``halves``) land in a plane row of ``width`` pixels: the first
    ``x``, the step in ``x``, how many, and the first pixel's place in the row."""
    if not halves:
        return 0, 1, w, pw
    x0 = (parity - pw) % 2
    return x0, 2, max(0, (w - x0 + 1) // 2), parity * (width // 2) + (pw + x0) // 2


@njit(cache=True)
def padded_channels_last(src, plane, ph, pw, halves=False):
    """``plane[ph + y, pw + x, c] = src[c, y, x]``, zeros elsewhere; src ``(C, H, W)``,
    plane at least ``(H + ph, W + pw, C)``, C-contiguous. Row by row: each of ``src``'s
    rows is written with a stride of C numbers into one plane row (flat), which stays in
    cache while every channel's row lands in it. ``halves`` (an even plane width ``W'``):
    each plane row holds its even padded columns first, then its odd ones, padded column
    ``q`` at pixel ``(q % 2) * W'/2 + q // 2``."""
    channels, h, w = src.shape
    width = plane.shape[1]
    plane[:ph] = 0
    plane[ph + h:] = 0
    for y in range(h):
        row = plane[ph + y].reshape(-1)
        if halves:
            row[:] = 0
        else:
            row[:pw * channels] = 0
            row[(pw + w) * channels:] = 0
        for parity in range(2 if halves else 1):
            x0, step, count, first = _column_runs(parity, pw, w, width, halves)
            for c in range(channels):
                line, out = src[c, y], row[first * channels + c:]
                for i in range(count):
                    out[i * channels] = line[x0 + i * step]


@njit(cache=True)
def to_channels_last(x, scratch):
    """``scratch (H, W, C) = x (C, H, W)`` transposed."""
    padded_channels_last(x, scratch, 0, 0)


@njit(cache=True)
def pixel_major_rows(scratch, col_t, oy_lo, oy_hi, kh, kw, sh, sw, ph, pw, dh, dw, ow):
    """Output rows ``oy_lo .. oy_hi - 1`` of the pixel-major im2col from ``scratch
    (H, W, C)`` (the input channels last): ``col_t[(oy - oy_lo)*ow + ox]`` gets, for each
    tap (i, j), the C channel values of the pixel the tap reads (zeros for padding), a
    copy of C consecutive numbers. Columns are ordered (i, j, c)."""
    h, w, channels = scratch.shape
    for oy in range(oy_lo, oy_hi):
        band = col_t[(oy - oy_lo) * ow:(oy - oy_lo + 1) * ow]
        for i in range(kh):
            y = oy * sh + i * dh - ph
            for j in range(kw):
                c0 = (i * kw + j) * channels
                x0 = j * dw - pw
                lo, hi = valid_range(x0, sw, w, ow)
                if y < 0 or y >= h:
                    lo, hi = 0, 0
                for ox in range(ow):
                    dst = band[ox]
                    if lo <= ox < hi:
                        src = scratch[y, ox * sw + x0]
                        for c in range(channels):
                            dst[c0 + c] = src[c]
                    else:
                        for c in range(channels):
                            dst[c0 + c] = 0


@njit(cache=True)
def add_pixel_major_rows(col_t, scratch, oy_lo, oy_hi, kh, kw, sh, sw, ph, pw, dh, dw, ow):
    """The adjoint of :func:`pixel_major_rows`: those output rows of ``col_t`` are added
    into ``scratch (H, W, C)`` (C consecutive numbers per output pixel and tap)."""
    h, w, channels = scratch.shape
    for oy in range(oy_lo, oy_hi):
        band = col_t[(oy - oy_lo) * ow:(oy - oy_lo + 1) * ow]
        for i in range(kh):
            y = oy * sh + i * dh - ph
            if y < 0 or y >= h:
                continue
            dst = scratch[y]
            for j in range(kw):
                x0 = j * dw - pw
                lo, hi = valid_range(x0, sw, w, ow)
                c0 = (i * kw + j) * channels
                for ox in range(lo, hi):
                    pixel, src = dst[ox * sw + x0], band[ox]
                    for c in range(channels):
                        pixel[c] += src[c0 + c]


@njit(cache=True)
def from_channels_last(plane, x, ph=0, pw=0, bias=None, halves=False):
    """``x[c, y, xx] = plane[ph + y, pw + xx, c]`` (plus ``bias[c]`` when given): the
    adjoint of :func:`padded_channels_last` (``halves`` as there), row by row, each plane
    row (flat) read with a stride of C numbers."""
    channels, h, w = x.shape
    width = plane.shape[1]
    for y in range(h):
        row = plane[ph + y].reshape(-1)
        for parity in range(2 if halves else 1):
            x0, step, count, first = _column_runs(parity, pw, w, width, halves)
            for c in range(channels):
                line, src = x[c, y], row[first * channels + c:]
                if bias is None:
                    for i in range(count):
                        line[x0 + i * step] = src[i * channels]
                else:
                    b = bias[c]
                    for i in range(count):
                        line[x0 + i * step] = src[i * channels] + b


def geometry(win: Window, oh: int, ow: int) -> tuple:
    return (win.kh, win.kw, win.sh, win.sw, win.ph, win.pw, win.dh, win.dw, oh, ow)


def im2col(x, win: Window, *, pad_value: float = 0.0):
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    col = np.empty((n, c * win.kh * win.kw, oh * ow), x.dtype)
    _im2col_batch(np.ascontiguousarray(x), col, x.dtype.type(pad_value), *geometry(win, oh, ow))
    return col.reshape(n, c, win.kh, win.kw, oh, ow)


def col2im(col, win: Window, h: int, w: int):
    n, c, kh, kw, oh, ow = col.shape
    x = np.empty((n, c, h, w), col.dtype)
    _col2im_batch(np.ascontiguousarray(col).reshape(n, c * kh * kw, oh * ow), x,
                  *geometry(win, oh, ow))
    return x
