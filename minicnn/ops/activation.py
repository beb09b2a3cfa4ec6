"""ReLU, softmax and log-softmax.

ReLU: ``y = max(x, 0)``; ``dL/dx = g * [x > 0]`` (the kink at 0 gets gradient 0, as torch).
Softmax along ``dim``: ``y = exp(x - max) / sum exp(x - max)``;
``dL/dx = y * (g - sum(g * y, dim))``.
Log-softmax: ``y = x - max - log sum exp(x - max)``; ``dL/dx = g - softmax(x) * sum(g, dim)``.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import xp_of


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        positive = x > 0
        ctx.save_for_backward(positive)
        return x * positive

    @staticmethod
    def backward(ctx, g):
        (positive,) = ctx.saved_tensors
        return g * positive


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
