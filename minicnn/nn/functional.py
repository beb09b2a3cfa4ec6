"""Stateless forms of the layers, as ``torch.nn.functional``.

Each function checks its input (errors name the function and the shapes) and calls
the differentiable op from ``minicnn.ops``; the math is documented there. ``inplace=True``
is accepted wherever torch takes it and computes out of place: the result is returned as a
new tensor and the input is left as it was.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..backend import device_of, to_device
from ..kernels import Window
from ..kernels.window import pair
from ..ops import activation as act
from ..ops import elementwise_loss as eloss
from ..ops import loss as closs
from ..ops.arguments import array_of
from ..ops.conv import Conv2dFunction
from ..ops.norm import BatchNormFunction
from ..ops.padding import ConstantPad2dFunction
from ..ops.pool import (
    AdaptiveAvgPool2dFunction,
    AdaptiveMaxPool2dFunction,
    AvgPool2dFunction,
    MaxPool2dFunction,
    adaptive_max,
    avg_divisor,
)
from ..random import generator
from ..tensor import Tensor
from .checks import check_batch_norm, check_input, check_same_dtype, check_window_fits, pool_window

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


# ---- convolution ------------------------------------------------------------------
def same_padding(kernel_size, dilation) -> tuple:
    """``padding='same'`` per axis: ``(before, after)`` with ``before = total // 2`` and
    ``after = total - before``, ``total = dilation * (kernel - 1)`` (the odd one goes after)."""
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                 for k, d in zip(kernel_size, dilation))


def check_padding_string(where: str, padding, stride, error=ValueError) -> None:
    """torch's checks of ``padding='same'``/``'valid'`` (``error`` is ValueError for the layer,
    RuntimeError for the function, as torch)."""
    if padding not in ("same", "valid"):
        raise ValueError(f"{where}: Invalid padding string {padding!r}, should be one of "
                         f"{{'same', 'valid'}}")
    if padding == "same" and pair(stride, f"{where} stride") != (1, 1):
        raise error(f"{where}: padding='same' is not supported for strided convolutions "
                    f"(stride {stride})")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1, where: str = "conv2d") -> Tensor:
    """x ``(N, C, H, W)``, weight ``(F, C/groups, kh, kw)``, bias ``(F,)`` -> ``(N, F, OH, OW)``.

    ``padding`` is an int, a pair, ``'valid'`` (0) or ``'same'`` (stride 1; an even kernel
    pads one more row and column after than before, as torch).
    """
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive integer, got {groups!r}")
    if weight.shape[0] % groups:
        raise RuntimeError(f"{where}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {weight.shape}")
    channels = weight.shape[1] * groups
    check_input(where, input, f"(N, {channels}, H, W)", (4,), channels)
    check_same_dtype(where, input, weight, bias)
    if isinstance(padding, str):
        check_padding_string(where, padding, stride, RuntimeError)
        if padding == "valid":
            padding = 0
        else:
            (top, bottom), (left, right) = same_padding(weight.shape[2:],
                                                        pair(dilation, f"{where} dilation"))
            if (bottom, right) != (top, left):
                input = ConstantPad2dFunction.apply(input, pads=(0, right - left, 0, bottom - top))
            padding = (top, left)
    win = Window.of(tuple(weight.shape[2:]), stride, padding, dilation)
    check_window_fits(where, input, win)
    return Conv2dFunction.apply(input, weight, bias, win=win, groups=groups)


# ---- pooling ----------------------------------------------------------------------
def _pad_after(input: Tensor, extra_h: int, extra_w: int, value: float) -> Tensor:
    if not (extra_h or extra_w):
        return input
    return ConstantPad2dFunction.apply(input, pads=(0, extra_w, 0, extra_h), value=value)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False,
               where: str = "max_pool2d") -> Tensor:
    """Window maxima; stride defaults to the kernel size; ``ceil_mode`` as torch."""
    if return_indices:
        raise NotImplementedError(f"{where}: return_indices=True is not supported (minicnn has "
                                  f"no max_unpool2d); adaptive_max_pool2d returns indices")
    win, (extra_h, extra_w, _, _) = pool_window(where, input, kernel_size, stride, padding,
                                                 dilation, ceil_mode)
    return MaxPool2dFunction.apply(_pad_after(input, extra_h, extra_w, -np.inf), win=win)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None,
               where: str = "avg_pool2d") -> Tensor:
    """Window means; stride defaults to the kernel size. The divisor is torch's: the window
    clipped to the padded input (``count_include_pad``) or to the input, or
    ``divisor_override``."""
    if divisor_override is not None and (not isinstance(divisor_override, int)
                                         or divisor_override == 0):
        raise RuntimeError(f"{where}: divisor must be a nonzero integer, got {divisor_override!r}")
    win, (extra_h, extra_w, oh, ow) = pool_window(where, input, kernel_size, stride, padding,
                                                   1, ceil_mode)
    h, w = input.shape[2:]
    divisor = None
    if divisor_override is not None:
        divisor = np.full((oh, ow), float(divisor_override))
    elif extra_h or extra_w or not count_include_pad:
        rows = avg_divisor(oh, h, win.kh, win.sh, win.ph, count_include_pad)
        cols = avg_divisor(ow, w, win.kw, win.sw, win.pw, count_include_pad)
        divisor = np.outer(rows, cols).astype(np.float64)
    if divisor is not None:
        divisor = to_device(divisor.astype(input.dtype), device_of(input.array))
    return AvgPool2dFunction.apply(_pad_after(input, extra_h, extra_w, 0.0), win=win,
                                   divisor=divisor)


def adaptive_output_size(where: str, input: Tensor, output_size) -> tuple:
    """``output_size`` (an int, or a pair whose None entries keep the input's size) as a pair;
    torch's errors for the input's rank and negative sizes."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{where}: Expected 3D or 4D tensor (C, H, W) or (N, C, H, W), but "
                           f"got: {input.shape}")
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise RuntimeError(f"{where}: output_size must be 2, got {output_size!r}")
    sizes = tuple(input.shape[-2 + i] if s is None else int(s) for i, s in enumerate(sizes))
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"{where}: elements of output_size must be greater than or equal to 0 "
                           f"but received {sizes}")
    return sizes


