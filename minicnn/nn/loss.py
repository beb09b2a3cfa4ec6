"""``CrossEntropyLoss``: softmax cross-entropy against class indices (``minicnn/ops/loss.py``)."""
from __future__ import annotations

from ..ops.loss import REDUCTIONS, cross_entropy
from ..tensor import Tensor
from .module import Module


class CrossEntropyLoss(Module):
    """``loss(logits (N, C), target (N,) ints) -> scalar`` (or ``(N,)`` with reduction='none').

    ``weight`` ``(C,)`` rescales classes, ``ignore_index`` marks targets to skip,
    ``label_smoothing`` mixes the one-hot target with the uniform distribution.
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"CrossEntropyLoss: reduction must be one of {REDUCTIONS}, "
                             f"got {reduction!r}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], "
                             f"got {label_smoothing}")
        self.register_buffer("weight", None if weight is None else Tensor(weight))
        self.ignore_index, self.reduction, self.label_smoothing = ignore_index, reduction, label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                             self.label_smoothing, where="CrossEntropyLoss")
