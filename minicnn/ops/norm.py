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
from ..backend import kernels_of


def normalisation(kernels, x, running_mean, running_var, use_batch_stats: bool, momentum: float,
                  eps: float) -> tuple:
    """``(mu, 1 / sqrt(var + eps))`` per channel in ``x``'s dtype: the batch's, moving the
    running estimates (when given), or the running estimates themselves."""
    if use_batch_stats:
        mean, var = kernels.batchnorm_stats(x)
        if running_mean is not None:
            kernels.batchnorm_update_running(running_mean, running_var, mean, var, momentum,
                                             x.size // x.shape[1])
        inv_std = kernels.batchnorm_inv_std(var, eps)
    else:
        mean, inv_std = running_mean, kernels.batchnorm_inv_std(running_var, eps)
    return mean.astype(x.dtype, copy=False), inv_std.astype(x.dtype, copy=False)


class BatchNormFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, *, running_mean=None, running_var=None,
                use_batch_stats=True, momentum=0.1, eps=1e-5):
        """``running_mean``/``running_var`` (arrays) are updated in place when
        ``use_batch_stats`` and given; otherwise they are the statistics used."""
        kernels = kernels_of(x)
        mean, inv_std = normalisation(kernels, x, running_mean, running_var, use_batch_stats,
                                      momentum, eps)
        ctx.save_for_backward(x, mean, inv_std, weight)
        ctx.use_batch_stats = use_batch_stats
        return kernels.batchnorm_apply(x, mean, inv_std, weight, bias)

    @staticmethod
    def backward(ctx, g):
        x, mean, inv_std, weight = ctx.saved_tensors
        return kernels_of(g).batchnorm_backward(g, x, mean, inv_std, weight, ctx.use_batch_stats,
                                                *ctx.needs_input_grad)
