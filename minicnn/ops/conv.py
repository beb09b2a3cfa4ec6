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
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import kernels_of
from ..kernels import Window


class Conv2dFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, win: Window = None):
        y, saved = kernels_of(x).conv2d_forward(x, weight, bias, win)
        ctx.save_for_backward(x, weight, saved)
        ctx.win = win
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight, saved = ctx.saved_tensors
        return kernels_of(g).conv2d_backward(g, saved, x, weight, ctx.win, *ctx.needs_input_grad)
