"""The reference max pooling: every window scanned tap by tap."""
from __future__ import annotations

import numpy as np

from ..window import Window
from .window import im2col, taps


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
    for b, ch, i, j, oy, ox, y, xx in taps((n, c), win, h, w, oh, ow):
        if argmax[b, ch, oy, ox] == i * win.kw + j:
            grad_x[b, ch, y, xx] += grad_y[b, ch, oy, ox]
    return grad_x
