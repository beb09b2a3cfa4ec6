"""Batch norm -> ReLU -> max pooling as one differentiable op, for speed and memory.

The same function as the three ops one after the other (``minicnn/ops/norm.py``,
``activation.py``, ``pool.py``); shapes ``(N, C, H, W) -> (N, C, OH, OW)``::

    z = relu(gamma * xhat + beta),   y = maxpool(z),   argmax = where each window's max is

Backward needs only ``y`` and ``argmax``, not ``z`` or ``xhat``: the ReLU let a window's
gradient through exactly when ``y > 0`` (``y`` is the ReLU's output at the argmax), so the
gradient at the batch norm's output is ``dL/dz = maxpool_backward(g * [y > 0])``, and from
there batch norm's backward as usual. Neither the normalised nor the rectified tensor is
ever kept, and a kernel set may compute the three in one pass (the Numba set does).
``nn.Sequential`` uses this op for a BatchNorm2d, ReLU, MaxPool2d run (``minicnn/nn/fusion.py``).
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import kernels_of
from .norm import normalisation


class BatchNormReLUMaxPoolFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, *, running_mean=None, running_var=None,
                use_batch_stats=True, momentum=0.1, eps=1e-5, win=None):
        """Arguments as ``BatchNormFunction.forward``, and ``win`` the pooling window."""
        kernels = kernels_of(x)
        mean, inv_std = normalisation(kernels, x, running_mean, running_var, use_batch_stats, momentum, eps)
        y, saved = kernels.batchnorm_relu_maxpool_forward(x, mean, inv_std, weight, bias, win)
        ctx.save_for_backward(x, mean, inv_std, weight, y, saved)
        ctx.use_batch_stats, ctx.win = use_batch_stats, win
        return y

    @staticmethod
    def backward(ctx, g):
        x, mean, inv_std, weight, y, saved = ctx.saved_tensors
        return kernels_of(g).batchnorm_relu_maxpool_backward(
            g, y, saved, x, mean, inv_std, weight, ctx.use_batch_stats, ctx.win, *ctx.needs_input_grad)
