"""Softmax cross-entropy for class-index targets, built from differentiable ops.

For logits ``x`` ``(N, C)``, targets ``t`` ``(N,)`` (ints in ``[0, C)`` or ``ignore_index``),
class weights ``w`` ``(C,)`` (all 1 when not given) and label smoothing ``eps``::

    logp = log_softmax(x, dim=1)
    nll_n    = -w[t_n] * logp[n, t_n]                     (0 for ignored samples)
    smooth_n = -sum_c w[c] * logp[n, c]                   (0 for ignored samples)
    loss_n   = (1 - eps) * nll_n + eps / C * smooth_n

``reduction='mean'`` divides ``sum_n loss_n`` by ``sum_n w[t_n]`` over the samples not
ignored (so with no weights, by their count), ``'sum'`` sums, ``'none'`` returns
``loss_n``. These are PyTorch's definitions. The gradient comes from the tape:
``dL/dx = softmax(x) - onehot(t)`` per sample for the plain case.
"""
from __future__ import annotations


from ..backend import xp_of
from ..tensor import Tensor
from .activation import LogSoftmax

REDUCTIONS = ("mean", "sum", "none")


def _check(logits: Tensor, target, weight, reduction: str, ignore_index: int, where: str):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if logits.ndim != 2:
        raise ValueError(f"{where}: expected logits of shape (N, C), got {logits.shape}")
    n, classes = logits.shape
    if target.dtype.kind not in "iu":
        raise ValueError(f"{where}: targets must be integer class indices, got dtype {target.dtype}")
    if target.shape != (n,):
        raise ValueError(f"{where}: targets of shape ({n},) expected for logits {logits.shape}, "
                         f"got {tuple(target.shape)}")
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= classes))
    if bool(bad.any()):
        first = int(target[bad][0])
        raise ValueError(f"{where}: target class {first} is out of range for {classes} classes "
                         f"(valid: 0..{classes - 1}, or ignore_index={ignore_index})")
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{where}: weight of shape ({classes},) expected, got {tuple(weight.shape)}")
    return valid


def cross_entropy(logits: Tensor, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0,
                  where: str = "cross_entropy") -> Tensor:
    """Cross-entropy of ``logits`` (N, C) against class indices ``target`` (N,); see module doc."""
    target = target.array if isinstance(target, Tensor) else target
    weight = weight.array if isinstance(weight, Tensor) else weight
    valid = _check(logits, target, weight, reduction, ignore_index, where)
    xp = xp_of(logits.array)
    n, classes = logits.shape
    logp = LogSoftmax.apply(logits, dim=1)
    safe_target = xp.where(valid, target, 0)
    sample_weight = valid.astype(logits.dtype)
    if weight is not None:
        sample_weight = sample_weight * weight.astype(logits.dtype)[safe_target]
    per_sample = -(logp[xp.arange(n), safe_target] * sample_weight)
    if label_smoothing > 0:
        class_weight = 1.0 if weight is None else weight.astype(logits.dtype)
        smooth = -(logp * class_weight).sum(dim=1) * valid.astype(logits.dtype)
        per_sample = (1 - label_smoothing) * per_sample + (label_smoothing / classes) * smooth
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    return per_sample.sum() / sample_weight.sum()


__all__ = ["cross_entropy", "REDUCTIONS"]
