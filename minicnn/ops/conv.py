"""2-d convolution (cross-correlation, as in every deep learning library).

Shapes: x ``(N, C, H, W)``, weight ``(F, C, kh, kw)``, bias ``(F,)``, y ``(N, F, OH, OW)``.

Forward, with ``col = im2col(x)`` of shape ``(N, C, kh, kw, OH, OW)``::

    y[n, f, oy, ox] = b[f] + sum_{c,i,j} W[f, c, i, j] * col[n, c, i, j, oy, ox]

Backward, for ``g = dL/dy``::

    dL/dW[f, c, i, j]        = sum_{n,oy,ox} g[n, f, oy, ox] * col[n, c, i, j, oy, ox]
    dL/db[f]                 = sum_{n,oy,ox} g[n, f, oy, ox]
    dL/dcol[n, c, i, j, oy, ox] = sum_f W[f, c, i, j] * g[n, f, oy, ox]
    dL/dx                    = col2im(dL/dcol)

Each contraction is a matrix product. The kernel set does the work
(``conv2d_forward``/``conv2d_backward``): the NumPy set keeps the whole ``col`` for backward,
the Numba set recomputes it one sample at a time so that it stays in cache.

Groups: with ``groups = G`` the channels split into ``G`` consecutive blocks, weight
``(F, C/G, kh, kw)``; filters ``f`` in block ``b = f // (F/G)`` see only input channels
``b*C/G .. (b+1)*C/G - 1``. Depthwise convolution (``G = C > 1``, ``F = m*C``) is one call
of the set's ``depthwise_conv2d_forward``/``_backward``; any other ``G > 1`` is one
ordinary convolution per block, stacked along the channel axis
(:func:`minicnn.kernels.composed.grouped_conv2d`); ``groups=1`` is the single call.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import kernels_of
from ..kernels import Window
from ..kernels.composed import grouped_conv2d


def _path(x, groups: int) -> str:
    if groups == 1:
        return "plain"
    return "depthwise" if groups == x.shape[1] else "grouped"


class Conv2dFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, win: Window = None, groups: int = 1):
        kernels = kernels_of(x)
        ctx.win, ctx.groups, ctx.path = win, groups, _path(x, groups)
        if ctx.path == "plain":
            y, saved = kernels.conv2d_forward(x, weight, bias, win)
        elif ctx.path == "depthwise":
            y, saved = kernels.depthwise_conv2d_forward(x, weight, bias, win)
        else:
            forward = grouped_conv2d(kernels.conv2d_forward, kernels.conv2d_backward)[0]
            y, saved = forward(x, weight, bias, win, groups)
        ctx.save_for_backward(x, weight, saved)
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight, saved = ctx.saved_tensors
        kernels = kernels_of(g)
        needs = ctx.needs_input_grad
        if ctx.path == "plain":
            return kernels.conv2d_backward(g, saved, x, weight, ctx.win, *needs)
        if ctx.path == "depthwise":
            return kernels.depthwise_conv2d_backward(g, saved, x, weight, ctx.win, *needs)
        backward = grouped_conv2d(kernels.conv2d_forward, kernels.conv2d_backward)[1]
        return backward(g, saved, x, weight, ctx.win, ctx.groups, *needs)
