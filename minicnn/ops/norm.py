"""Batch normalisation over every axis but the channel axis 1.

Shapes: x ``(N, C, ...)``; weight (gamma), bias (beta), running_mean, running_var ``(C,)``.
With ``m`` values per channel (``N*H*W`` for images)::

    mu = mean(x),  var = mean((x - mu)**2)            (biased, used to normalise)
    xhat = (x - mu) / sqrt(var + eps),  y = gamma * xhat + beta
    running_mean <- (1 - momentum) * running_mean + momentum * mu
    running_var  <- (1 - momentum) * running_var  + momentum * var * m / (m - 1)   (unbiased)

Backward in training mode, for ``g = dL/dy`` (sums and means per channel)::

    dL/dbeta  = sum(g),   dL/dgamma = sum(g * xhat)
    dL/dx     = gamma / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat))

In evaluation mode ``mu`` and ``var`` are the running estimates, constants, so
``dL/dx = g * gamma / sqrt(running_var + eps)``.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import xp_of


def _channel_shape(x) -> tuple:
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNormFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, *, running_mean=None, running_var=None,
                use_batch_stats=True, momentum=0.1, eps=1e-5):
        """``running_mean``/``running_var`` (arrays) are updated in place when
        ``use_batch_stats`` and given; otherwise they are the statistics used."""
        xp = xp_of(x)
        axes = (0,) + tuple(range(2, x.ndim))
        shape = _channel_shape(x)
        if use_batch_stats:
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)
            if running_mean is not None:
                count = x.size // x.shape[1]
                running_mean *= 1 - momentum
                running_mean += momentum * mean
                running_var *= 1 - momentum
                running_var += momentum * var * (count / max(count - 1, 1))
        else:
            mean, var = running_mean, running_var
        inv_std = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
        y = xhat if weight is None else xhat * weight.reshape(shape)
        if bias is not None:
            y = y + bias.reshape(shape)
        ctx.save_for_backward(xhat, inv_std, weight)
        ctx.axes, ctx.shape, ctx.use_batch_stats = axes, shape, use_batch_stats
        return y

    @staticmethod
    def backward(ctx, g):
        xhat, inv_std, weight = ctx.saved_tensors
        axes, shape = ctx.axes, ctx.shape
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if need_x:
            scale = inv_std if weight is None else inv_std * weight
            if ctx.use_batch_stats:
                centred = (g - g.mean(axis=axes, keepdims=True)
                           - xhat * (g * xhat).mean(axis=axes, keepdims=True))
                grad_x = scale.reshape(shape) * centred
            else:
                grad_x = g * scale.reshape(shape)
        if need_w:
            grad_w = (g * xhat).sum(axis=axes)
        if need_b:
            grad_b = g.sum(axis=axes)
        return grad_x, grad_w, grad_b
