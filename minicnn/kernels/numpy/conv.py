"""The ``numpy`` set's depthwise convolution: a sum over the ``kh x kw`` kernel offsets of
one strided slice of the padded batch times a per-channel weight. Written against the input's
array module, so it serves CuPy arrays too (the ``cupy`` set uses it as it is).

With the output viewed as ``(N, C, m, OH, OW)`` and the weight as ``(C, m, kh, kw)``, and
``s_ij = xpad[:, :, i*dh : ... : sh, j*dw : ... : sw]`` ``(N, C, OH, OW)`` the slice that
kernel offset (i, j) reads::

    y             = b + sum_{i,j} s_ij[:, :, None] * w[:, :, i, j]
    dw[:, :, i, j] = sum_{n, oy, ox} g * s_ij[:, :, None]
    dxpad[slice_ij] += sum_k g[:, :, k] * w[:, k, i, j]
"""
from __future__ import annotations

from ...backend import xp_of
from ..window import Window
from .window import offset_slices


def _padded(x, win: Window):
    xp = xp_of(x)
    if not (win.ph or win.pw):
        return x
    return xp.pad(x, ((0, 0), (0, 0), (win.ph, win.ph), (win.pw, win.pw)))


def depthwise_conv2d_forward(x, weight, bias, win: Window):
    xp = xp_of(x)
    n, c, h, w = x.shape
    m = weight.shape[0] // c
    oh, ow = win.out_shape(h, w)
    padded = _padded(x, win)
    w4 = weight.reshape(c, m, win.kh, win.kw)
    y = xp.zeros((n, c, m, oh, ow), dtype=x.dtype)
    for i in range(win.kh):
        for j in range(win.kw):
            rows, cols = offset_slices(win, i, j, oh, ow)
            y += padded[:, :, None, rows, cols] * w4[:, :, i, j, None, None]
    if bias is not None:
        y += bias.reshape(1, c, m, 1, 1)
    return y.reshape(n, c * m, oh, ow), None


def depthwise_conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True,
                              need_b=True):
    xp = xp_of(g)
    n, c, h, w = x.shape
    m = weight.shape[0] // c
    oh, ow = g.shape[2:]
    g5 = g.reshape(n, c, m, oh, ow)
    w4 = weight.reshape(c, m, win.kh, win.kw)
    padded = _padded(x, win) if need_w else None
    grad_pad = xp.zeros((n, c, h + 2 * win.ph, w + 2 * win.pw), x.dtype) if need_x else None
    grad_w = xp.empty((c, m, win.kh, win.kw), weight.dtype) if need_w else None
    for i in range(win.kh):
        for j in range(win.kw):
            rows, cols = offset_slices(win, i, j, oh, ow)
            if need_w:
                grad_w[:, :, i, j] = xp.einsum("nckpq,ncpq->ck", g5, padded[:, :, rows, cols])
            if need_x:
                grad_pad[:, :, rows, cols] += xp.einsum("nckpq,ck->ncpq", g5, w4[:, :, i, j])
    grad_x = None
    if need_x:
        grad_x = xp.ascontiguousarray(grad_pad[:, :, win.ph:win.ph + h, win.pw:win.pw + w])
    return (grad_x, None if grad_w is None else grad_w.reshape(weight.shape),
            g.sum(axis=(0, 2, 3)) if need_b else None)
