"""The ``numpy`` set's max pooling: argmax over the kernel axis of ``im2col``'s columns."""
from __future__ import annotations

from ...backend import xp_of
from ..window import Window
from .window import col2im, im2col


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
    grad_col = xp.where(offsets == argmax[:, :, None], grad_y[:, :, None], 0)
    return col2im(grad_col.astype(grad_y.dtype).reshape(n, c, win.kh, win.kw, oh, ow),
                  win, h, w)
