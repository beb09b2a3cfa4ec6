"""The reference depthwise convolution: one loop iteration per (output entry, kernel tap)."""
from __future__ import annotations

import numpy as np

from ..window import Window
from .window import taps


def depthwise_conv2d_forward(x, weight, bias, win: Window):
    """``y[n, f, oy, ox] = b[f] + sum_{i,j} w[f, 0, i, j] * x[n, f // m, y, x]`` over the
    taps that read inside the input (padding reads zeros); saves nothing."""
    n, c, h, w = x.shape
    filters, m = weight.shape[0], weight.shape[0] // c
    oh, ow = win.out_shape(h, w)
    y = np.zeros((n, filters, oh, ow), dtype=x.dtype)
    for b, f, i, j, oy, ox, yy, xx in taps((n, filters), win, h, w, oh, ow):
        y[b, f, oy, ox] += weight[f, 0, i, j] * x[b, f // m, yy, xx]
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y, None


def depthwise_conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True,
                              need_b=True):
    """Each tap's product differentiated: ``dx[n, f // m, y, x] += w[f, 0, i, j] * g`` and
    ``dw[f, 0, i, j] += g * x[n, f // m, y, x]``; ``db[f]`` the sum of ``g[:, f]``."""
    n, c, h, w = x.shape
    filters, m = weight.shape[0], weight.shape[0] // c
    oh, ow = g.shape[2:]
    grad_x, grad_w = np.zeros_like(x), np.zeros_like(weight)
    for b, f, i, j, oy, ox, yy, xx in taps((n, filters), win, h, w, oh, ow):
        grad_x[b, f // m, yy, xx] += weight[f, 0, i, j] * g[b, f, oy, ox]
        grad_w[f, 0, i, j] += g[b, f, oy, ox] * x[b, f // m, yy, xx]
    grad_b = g.sum(axis=(0, 2, 3))
    return (grad_x if need_x else None), (grad_w if need_w else None), \
        (grad_b if need_b else None)
