"""``BatchNorm1d`` and ``BatchNorm2d``: per-channel normalisation with running statistics.

The math and its gradient are in ``minicnn/ops/norm.py``. As in torch, the batch is
normalised with the biased variance and the running estimate takes the unbiased one;
``momentum=None`` gives the cumulative average over all batches seen.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .checks import check_input, check_values_per_channel
from .module import Module
from .parameter import Parameter, factory_dtype


class _BatchNorm(Module):
    """Normalisation over every axis but the channel axis 1 of an input of the ranks in
    ``ndims`` (the subclass says which); gamma (``weight``) = 1 and beta (``bias``) = 0 at
    start. ``affine=False`` learns neither; ``bias=False`` (torch 2.13's keyword) learns gamma
    only. The same op and kernels serve every rank (``minicnn/ops/norm.py``). ``dtype``
    (default float32) and ``device`` place parameters and buffers, as torch's.
    """

    ndims: tuple = ()
    layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None,
                 *, bias: bool = True):
        super().__init__()
        dtype = factory_dtype(dtype)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype=dtype))
                                if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype=dtype))
                                if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.to(device)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_and_count_batch(self, x, where: str) -> tuple:
        """Check ``x``, count the batch, and say ``(use_batch_stats, momentum)``; also used by
        the fused ops that start with a batch norm (``minicnn/nn/fusion.py``)."""
        check_input(where, x, self.layout.format(self.num_features), self.ndims, self.num_features)
        use_batch_stats = self.training or not self.track_running_stats
        check_values_per_channel(where, x, use_batch_stats)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.array)
        return use_batch_stats, momentum

    def forward(self, x):
        where = f"{type(self).__name__}({self.num_features})"
        use_batch_stats, momentum = self._check_and_count_batch(x, where)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps, where=where)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """``(N, C) -> (N, C)`` or ``(N, C, L) -> (N, C, L)``, statistics over ``N`` (and ``L``)."""

    ndims = (2, 3)
    layout = "(N, {0}) or (N, {0}, L)"


class BatchNorm2d(_BatchNorm):
    """``(N, C, H, W) -> (N, C, H, W)``, statistics over ``N``, ``H`` and ``W``."""

    ndims = (4,)
    layout = "(N, {0}, H, W)"
