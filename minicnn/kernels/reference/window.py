"""The reference ``im2col`` and ``col2im``: one loop iteration per column entry."""
from __future__ import annotations

import numpy as np

from ..window import Window


def taps(shape_nc: tuple, win: Window, h: int, w: int, oh: int, ow: int):
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


def im2col(x, win: Window, *, pad_value: float = 0.0):
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    col = np.full((n, c, win.kh, win.kw, oh, ow), pad_value, dtype=x.dtype)
    for b, ch, i, j, oy, ox, y, xx in taps((n, c), win, h, w, oh, ow):
        col[b, ch, i, j, oy, ox] = x[b, ch, y, xx]
    return col


def col2im(col, win: Window, h: int, w: int):
    n, c, _, _, oh, ow = col.shape
    x = np.zeros((n, c, h, w), dtype=col.dtype)
    for b, ch, i, j, oy, ox, y, xx in taps((n, c), win, h, w, oh, ow):
        x[b, ch, y, xx] += col[b, ch, i, j, oy, ox]
    return x
