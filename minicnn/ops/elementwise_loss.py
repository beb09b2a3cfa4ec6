"""Losses computed element by element and then reduced: regression, binary and KL losses.

For input ``x`` and target ``t`` (broadcast together; ``d = x - t``), each op gives the
per-element loss ``l`` and its partial derivatives, used as ``dL/dx = g * dl/dx`` and
``dL/dt = g * dl/dt`` (summed over broadcast axes)::

    mse          l = d**2                              dl/dx = 2 d            dl/dt = -dl/dx
    l1           l = |d|                               dl/dx = sign(d)        dl/dt = -dl/dx
    smooth_l1    l = d**2 / (2 beta)  if |d| < beta    dl/dx = d / beta
                     |d| - beta / 2   otherwise        dl/dx = sign(d)        dl/dt = -dl/dx
                 (beta = 0 is l1)
    huber        l = d**2 / 2         if |d| < delta   dl/dx = d
                     delta (|d| - delta / 2)           dl/dx = delta sign(d)  dl/dt = -dl/dx
    bce          l = -(t log_x + (1 - t) log_1x),  log_x = max(log x, -100),
                     log_1x = max(log(1 - x), -100)
                 dl/dx = (x - t) / max(x (1 - x), 1e-12)      dl/dt = log_1x - log_x
    bce logits   l = (1 - t) x + p sp,  sp = log(1 + exp(-x)) = max(-x, 0) + log1p(exp(-|x|)),
                 p = 1 + (pos_weight - 1) t
                 dl/dx = (1 - t) - p sigmoid(-x)              dl/dt = -x + (pos_weight - 1) sp
    kl_div       l = t (log t - x)  (0 where t = 0)    dl/dx = -t     dl/dt = log t + 1 - x
                 log_target: l = exp(t) (t - x)        dl/dx = -exp(t)  dl/dt = exp(t)(t - x + 1)

These are torch's formulas, with its clamps (the ``-100`` on BCE's logs, the ``1e-12`` in its
gradient, as float32). A ``weight`` multiplies ``l`` (broadcast); ``pos_weight`` and ``weight`` are
constants (no gradient flows to them). Reductions: ``'none'`` returns ``l``, ``'sum'`` its sum,
``'mean'`` the sum over the number of elements, and ``kl_div``'s ``'batchmean'`` the sum over
the batch size ``x.shape[0]``. With a ``weight``, ``'mean'`` is torch's too: ``mse_loss`` and
``l1_loss`` divide ``sum(weight * l)`` by ``sum(weight)``, ``huber_loss`` and the binary losses by
the number of elements.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..autograd import Function
from ..backend import xp_of
from ..tensor import Tensor
from .activation import sigmoid_array
from .arguments import array_of
from .loss import check_reduction
from .math import unbroadcast

KL_REDUCTIONS = ("mean", "sum", "none", "batchmean")


class _Elementwise(Function):
    """``l = f(x, t)`` with ``dl/dx`` and ``dl/dt`` from ``partials`` (subclasses)."""

    @staticmethod
    def loss(x, t, **params):
        raise NotImplementedError

    @staticmethod
    def partials(x, t, **params) -> tuple:
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, x, t, **params):
        ctx.save_for_backward(x, t)
        ctx.params = params
        return cls.loss(x, t, **params)

    @classmethod
    def backward(cls, ctx, g):
        x, t = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad
        dx, dt = cls.partials(x, t, **ctx.params)
        return (unbroadcast(g * dx, x.shape) if need_x else None,
                unbroadcast(g * dt, t.shape) if need_t else None)


class MSE(_Elementwise):
    @staticmethod
    def loss(x, t):
        return (x - t) ** 2

    @staticmethod
    def partials(x, t):
        dx = 2 * (x - t)
        return dx, -dx


class L1(_Elementwise):
    @staticmethod
    def loss(x, t):
        return xp_of(x).abs(x - t)

    @staticmethod
    def partials(x, t):
        dx = xp_of(x).sign(x - t)
        return dx, -dx


class SmoothL1(_Elementwise):
    @staticmethod
    def loss(x, t, beta=1.0):
        xp = xp_of(x)
        a = xp.abs(x - t)
        if beta == 0:
            return a
        return xp.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta)

    @staticmethod
    def partials(x, t, beta=1.0):
        xp = xp_of(x)
        d = x - t
        dx = xp.sign(d) if beta == 0 else xp.where(xp.abs(d) < beta, d / beta, xp.sign(d))
        return dx, -dx


class Huber(_Elementwise):
    @staticmethod
    def loss(x, t, delta=1.0):
        xp = xp_of(x)
        a = xp.abs(x - t)
        return xp.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))

    @staticmethod
    def partials(x, t, delta=1.0):
        xp = xp_of(x)
        d = x - t
        dx = xp.where(xp.abs(d) < delta, d, delta * xp.sign(d))
        return dx, -dx


def _clamped_logs(x):
    xp = xp_of(x)
    with np.errstate(divide="ignore"):
        return xp.maximum(xp.log(x), -100), xp.maximum(xp.log(1 - x), -100)


_BCE_EPSILON = float(np.float32(1e-12))  # torch's clamp, a float32 constant


class BinaryCrossEntropy(_Elementwise):
    @staticmethod
    def loss(x, t):
        log_x, log_1x = _clamped_logs(x)
        return -(t * log_x + (1 - t) * log_1x)

    @staticmethod
    def partials(x, t):
        log_x, log_1x = _clamped_logs(x)
        return (x - t) / xp_of(x).maximum(x * (1 - x), _BCE_EPSILON), log_1x - log_x


def _softplus_of_negative(x):
    """``log(1 + exp(-x))`` without overflow."""
    xp = xp_of(x)
    return xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class BinaryCrossEntropyWithLogits(_Elementwise):
    @staticmethod
    def loss(x, t, pos_weight=None):
        p = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        return (1 - t) * x + p * _softplus_of_negative(x)

    @staticmethod
    def partials(x, t, pos_weight=None):
        p = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        dt = -x if pos_weight is None else -x + (pos_weight - 1) * _softplus_of_negative(x)
        return (1 - t) - p * sigmoid_array(-x), dt


class KLDiv(_Elementwise):
    @staticmethod
    def loss(x, t, log_target=False):
        xp = xp_of(x)
        if log_target:
            return xp.exp(t) * (t - x)
        return xp.where(t == 0, 0, t * xp.log(xp.where(t == 0, 1, t))) - t * x

    @staticmethod
    def partials(x, t, log_target=False):
        xp = xp_of(x)
        if log_target:
            return -xp.exp(t), xp.exp(t) * (t - x + 1)
        with np.errstate(divide="ignore"):
            return -t, xp.log(t) + 1 - x


def _reduce(loss: Tensor, reduction: str, weight=None, over_weights: bool = False) -> Tensor:
    """``weight * loss`` reduced; ``over_weights``: the mean divides by ``sum(weight)``."""
    if weight is not None:
        loss = loss * Tensor(weight.astype(loss.dtype, copy=False))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / float(weight.sum()) if over_weights and weight is not None else loss.mean()


def _as_tensor(target, like: Tensor) -> Tensor:
    """``target`` as a Tensor (a number or an array becomes one of the input's dtype)."""
    if isinstance(target, Tensor):
        return target
    return Tensor(xp_of(like.array).asarray(target, dtype=like.dtype))


def _broadcast_target(where: str, input: Tensor, target: Tensor) -> None:
    """torch's rule for the regression losses: a target of another shape is broadcast, with a
    warning; one that does not broadcast is a ``RuntimeError``."""
    if target.shape == input.shape:
        return
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise RuntimeError(f"{where}: target of shape {target.shape} does not broadcast with "
                           f"input of shape {input.shape}") from None
    warnings.warn(f"{where}: Using a target size ({target.shape}) that is different to the input "
                  f"size ({input.shape}). This will likely lead to incorrect results due to "
                  f"broadcasting. Please ensure they have the same size.", UserWarning,
                  stacklevel=3)


def _check_same_size_weight(where: str, input: Tensor, weight) -> None:
    if weight is not None and tuple(weight.shape) != input.shape:
        raise ValueError(f"{where}: Weights and input must have the same size: weight "
                         f"{tuple(weight.shape)}, input {input.shape}")


def _regression(op, where, input, target, reduction, weight=None, over_weights=False,
                **params) -> Tensor:
    check_reduction(where, reduction)
    target, weight = _as_tensor(target, input), array_of(weight)
    _broadcast_target(where, input, target)
    _check_same_size_weight(where, input, weight)
    return _reduce(op.apply(input, target, **params), reduction, weight, over_weights)


def mse_loss(input, target, reduction="mean", weight=None, where="mse_loss") -> Tensor:
    return _regression(MSE, where, input, target, reduction, weight, over_weights=True)


def l1_loss(input, target, reduction="mean", weight=None, where="l1_loss") -> Tensor:
    return _regression(L1, where, input, target, reduction, weight, over_weights=True)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0, where="smooth_l1_loss") -> Tensor:
    if beta < 0:
        raise RuntimeError(f"{where}: smooth_l1_loss does not support negative values for beta, "
                           f"got beta={beta}")
    return _regression(SmoothL1, where, input, target, reduction, beta=beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None,
               where="huber_loss") -> Tensor:
    if delta <= 0:
        raise RuntimeError(f"{where}: huber_loss does not support non-positive values for "
                           f"delta, got delta={delta}")
    return _regression(Huber, where, input, target, reduction, weight, delta=delta)


