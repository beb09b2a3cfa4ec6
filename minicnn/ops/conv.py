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
``b*C/G .. (b+1)*C/G - 1``. Each block is an ordinary convolution of its slice of ``x`` with
its slice of the weight, computed by the same kernels, and the outputs are stacked along
the channel axis (depthwise convolution is ``G = C``); ``groups=1`` is the single call.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import kernels_of, xp_of
from ..kernels import Window


def _blocks(size: int, groups: int) -> list[slice]:
    step = size // groups
    return [slice(b * step, (b + 1) * step) for b in range(groups)]


class Conv2dFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, win: Window = None, groups: int = 1):
        kernels = kernels_of(x)
        ctx.win, ctx.groups = win, groups
        if groups == 1:
            y, saved = kernels.conv2d_forward(x, weight, bias, win)
            ctx.save_for_backward(x, weight, saved)
            return y
        outs, saved = [], []
        for cin, cout in zip(_blocks(x.shape[1], groups), _blocks(weight.shape[0], groups)):
            y, kept = kernels.conv2d_forward(x[:, cin], weight[cout],
                                             None if bias is None else bias[cout], win)
            outs.append(y)
            saved.append(kept)
        ctx.save_for_backward(x, weight, saved)
        return xp_of(x).concatenate(outs, axis=1)

    @staticmethod
    def backward(ctx, g):
        x, weight, saved = ctx.saved_tensors
        kernels = kernels_of(g)
        if ctx.groups == 1:
            return kernels.conv2d_backward(g, saved, x, weight, ctx.win, *ctx.needs_input_grad)
        need_x, need_w, need_b = ctx.needs_input_grad
        xp = xp_of(g)
        grad_x = xp.empty_like(x) if need_x else None
        grad_w = xp.empty_like(weight) if need_w else None
        grad_b = xp.empty(weight.shape[0], dtype=g.dtype) if need_b else None
        blocks = zip(_blocks(x.shape[1], ctx.groups), _blocks(weight.shape[0], ctx.groups), saved)
        for cin, cout, kept in blocks:
            gx, gw, gb = kernels.conv2d_backward(g[:, cout], kept, x[:, cin], weight[cout],
                                                 ctx.win, need_x, need_w, need_b)
            if need_x:
                grad_x[:, cin] = gx
            if need_w:
                grad_w[cout] = gw
            if need_b:
                grad_b[cout] = gb
        return grad_x, grad_w, grad_b
