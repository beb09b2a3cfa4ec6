"""Reference kernels: the contract of ``minicnn/kernels/__init__.py`` in plain loops.

Slow on purpose: every index is written out, so a reader can check each formula and
the tests can hold the fast sets to these. Use on small arrays only.
"""
from __future__ import annotations

import sys

import numpy as np

from .generic import (batchnorm_apply, batchnorm_backward, batchnorm_inv_std, batchnorm_stats,  # noqa: F401
                      batchnorm_relu_maxpool_kernels, conv_kernels, relu_backward, relu_forward)
from .window import Window


def _taps(shape_nc: tuple, win: Window, h: int, w: int, oh: int, ow: int):
    """Every (n, c, i, j, oy, ox, y, x) where output pixel (oy, ox) at kernel offset (i, j)
    reads the input pixel (y, x) = (oy*sh + i*dh - ph, ox*sw + j*dw - pw), when it lies
    inside the unpadded input."""
    for b in range(shape_nc[0]):
        for ch in range(shape_nc[1]):
            for i in range(win.kh):
                for j in range(win.kw):
                    for oy in range(oh):
                        for ox in range(ow):
                            y = oy * win.sh + i * win.dh - win.ph
                            x = ox * win.sw + j * win.dw - win.pw
                            if 0 <= y < h and 0 <= x < w:
                                yield b, ch, i, j, oy, ox, y, x


def im2col(x, win: Window, pad_value: float = 0.0):
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    col = np.full((n, c, win.kh, win.kw, oh, ow), pad_value, dtype=x.dtype)
    for b, ch, i, j, oy, ox, y, xx in _taps((n, c), win, h, w, oh, ow):
        col[b, ch, i, j, oy, ox] = x[b, ch, y, xx]
    return col


def col2im(col, win: Window, h: int, w: int):
    n, c, _, _, oh, ow = col.shape
    x = np.zeros((n, c, h, w), dtype=col.dtype)
    for b, ch, i, j, oy, ox, y, xx in _taps((n, c), win, h, w, oh, ow):
        x[b, ch, y, xx] += col[b, ch, i, j, oy, ox]
    return x


def maxpool2d_forward(x, win: Window):
    """Scan each window in row-major (i, j) order, padding read as -inf; a strict ``>``
    keeps the first maximum on ties."""
    col = im2col(x, win, pad_value=-np.inf)
    n, c, _, _, oh, ow = col.shape
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for oy in range(oh):
                for ox in range(ow):
                    best, best_k = -np.inf, 0
                    for i in range(win.kh):
                        for j in range(win.kw):
                            if col[b, ch, i, j, oy, ox] > best:
                                best, best_k = col[b, ch, i, j, oy, ox], i * win.kw + j
                    y[b, ch, oy, ox] = best
                    argmax[b, ch, oy, ox] = best_k
    return y, argmax


def maxpool2d_backward(grad_y, argmax, win: Window, h: int, w: int):
    n, c, oh, ow = grad_y.shape
    grad_x = np.zeros((n, c, h, w), dtype=grad_y.dtype)
    for b, ch, i, j, oy, ox, y, xx in _taps((n, c), win, h, w, oh, ow):
        if argmax[b, ch, oy, ox] == i * win.kw + j:
            grad_x[b, ch, y, xx] += grad_y[b, ch, oy, ox]
    return grad_x


conv2d_forward, conv2d_backward = conv_kernels(im2col, col2im)


(batchnorm_relu_maxpool_forward,
 batchnorm_relu_maxpool_backward) = batchnorm_relu_maxpool_kernels(sys.modules[__name__])