def _check_weight_broadcasts(where: str, input: Tensor, weight, name: str = "weight") -> None:
    if weight is None:
        return
    try:
        shape = np.broadcast_shapes(input.shape, tuple(weight.shape))
    except ValueError:
        shape = None
    if shape != input.shape:
        raise RuntimeError(f"{where}: {name} of shape {tuple(weight.shape)} does not broadcast "
                           f"to the input's shape {input.shape}")


def binary_cross_entropy(input, target, weight=None, reduction="mean",
                         where="binary_cross_entropy") -> Tensor:
    check_reduction(where, reduction)
    target, weight = _as_tensor(target, input), array_of(weight)
    if target.shape != input.shape:
        raise ValueError(f"{where}: Using a target size ({target.shape}) that is different to "
                         f"the input size ({input.shape}) is deprecated. Please ensure they "
                         f"have the same size.")
    x = input.array
    if bool((~((x >= 0) & (x <= 1))).any()):
        raise RuntimeError(f"{where}: all elements of input should be between 0 and 1 "
                           f"(got min {float(x.min())}, max {float(x.max())} in {input.shape}); "
                           f"apply sigmoid first, or use binary_cross_entropy_with_logits")
    _check_weight_broadcasts(where, input, weight)
    return _reduce(BinaryCrossEntropy.apply(input, target), reduction, weight)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None,
                                     where="binary_cross_entropy_with_logits") -> Tensor:
    check_reduction(where, reduction)
    target, weight, pos_weight = _as_tensor(target, input), array_of(weight), array_of(pos_weight)
    if target.shape != input.shape:
        raise ValueError(f"{where}: Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    _check_weight_broadcasts(where, input, weight)
    _check_weight_broadcasts(where, input, pos_weight, "pos_weight")
    if pos_weight is not None:
        pos_weight = pos_weight.astype(input.dtype, copy=False)
    return _reduce(BinaryCrossEntropyWithLogits.apply(input, target, pos_weight=pos_weight),
                   reduction, weight)


def kl_div(input, target, reduction="mean", log_target=False, where="kl_div") -> Tensor:
    check_reduction(where, reduction, KL_REDUCTIONS)
    target = _as_tensor(target, input)
    _broadcast_target(where, input, target)
    if reduction == "mean":
        warnings.warn(f"{where}: reduction: 'mean' divides the total loss by both the batch size "
                      f"and the support size.'batchmean' divides only by the batch size, and "
                      f"aligns with the KL div math definition.'mean' will be changed to behave "
                      f"the same as 'batchmean' in the next major release.", UserWarning,
                      stacklevel=3)
    loss = KLDiv.apply(input, target, log_target=log_target)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div", "KL_REDUCTIONS"]