def adaptive_avg_pool2d(input: Tensor, output_size, where: str = "adaptive_avg_pool2d") -> Tensor:
    """Mean over torch's adaptive windows: ``(..., H, W) -> (..., OH, OW)``."""
    size = adaptive_output_size(where, input, output_size)
    return AdaptiveAvgPool2dFunction.apply(input, output_size=size)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False,
                        where: str = "adaptive_max_pool2d"):
    """Maximum over torch's adaptive windows; with ``return_indices`` also the flat index
    ``row * W + column`` of each maximum in its input plane (int64)."""
    size = adaptive_output_size(where, input, output_size)
    out = AdaptiveMaxPool2dFunction.apply(input, output_size=size)
    if return_indices:
        return out, Tensor(adaptive_max(input.array, size)[2])
    return out


# ---- normalisation ----------------------------------------------------------------
def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5,
               where: str = "batch_norm") -> Tensor:
    """Normalise per channel (axis 1). In training, batch statistics are used and the
    running ones (if given) updated in place; otherwise the running ones are used."""
    check_batch_norm(where, input, running_mean, weight, bias, training, (2, 3, 4, 5))
    return BatchNormFunction.apply(input, weight, bias, running_mean=array_of(running_mean),
                                   running_var=array_of(running_var), use_batch_stats=training,
                                   momentum=momentum, eps=eps)


# ---- activations ------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return act.ReLUFunction.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    return act.SigmoidFunction.apply(input)


