"""Batch norm -> clamp and batch norm -> ReLU -> max pooling as single differentiable ops,
and the pass that uses them.

Each op computes the same function as its ops one after the other
(``minicnn/ops/norm.py``, ``activation.py``, ``pool.py``). Batch norm -> clamp, shapes
``(N, C, ...) -> (N, C, ...)``, with ``(low, high)`` ``(0, inf)`` for ReLU, ``(0, 6)`` for
ReLU6 and ``(min_val, max_val)`` for Hardtanh::

    y = min(max(gamma * xhat + beta, low), high)

Backward needs ``y`` and ``x``, not ``xhat``: the clamp let the gradient through exactly
where ``low < y < high``, so ``dL/dz = g * [low < y < high]`` at the batch norm's output,
and from there batch norm's backward. Batch norm -> ReLU -> max pooling, shapes
``(N, C, H, W) -> (N, C, OH, OW)``::

    z = relu(gamma * xhat + beta),   y = maxpool(z),   argmax = where each window's max is

Backward needs only ``y`` and ``argmax``, not ``z`` or ``xhat``: the ReLU let a window's
gradient through exactly when ``y > 0`` (``y`` is the ReLU's output at the argmax), so the
gradient at the batch norm's output is ``dL/dz = maxpool_backward(g * [y > 0])``, and from
there batch norm's backward as usual. Neither op ever keeps the normalised (or rectified)
tensor, and a kernel set may compute each in one pass each way (the Numba set does),
through its ``batchnorm_clamp_*`` and ``batchnorm_relu_maxpool_*`` functions.

The pass: ``nn.Sequential`` calls :func:`run_sequence`, which computes every
``BatchNorm2d -> ReLU -> MaxPool2d`` run (no ``ceil_mode``) with the pooling op and every
other ``BatchNorm2d -> ReLU | ReLU6 | Hardtanh`` pair with the clamp op. A run is left to
its layers, each with its own input and output, when one of them has a hook (forward,
forward pre- or backward, as ``minicnn.summary`` and feature-map extraction register) or a
``forward`` set on the instance, and everywhere inside :func:`layer_by_layer`. The switch is
a context variable, so ``layer_by_layer()`` in one thread or asyncio task leaves fusion on
in the others.
"""
from __future__ import annotations

import contextlib
import contextvars

from ..autograd import Function
from ..backend import kernels_of
from ..ops.arguments import array_of
from ..ops.norm import normalisation
from ..tensor import Tensor
from .activation import Hardtanh, ReLU, ReLU6
from .batchnorm import BatchNorm2d
from .checks import check_batch_norm, pool_window
from .pooling import MaxPool2d

_fusion_on = contextvars.ContextVar("minicnn.nn.fusion", default=True)


class BatchNormReLUMaxPoolFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, *, running_mean=None, running_var=None,
                use_batch_stats=True, momentum=0.1, eps=1e-5, win=None):
        """Arguments as ``BatchNormFunction.forward``, and ``win`` the pooling window."""
        kernels = kernels_of(x)
        mean, inv_std = normalisation(kernels, x, running_mean, running_var, use_batch_stats,
                                      momentum, eps)
        y, saved = kernels.batchnorm_relu_maxpool_forward(x, mean, inv_std, weight, bias, win)
        ctx.save_for_backward(x, mean, inv_std, weight, y, saved)
        ctx.use_batch_stats, ctx.win = use_batch_stats, win
        return y

    @staticmethod
    def backward(ctx, g):
        x, mean, inv_std, weight, y, saved = ctx.saved_tensors
        return kernels_of(g).batchnorm_relu_maxpool_backward(
            g, y, saved, x, mean, inv_std, weight, ctx.use_batch_stats, ctx.win,
            *ctx.needs_input_grad)


class BatchNormClampFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, *, running_mean=None, running_var=None,
                use_batch_stats=True, momentum=0.1, eps=1e-5, low=0.0, high=float("inf")):
        """Arguments as ``BatchNormFunction.forward``, and the clamp's bounds."""
        kernels = kernels_of(x)
        mean, inv_std = normalisation(kernels, x, running_mean, running_var, use_batch_stats,
                                      momentum, eps)
        y = kernels.batchnorm_clamp_forward(x, mean, inv_std, weight, bias, low, high)
        ctx.save_for_backward(x, mean, inv_std, weight, bias, y)
        ctx.use_batch_stats, ctx.bounds = use_batch_stats, (low, high)
        return y

    @staticmethod
    def backward(ctx, g):
        x, mean, inv_std, weight, bias, y = ctx.saved_tensors
        return kernels_of(g).batchnorm_clamp_backward(
            g, y, x, mean, inv_std, weight, bias, ctx.use_batch_stats, *ctx.bounds,
            *ctx.needs_input_grad)


