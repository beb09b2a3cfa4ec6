"""The ``numpy`` set's ``im2col`` and ``col2im``: one strided slice per kernel offset.

im2col loops only over the ``kh x kw`` kernel offsets and copies, for each, one strided
slice of the whole padded batch; col2im adds the same slices back. Written against the
array module of the input, so NumPy and CuPy arrays both work.
"""
from __future__ import annotations

from ...backend import xp_of
from ..window import Window


def offset_slices(win: Window, i: int, j: int, oh: int, ow: int) -> tuple[slice, slice]:
    """Rows and columns of the padded input read at kernel offset (i, j)."""
    y0, x0 = i * win.dh, j * win.dw
    return (slice(y0, y0 + win.sh * (oh - 1) + 1, win.sh),
            slice(x0, x0 + win.sw * (ow - 1) + 1, win.sw))


def im2col(x, win: Window, *, pad_value: float = 0.0):
    xp = xp_of(x)
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    padded = xp.pad(x, ((0, 0), (0, 0), (win.ph, win.ph), (win.pw, win.pw)),
                    constant_values=pad_value) if (win.ph or win.pw) else x
    col = xp.empty((n, c, win.kh, win.kw, oh, ow), dtype=x.dtype)
    for i in range(win.kh):
        for j in range(win.kw):
            rows, cols = offset_slices(win, i, j, oh, ow)
            col[:, :, i, j] = padded[:, :, rows, cols]
    return col


def col2im(col, win: Window, h: int, w: int):
    xp = xp_of(col)
    n, c, _, _, oh, ow = col.shape
    padded = xp.zeros((n, c, h + 2 * win.ph, w + 2 * win.pw), dtype=col.dtype)
    for i in range(win.kh):
        for j in range(win.kw):
            rows, cols = offset_slices(win, i, j, oh, ow)
            padded[:, :, rows, cols] += col[:, :, i, j]
    return padded[:, :, win.ph:win.ph + h, win.pw:win.pw + w]
