"""Loss modules: the functions of ``minicnn/ops/loss.py`` (class losses) and
``minicnn/ops/elementwise_loss.py`` (regression, binary and KL losses) with their options
kept on the module, as torch's. ``size_average`` and ``reduce`` are torch's deprecated
spellings of ``reduction`` and are read as torch reads them."""
from __future__ import annotations

from ..ops import elementwise_loss as eloss
from ..ops.loss import check_reduction, cross_entropy, legacy_reduction, nll_loss
from ..tensor import Tensor
from .module import Module


class _Loss(Module):
    allowed = ("mean", "sum", "none")

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)
        check_reduction(type(self).__name__, self.reduction, self.allowed)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else Tensor(weight))


class CrossEntropyLoss(_WeightedLoss):
    """``loss(logits (N, C), target (N,) ints) -> scalar`` (or ``(N,)`` with reduction='none');
    targets may also be class probabilities of the logits' shape.

    ``weight`` ``(C,)`` rescales classes, ``ignore_index`` marks targets to skip,
    ``label_smoothing`` mixes the target with the uniform distribution.
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], "
                             f"got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                             self.label_smoothing, where="CrossEntropyLoss")


class NLLLoss(_WeightedLoss):
    """``loss(log-probabilities (N, C), target (N,) ints)``; with ``weight`` the mean divides
    by the summed weights of the targets."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction,
                        where="NLLLoss")


class MSELoss(_Loss):
    """``(input - target)**2``, reduced."""

    def forward(self, input, target):
        return eloss.mse_loss(input, target, self.reduction, where="MSELoss")


class L1Loss(_Loss):
    """``|input - target|``, reduced."""

    def forward(self, input, target):
        return eloss.l1_loss(input, target, self.reduction, where="L1Loss")


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above (``beta=0`` is L1)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return eloss.smooth_l1_loss(input, target, self.reduction, self.beta, where="SmoothL1Loss")


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear above: ``delta * SmoothL1Loss(beta=delta)``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(None, None, reduction)
        self.delta = delta

    def forward(self, input, target):
        return eloss.huber_loss(input, target, self.reduction, self.delta, where="HuberLoss")


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1]; ``weight`` broadcasts to the input."""

    def forward(self, input, target):
        return eloss.binary_cross_entropy(input, target, self.weight, self.reduction,
                                          where="BCELoss")


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid and binary cross-entropy in one numerically stable op; ``pos_weight``
    (broadcast along the last axis, one per class) weighs the positive term."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else Tensor(pos_weight))

    def forward(self, input, target):
        return eloss.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                      self.pos_weight, where="BCEWithLogitsLoss")


class KLDivLoss(_Loss):
    """``target * (log target - input)`` for log-probabilities ``input``; ``'batchmean'``
    divides the sum by the batch size (the KL divergence per sample)."""

    allowed = eloss.KL_REDUCTIONS

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return eloss.kl_div(input, target, self.reduction, self.log_target, where="KLDivLoss")