def batch_norm_clamp(input: Tensor, running_mean, running_var, weight=None, bias=None,
                     training: bool = False, momentum: float = 0.1, eps: float = 1e-5,
                     low: float = 0.0, high: float = float("inf"),
                     where: str = "batch_norm_clamp") -> Tensor:
    """``clamp(batch_norm(input, ...), low, high)`` as one op that never stores the
    normalised tensor; the same values and gradients (zero on the bounds) as the two ops
    (a minicnn op: torch has no such function). ``relu`` is ``(0, inf)``, ``relu6``
    ``(0, 6)``."""
    check_batch_norm(where, input, running_mean, weight, bias, training, (2, 3, 4, 5))
    return BatchNormClampFunction.apply(
        input, weight, bias, running_mean=array_of(running_mean),
        running_var=array_of(running_var), use_batch_stats=training, momentum=momentum,
        eps=eps, low=float(low), high=float(high))


def batch_norm_relu_max_pool2d(input: Tensor, running_mean, running_var, weight=None, bias=None,
                               training: bool = False, momentum: float = 0.1, eps: float = 1e-5,
                               kernel_size=2, stride=None, padding=0, dilation=1,
                               where: str = "batch_norm_relu_max_pool2d") -> Tensor:
    """``max_pool2d(relu(batch_norm(input, ...)), kernel_size, ...)`` as one op that keeps
    only the pooled output for backward; the same values and gradients (a minicnn op: torch
    has no such function)."""
    check_batch_norm(where, input, running_mean, weight, bias, training, (4,))
    win, _ = pool_window(where, input, kernel_size, stride, padding, dilation)
    return BatchNormReLUMaxPoolFunction.apply(
        input, weight, bias, running_mean=array_of(running_mean),
        running_var=array_of(running_var), use_batch_stats=training, momentum=momentum,
        eps=eps, win=win)


@contextlib.contextmanager
def layer_by_layer():
    """Inside the ``with`` block (in this thread or task), ``Sequential`` calls every layer
    on its own: no fusion. Nested blocks and exceptions restore the previous state."""
    token = _fusion_on.set(False)
    try:
        yield
    finally:
        _fusion_on.reset(token)


def fusion_enabled() -> bool:
    """False inside :func:`layer_by_layer` (in this thread or task), True otherwise."""
    return _fusion_on.get()


def _runs_as_its_class(module) -> bool:
    """True when calling ``module`` runs just its class's ``forward``: no hook of any kind
    and no ``forward`` set on the instance."""
    return "forward" not in vars(module) and not module._has_hooks()


def fusable(run: list) -> bool:
    """True when ``run`` (three modules) is a BatchNorm2d, a ReLU and a MaxPool2d (without
    ``ceil_mode``), in that order, each running as its class, and fusion is on."""
    return (len(run) == 3 and type(run[0]) is BatchNorm2d and type(run[1]) is ReLU
            and type(run[2]) is MaxPool2d and not run[2].ceil_mode
            and all(_runs_as_its_class(m) for m in run) and _fusion_on.get())


_CLAMPS = (ReLU, ReLU6, Hardtanh)


def clamp_fusable(run: list) -> bool:
    """True when ``run`` (two modules) is a BatchNorm2d and a ReLU, ReLU6 or Hardtanh, each
    running as its class, and fusion is on."""
    return (len(run) == 2 and type(run[0]) is BatchNorm2d and type(run[1]) in _CLAMPS
            and all(_runs_as_its_class(m) for m in run) and _fusion_on.get())


def _bounds(activation) -> tuple[float, float]:
    """``(low, high)`` of a ReLU, ReLU6 or Hardtanh as a clamp."""
    if type(activation) is ReLU:
        return 0.0, float("inf")
    return activation.min_val, activation.max_val


def _fused_call(norm: BatchNorm2d, pool: MaxPool2d, x: Tensor) -> Tensor:
    """``pool(relu(norm(x)))`` as the fused op, counting the batch as ``norm(x)`` would."""
    where = f"BatchNorm2d({norm.num_features}) -> ReLU -> MaxPool2d({pool.kernel_size})"
    use_batch_stats, momentum = norm._check_and_count_batch(x, where)
    return batch_norm_relu_max_pool2d(x, norm.running_mean, norm.running_var, norm.weight,
                                      norm.bias, use_batch_stats, momentum, norm.eps,
                                      pool.kernel_size, pool.stride, pool.padding,
                                      pool.dilation, where=where)


def _clamp_call(norm: BatchNorm2d, activation, x: Tensor) -> Tensor:
    """``activation(norm(x))`` as the clamp op, counting the batch as ``norm(x)`` would."""
    where = f"BatchNorm2d({norm.num_features}) -> {type(activation).__name__}"
    use_batch_stats, momentum = norm._check_and_count_batch(x, where)
    return batch_norm_clamp(x, norm.running_mean, norm.running_var, norm.weight, norm.bias,
                            use_batch_stats, momentum, norm.eps, *_bounds(activation),
                            where=where)


def run_sequence(modules: list, x):
    """Call ``modules`` in order on ``x``, fusing every run :func:`fusable` or
    :func:`clamp_fusable` accepts (the longer run first)."""
    k = 0
    while k < len(modules):
        if fusable(modules[k:k + 3]):
            x = _fused_call(modules[k], modules[k + 2], x)
            k += 3
        elif clamp_fusable(modules[k:k + 2]):
            x = _clamp_call(modules[k], modules[k + 1], x)
            k += 2
        else:
            x = modules[k](x)
            k += 1
    return x
