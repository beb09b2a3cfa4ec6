"""ReLU, softmax and log-softmax.

ReLU: ``y = max(x, 0)``; ``dL/dx = g * [x > 0] = g * [y > 0]`` (the kink at 0 gets gradient 0,
as torch); the output is what backward keeps.
Softmax along ``dim``: ``y = exp(x - max) / sum exp(x - max)``;
``dL/dx = y * (g - sum(g * y, dim))``.
Log-softmax: ``y = x - max - log sum exp(x - max)``; ``dL/dx = g - softmax(x) * sum(g, dim)``.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import kernels_of, xp_of


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        y = kernels_of(x).relu_forward(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return kernels_of(g).relu_backward(g, y)


def _shifted(x, dim):
    return x - x.max(axis=dim, keepdims=True)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim=-1):
        e = xp_of(x).exp(_shifted(x, dim))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(axis=ctx.dim, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim=-1):
        xp = xp_of(x)
        z = _shifted(x, dim)
        y = z - xp.log(xp.exp(z).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - xp_of(y).exp(y) * g.sum(axis=ctx.dim, keepdims=True)
