"""Class losses: negative log-likelihood and softmax cross-entropy, built from differentiable ops.

For log-probabilities ``logp`` ``(N, C)``, targets ``t`` ``(N,)`` (ints in ``[0, C)`` or
``ignore_index``), class weights ``w`` ``(C,)`` (all 1 when not given) and label smoothing
``eps``::

    nll_n    = -w[t_n] * logp[n, t_n]                     (0 for ignored samples)
    smooth_n = -sum_c w[c] * logp[n, c]                   (0 for ignored samples)
    loss_n   = (1 - eps) * nll_n + eps / C * smooth_n     (nll_loss: eps = 0)

``cross_entropy`` takes logits and uses ``logp = log_softmax(x, dim=1)``. ``reduction='mean'``
divides ``sum_n loss_n`` by ``sum_n w[t_n]`` over the samples not ignored (so with no weights,
by their count), ``'sum'`` sums, ``'none'`` returns ``loss_n``.

With class probabilities as targets (``cross_entropy`` only: a float ``t`` of the input's
shape), ``loss_n = -sum_c w[c] * q[n, c] * logp[n, c]`` with ``q = (1 - eps) t + eps / C``, and
``'mean'`` divides by the number of samples (``N`` times ``d1 ...``).

Inputs of more axes, ``(N, C, d1, ...)`` with targets ``(N, d1, ...)``, count every position
as a sample (the class axis is moved last and the rest flattened); an unbatched ``(C,)``
input takes a 0-d target. These are PyTorch's definitions. The gradient comes from the tape:
``dL/dx = softmax(x) - onehot(t)`` per sample for the plain cross-entropy.
"""
from __future__ import annotations

import warnings

from ..backend import xp_of
from ..tensor import Tensor
from .activation import LogSoftmaxFunction
from .arguments import array_of

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(where: str, reduction, allowed: tuple = REDUCTIONS) -> None:
    """``ValueError`` unless ``reduction`` is one of ``allowed`` (torch's type)."""
    if reduction not in allowed:
        raise ValueError(f"{where}: {reduction!r} is not a valid value for reduction; "
                         f"use one of {allowed}")


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """torch's reading of the deprecated ``size_average`` and ``reduce`` (each None, True or
    False): when either is given it decides, as ``'none'`` without ``reduce``, else ``'mean'``
    with ``size_average`` and ``'sum'`` without; otherwise ``reduction`` stands."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{result}' instead.", UserWarning, stacklevel=3)
    return result


def _samples(input: Tensor, where: str) -> Tensor:
    """The input as ``(samples, C)``: class axis 1 (0 when 1-d) moved last, the rest flattened."""
    if input.ndim == 0:
        raise ValueError(f"{where}: expected input (N, C) or (N, C, d1, ...), got a 0-d tensor")
    if input.ndim == 1:
        return input.reshape(1, -1)
    if input.ndim == 2:
        return input
    return input.permute(0, *range(2, input.ndim), 1).reshape(-1, input.shape[1])


def _check_target(input: Tensor, target, weight, ignore_index: int, where: str):
    """Errors as torch's for index targets; returns the mask of the samples not ignored."""
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"{where}: targets must be integer class indices (or, for "
                           f"cross_entropy, float probabilities of the input's shape "
                           f"{input.shape}), got dtype {target.dtype} {tuple(target.shape)}")
    expected = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    if tuple(target.shape) != expected:
        raise ValueError(f"{where}: expected targets of shape {expected} for input "
                         f"{input.shape}, got {tuple(target.shape)}")
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= classes))
    if bool(bad.any()):
        first = int(target[bad].reshape(-1)[0])
        raise IndexError(f"{where}: Target {first} is out of bounds: target class {first} is "
                         f"out of range for {classes} classes (valid: 0..{classes - 1}, or "
                         f"ignore_index={ignore_index})")
    _check_weight(weight, classes, where)
    return valid.reshape(-1)


def _check_weight(weight, classes: int, where: str) -> None:
    if weight is not None and tuple(weight.shape) != (classes,):
        raise RuntimeError(f"{where}: weight tensor should be defined either for all {classes} "
                           f"classes or no classes, got weight of shape {tuple(weight.shape)}")


def _index_loss(logp: Tensor, target, valid, weight, reduction: str, label_smoothing: float,
                target_shape: tuple) -> Tensor:
    """``loss_n`` of the module docstring for index targets, reduced; ``logp`` ``(samples, C)``,
    ``target`` and ``valid`` ``(samples,)``."""
    xp = xp_of(logp.array)
    n, classes = logp.shape
    safe_target = xp.where(valid, target, 0)
    sample_weight = valid.astype(logp.dtype)
    if weight is not None:
        sample_weight = sample_weight * weight.astype(logp.dtype)[safe_target]
    per_sample = -(logp[xp.arange(n), safe_target] * sample_weight)
    if label_smoothing > 0:
        class_weight = 1.0 if weight is None else weight.astype(logp.dtype)
        smooth = -(logp * class_weight).sum(dim=1) * valid.astype(logp.dtype)
        per_sample = (1 - label_smoothing) * per_sample + (label_smoothing / classes) * smooth
    if reduction == "none":
        return per_sample.reshape(target_shape)
    if reduction == "sum":
        return per_sample.sum()
    return per_sample.sum() / sample_weight.sum()


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100,
             reduction: str = "mean", where: str = "nll_loss") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` against class indices."""
    check_reduction(where, reduction)
    target, weight = array_of(target), array_of(weight)
    valid = _check_target(input, target, weight, ignore_index, where)
    return _index_loss(_samples(input, where), target.reshape(-1), valid, weight, reduction, 0.0,
                       tuple(target.shape))


def cross_entropy(logits: Tensor, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0,
                  where: str = "cross_entropy") -> Tensor:
    """Cross-entropy of ``logits`` against class indices or class probabilities; see the
    module docstring."""
    check_reduction(where, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{where}: label_smoothing must be in [0, 1], got {label_smoothing}")
    target, weight = array_of(target), array_of(weight)
    logp = LogSoftmaxFunction.apply(logits, dim=0 if logits.ndim == 1 else 1)
    if target.dtype.kind == "f" and tuple(target.shape) == logits.shape:
        return _probability_loss(logp, target, weight, ignore_index, reduction, label_smoothing,
                                 where)
    valid = _check_target(logits, target, weight, ignore_index, where)
    return _index_loss(_samples(logp, where), target.reshape(-1), valid, weight, reduction,
                       label_smoothing, tuple(target.shape))


def _probability_loss(logp: Tensor, target, weight, ignore_index: int, reduction: str,
                      label_smoothing: float, where: str) -> Tensor:
    if ignore_index != -100:
        raise RuntimeError(f"{where}: ignore_index is not supported for floating point "
                           f"(probability) targets")
    samples = _samples(logp, where)
    classes = samples.shape[1]
    _check_weight(weight, classes, where)
    q = _samples(Tensor(target), where).array
    if label_smoothing > 0:
        q = q * (1 - label_smoothing) + label_smoothing / classes
    if weight is not None:
        q = q * weight.astype(q.dtype)
    per_sample = -(samples * q.astype(logp.dtype)).sum(dim=1)
    if reduction == "none":
        return per_sample.reshape(() if logp.ndim == 1 else (logp.shape[0],) + logp.shape[2:])
    total = per_sample.sum()
    return total if reduction == "sum" else total / samples.shape[0]


__all__ = ["cross_entropy", "nll_loss", "REDUCTIONS", "check_reduction", "legacy_reduction"]
