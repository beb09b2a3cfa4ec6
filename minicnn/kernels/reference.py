"""Reference kernels: the contract of ``minicnn/kernels/__init__.py`` in plain loops.

Slow on purpose: every index is written out, so a reader can check each formula and
the tests can hold the fast sets to these. Use on small arrays only.
"""
from __future__ import annotations

import numpy as np

from .window import Window


def _source(win: Window, oy: int, ox: int, i: int, j: int) -> tuple[int, int]:
    """The unpadded input pixel (y, x) read by output (oy, ox) at kernel offset (i, j)."""
    return oy * win.sh + i * win.dh - win.ph, ox * win.sw + j * win.dw - win.pw


def im2col(x, win: Window, pad_value: float = 0.0):
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    col = np.full((n, c, win.kh, win.kw, oh, ow), pad_value, dtype=x.dtype)
    for b in range(n):
        for ch in range(c):
            for i in range(win.kh):
                for j in range(win.kw):
                    for oy in range(oh):
                        for ox in range(ow):
                            y, xx = _source(win, oy, ox, i, j)
                            if 0 <= y < h and 0 <= xx < w:
                                col[b, ch, i, j, oy, ox] = x[b, ch, y, xx]
    return col


def col2im(col, win: Window, h: int, w: int):
    n, c, _, _, oh, ow = col.shape
    x = np.zeros((n, c, h, w), dtype=col.dtype)
    for b in range(n):
        for ch in range(c):
            for i in range(win.kh):
                for j in range(win.kw):
                    for oy in range(oh):
                        for ox in range(ow):
                            y, xx = _source(win, oy, ox, i, j)
                            if 0 <= y < h and 0 <= xx < w:
                                x[b, ch, y, xx] += col[b, ch, i, j, oy, ox]
    return x


def maxpool2d_forward(x, win: Window):
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for oy in range(oh):
                for ox in range(ow):
                    best, best_k = -np.inf, 0
                    for i in range(win.kh):
                        for j in range(win.kw):
                            yy, xx = _source(win, oy, ox, i, j)
                            inside = 0 <= yy < h and 0 <= xx < w
                            value = x[b, ch, yy, xx] if inside else -np.inf
                            if value > best:  # strict: ties keep the first maximum
                                best, best_k = value, i * win.kw + j
                    y[b, ch, oy, ox] = best
                    argmax[b, ch, oy, ox] = best_k
    return y, argmax


def maxpool2d_backward(grad_y, argmax, win: Window, h: int, w: int):
    n, c, oh, ow = grad_y.shape
    grad_x = np.zeros((n, c, h, w), dtype=grad_y.dtype)
    for b in range(n):
        for ch in range(c):
            for oy in range(oh):
                for ox in range(ow):
                    i, j = divmod(int(argmax[b, ch, oy, ox]), win.kw)
                    yy, xx = _source(win, oy, ox, i, j)
                    if 0 <= yy < h and 0 <= xx < w:
                        grad_x[b, ch, yy, xx] += grad_y[b, ch, oy, ox]
    return grad_x