def tanh(input: Tensor) -> Tensor:
    return act.TanhFunction.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return act.LeakyReLUFunction.apply(input, negative_slope=negative_slope)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``input`` clipped to ``[min_val, max_val]``; ``minicnn/ops/activation.py``."""
    return act.HardtanhFunction.apply(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``hardtanh(input, 0, 6)`` (MobileNetV2's activation)."""
    return hardtanh(input, 0.0, 6.0)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return act.ELUFunction.apply(input, alpha=alpha)


def check_gelu_approximate(where: str, approximate) -> None:
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"{where}: approximate argument must be either none or tanh, got "
                           f"{approximate!r}")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    check_gelu_approximate("gelu", approximate)
    return act.GELUFunction.apply(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return act.SiLUFunction.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return act.SoftplusFunction.apply(input, beta=beta, threshold=threshold)


def softmax(input: Tensor, dim: int) -> Tensor:
    return act.SoftmaxFunction.apply(input, dim=dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return act.LogSoftmaxFunction.apply(input, dim=dim)


# ---- shape and dropout ------------------------------------------------------------
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


def check_dropout_p(where: str, p) -> None:
    if not 0 <= p <= 1:
        raise ValueError(f"{where}: dropout probability has to be between 0 and 1, but got {p}")


def _dropout_with_mask(input: Tensor, p: float, mask_shape: tuple) -> Tensor:
    """``input * keep / (1 - p)`` with ``keep`` drawn on ``mask_shape`` (broadcast)."""
    keep = generator().random(mask_shape) >= p
    mask = (keep / (1 - p) if p < 1 else keep * 0.0).astype(input.dtype)
    return input * to_device(mask, device_of(input.array))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``
    (identity when not training); the mask comes from the global generator."""
    check_dropout_p("dropout", p)
    if not training or p == 0:
        return input
    return _dropout_with_mask(input, p, input.shape)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels: ``(N, C, H, W)`` with one draw per ``(n, c)``, scaled by
    ``1/(1-p)``. A 3-d input is read as ``(N, C, L)`` with a warning, as torch does."""
    check_dropout_p("dropout2d", p)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected input (N, C, H, W) or (N, C, L), got {input.shape}")
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
                      "to using dropout1d instead.", UserWarning, stacklevel=2)
    if not training or p == 0:
        return input
    return _dropout_with_mask(input, p, input.shape[:2] + (1,) * (input.ndim - 2))


# ---- losses -----------------------------------------------------------------------
def cross_entropy(input: Tensor, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy against class indices or probabilities; ``minicnn/ops/loss.py``."""
    reduction = closs.legacy_reduction(size_average, reduce, reduction)
    return closs.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(input: Tensor, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities; ``minicnn/ops/loss.py``."""
    reduction = closs.legacy_reduction(size_average, reduce, reduction)
    return closs.nll_loss(input, target, weight, ignore_index, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    return eloss.mse_loss(input, target, closs.legacy_reduction(size_average, reduce, reduction),
                          weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    return eloss.l1_loss(input, target, closs.legacy_reduction(size_average, reduce, reduction),
                         weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    return eloss.smooth_l1_loss(input, target,
                                closs.legacy_reduction(size_average, reduce, reduction), beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    return eloss.huber_loss(input, target, reduction, delta, weight)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    return eloss.binary_cross_entropy(input, target, weight,
                                      closs.legacy_reduction(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    return eloss.binary_cross_entropy_with_logits(
        input, target, weight, closs.legacy_reduction(size_average, reduce, reduction), pos_weight)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    return eloss.kl_div(input, target, closs.legacy_reduction(size_average, reduce, reduction),
                        log_target)


__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "batch_norm", "relu", "sigmoid", "tanh", "leaky_relu", "hardtanh", "relu6", "elu",
           "gelu", "silu", "softplus", "softmax", "log_softmax", "linear", "flatten", "dropout",
           "dropout2d",
           "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]
