"""2-d convolution (cross-correlation, as in every deep learning library).

Shapes: x ``(N, C, H, W)``, weight ``(F, C, kh, kw)``, bias ``(F,)``, y ``(N, F, OH, OW)``.

Forward, with ``col = im2col(x)`` of shape ``(N, C, kh, kw, OH, OW)``::

    y[n, f, oy, ox] = b[f] + sum_{c,i,j} W[f, c, i, j] * col[n, c, i, j, oy, ox]

Backward, for ``g = dL/dy``::

    dL/dW[f, c, i, j]        = sum_{n,oy,ox} g[n, f, oy, ox] * col[n, c, i, j, oy, ox]
    dL/db[f]                 = sum_{n,oy,ox} g[n, f, oy, ox]
    dL/dcol[n, c, i, j, oy, ox] = sum_f W[f, c, i, j] * g[n, f, oy, ox]
    dL/dx                    = col2im(dL/dcol)

Both contractions are ``tensordot`` calls, i.e. one matrix product each.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import kernels_of, xp_of
from ..kernels import Window


class Conv2dFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, win: Window = None):
        xp, kernels = xp_of(x), kernels_of(x)
        col = kernels.im2col(x, win)
        y = xp.tensordot(col, weight, axes=((1, 2, 3), (1, 2, 3)))  # (N, OH, OW, F)
        y = y.transpose(0, 3, 1, 2)
        if bias is not None:
            y = y + bias.reshape(1, -1, 1, 1)
        ctx.save_for_backward(col, weight)
        ctx.win, ctx.in_hw = win, x.shape[2:]
        return xp.ascontiguousarray(y)

    @staticmethod
    def backward(ctx, g):
        col, weight = ctx.saved_tensors
        xp, kernels = xp_of(g), kernels_of(g)
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_col = xp.tensordot(weight, g, axes=((0,), (1,)))  # (C, kh, kw, N, OH, OW)
            grad_col = xp.moveaxis(grad_col, 3, 0)
            grad_x = kernels.col2im(grad_col, ctx.win, *ctx.in_hw)
        if need_w:
            grad_w = xp.tensordot(g, col, axes=((0, 2, 3), (0, 4, 5)))
        if need_b:
            grad_b = g.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b
