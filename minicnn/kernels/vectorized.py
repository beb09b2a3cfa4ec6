"""Vectorised kernels: the contract of ``minicnn/kernels/__init__.py`` with array slicing.

im2col loops only over the ``kh x kw`` kernel offsets and copies, for each, one strided
slice of the whole padded batch (Chainer's way); col2im adds the same slices back.
Written against the array module of the input, so NumPy and CuPy arrays both work.
"""
from __future__ import annotations

import sys

from ..backend import xp_of
from .generic import (batchnorm_apply, batchnorm_backward, batchnorm_inv_std, batchnorm_stats,  # noqa: F401
                      batchnorm_relu_maxpool_kernels, conv_kernels, relu_backward, relu_forward)
from .window import Window


def _offset_slices(win: Window, i: int, j: int, oh: int, ow: int) -> tuple[slice, slice]:
    """Rows and columns of the padded input read at kernel offset (i, j)."""
    y0, x0 = i * win.dh, j * win.dw
    return slice(y0, y0 + win.sh * (oh - 1) + 1, win.sh), slice(x0, x0 + win.sw * (ow - 1) + 1, win.sw)


def im2col(x, win: Window, pad_value: float = 0.0):
    xp = xp_of(x)
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    padded = xp.pad(x, ((0, 0), (0, 0), (win.ph, win.ph), (win.pw, win.pw)),
                    constant_values=pad_value) if (win.ph or win.pw) else x
    col = xp.empty((n, c, win.kh, win.kw, oh, ow), dtype=x.dtype)
    for i in range(win.kh):
        for j in range(win.kw):
            rows, cols = _offset_slices(win, i, j, oh, ow)
            col[:, :, i, j] = padded[:, :, rows, cols]
    return col


def col2im(col, win: Window, h: int, w: int):
    xp = xp_of(col)
    n, c, _, _, oh, ow = col.shape
    padded = xp.zeros((n, c, h + 2 * win.ph, w + 2 * win.pw), dtype=col.dtype)
    for i in range(win.kh):
        for j in range(win.kw):
            rows, cols = _offset_slices(win, i, j, oh, ow)
            padded[:, :, rows, cols] += col[:, :, i, j]
    return padded[:, :, win.ph:win.ph + h, win.pw:win.pw + w]


def maxpool2d_forward(x, win: Window):
    xp = xp_of(x)
    n, c = x.shape[:2]
    col = im2col(x, win, pad_value=-xp.inf)
    oh, ow = col.shape[-2:]
    col = col.reshape(n, c, win.kh * win.kw, oh, ow)
    argmax = col.argmax(axis=2)  # first maximum wins ties, row-major over (i, j)
    y = xp.take_along_axis(col, argmax[:, :, None], axis=2)[:, :, 0]
    return y, argmax.astype(xp.int64, copy=False)


def maxpool2d_backward(grad_y, argmax, win: Window, h: int, w: int):
    xp = xp_of(grad_y)
    n, c, oh, ow = grad_y.shape
    offsets = xp.arange(win.kh * win.kw).reshape(1, 1, -1, 1, 1)
    grad_col = xp.where(offsets == argmax[:, :, None], grad_y[:, :, None], 0).astype(grad_y.dtype)
    return col2im(grad_col.reshape(n, c, win.kh, win.kw, oh, ow), win, h, w)


conv2d_forward, conv2d_backward = conv_kernels(im2col, col2im)


(batchnorm_relu_maxpool_forward,
 batchnorm_relu_maxpool_backward) = batchnorm_relu_maxpool_kernels(sys.modules[__name__])
