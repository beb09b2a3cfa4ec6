"""Stateless forms of the layers, as ``torch.nn.functional``.

Each function checks its input (errors name the function and the shapes) and calls
the differentiable op from ``minicnn.ops``; the math is documented there.
"""
from __future__ import annotations

from ..backend import to_device, device_of
from ..kernels import Window
from ..ops.activation import LogSoftmax, ReLU, Softmax
from ..ops.conv import Conv2dFunction
from ..ops.fused import BatchNormReLUMaxPoolFunction
from ..ops.loss import cross_entropy as _cross_entropy
from ..ops.norm import BatchNormFunction
from ..ops.pool import AvgPool2dFunction, MaxPool2dFunction
from ..random import generator
from ..tensor import Tensor
from .checks import check_input, check_same_dtype, check_window_fits


def _data(value):
    return value.array if isinstance(value, Tensor) else value


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, where: str = "conv2d") -> Tensor:
    """x ``(N, C, H, W)``, weight ``(F, C, kh, kw)``, bias ``(F,)`` -> ``(N, F, OH, OW)``."""
    check_input(where, input, f"(N, {weight.shape[1]}, H, W)", (4,), weight.shape[1])
    check_same_dtype(where, input, weight, bias)
    win = Window.of(tuple(weight.shape[2:]), stride, padding, dilation)
    check_window_fits(where, input, win)
    return Conv2dFunction.apply(input, weight, bias, win=win)


def _pool_window(where, input, kernel_size, stride, padding, dilation=1) -> Window:
    check_input(where, input, "(N, C, H, W)", (4,))
    win = Window.of(kernel_size, kernel_size if stride is None else stride, padding, dilation)
    if win.ph * 2 > win.kh or win.pw * 2 > win.kw:
        raise ValueError(f"{where}: padding {(win.ph, win.pw)} must be at most half the kernel "
                         f"{(win.kh, win.kw)}")
    check_window_fits(where, input, win)
    return win


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               where: str = "max_pool2d") -> Tensor:
    """Window maxima; stride defaults to the kernel size."""
    win = _pool_window(where, input, kernel_size, stride, padding, dilation)
    return MaxPool2dFunction.apply(input, win=win)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0,
               where: str = "avg_pool2d") -> Tensor:
    """Window means, zero padding counted; stride defaults to the kernel size."""
    win = _pool_window(where, input, kernel_size, stride, padding)
    return AvgPool2dFunction.apply(input, win=win)


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5,
               where: str = "batch_norm") -> Tensor:
    """Normalise per channel (axis 1). In training, batch statistics are used and the
    running ones (if given) updated in place; otherwise the running ones are used."""
    _check_batch_norm(where, input, running_mean, weight, bias, training, (2, 3, 4, 5))
    return BatchNormFunction.apply(input, weight, bias, running_mean=_data(running_mean),
                                   running_var=_data(running_var), use_batch_stats=training,
                                   momentum=momentum, eps=eps)


def _check_batch_norm(where, input, running_mean, weight, bias, training, ndims) -> None:
    channels = next((t.shape[0] for t in (weight, running_mean) if t is not None), None)
    check_input(where, input, f"(N, {channels if channels else 'C'}, ...)", ndims, channels)
    check_same_dtype(where, input, weight, bias)
    if not training and running_mean is None:
        raise ValueError(f"{where}: evaluation mode needs running_mean and running_var")


def batch_norm_relu_max_pool2d(input: Tensor, running_mean, running_var, weight=None, bias=None,
                               training: bool = False, momentum: float = 0.1, eps: float = 1e-5,
                               kernel_size=2, stride=None, padding=0, dilation=1,
                               where: str = "batch_norm_relu_max_pool2d") -> Tensor:
    """``max_pool2d(relu(batch_norm(input, ...)), kernel_size, ...)`` as one op that keeps
    only the pooled output for backward (``minicnn/ops/fused.py``); the same values."""
    _check_batch_norm(where, input, running_mean, weight, bias, training, (4,))
    win = _pool_window(where, input, kernel_size, stride, padding, dilation)
    return BatchNormReLUMaxPoolFunction.apply(input, weight, bias, running_mean=_data(running_mean),
                                              running_var=_data(running_var), use_batch_stats=training,
                                              momentum=momentum, eps=eps, win=win)


def relu(input: Tensor) -> Tensor:
    return ReLU.apply(input)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           where: str = "linear") -> Tensor:
    """``y = x @ W^T + b``: x ``(..., in)``, W ``(out, in)``, b ``(out,)`` -> ``(..., out)``."""
    in_features = weight.shape[1]
    check_input(where, input, f"(N, {in_features})", tuple(range(1, 9)), in_features, -1)
    check_same_dtype(where, input, weight, bias)
    out = input @ weight.t()
    return out if bias is None else out + bias


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``
    (identity when not training); the mask comes from the global generator."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    keep = generator().random(input.shape) >= p
    mask = (keep / (1 - p) if p < 1 else keep * 0.0).astype(input.dtype)
    return input * to_device(mask, device_of(input.array))


def softmax(input: Tensor, dim: int) -> Tensor:
    return Softmax.apply(input, dim=dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return LogSoftmax.apply(input, dim=dim)


def cross_entropy(input: Tensor, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy against class indices; see ``minicnn/ops/loss.py``."""
    return _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "relu", "linear",
           "flatten", "dropout", "softmax", "log_softmax", "cross_entropy"]
