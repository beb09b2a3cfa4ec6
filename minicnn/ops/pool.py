"""Max and average pooling over ``(N, C, H, W)`` windows.

Max: ``y[n,c,oy,ox] = max_{i,j} xpad[n, c, oy*sh + i*dh, ox*sw + j*dw]`` with ``-inf``
padding; the gradient goes to the one input pixel that held the maximum (the first in
row-major window order on ties), summed where windows overlap.

Average (padding counted, as torch's default ``count_include_pad=True``):
``y = sum_{i,j} xpad[...] / (kh*kw)``; every pixel of a window receives ``g / (kh*kw)``.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import kernels_of, xp_of
from ..kernels import Window


class MaxPool2dFunction(Function):
    @staticmethod
    def forward(ctx, x, win: Window = None):
        y, argmax = kernels_of(x).maxpool2d_forward(x, win)
        ctx.save_for_backward(argmax)
        ctx.win, ctx.in_hw = win, x.shape[2:]
        return y

    @staticmethod
    def backward(ctx, g):
        (argmax,) = ctx.saved_tensors
        return kernels_of(g).maxpool2d_backward(g, argmax, ctx.win, *ctx.in_hw)


class AvgPool2dFunction(Function):
    @staticmethod
    def forward(ctx, x, win: Window = None):
        ctx.win, ctx.in_hw = win, x.shape[2:]
        return kernels_of(x).im2col(x, win).mean(axis=(2, 3))

    @staticmethod
    def backward(ctx, g):
        win = ctx.win
        share = g[:, :, None, None] / (win.kh * win.kw)
        n, c, oh, ow = g.shape
        grad_col = xp_of(g).broadcast_to(share, (n, c, win.kh, win.kw, oh, ow))
        return kernels_of(g).col2im(grad_col, win, *ctx.in_hw)
