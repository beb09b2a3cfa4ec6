"""``MaxPool2d`` and ``AvgPool2d``; the math is in ``minicnn/ops/pool.py``.

``(N, C, H, W) -> (N, C, OH, OW)`` with ``OH = (H + 2*padding - dilation*(kernel-1) - 1)
// stride + 1`` (floor, as torch's default ``ceil_mode=False``); stride defaults to the
kernel size; padding is at most half the kernel.
"""
from __future__ import annotations

from . import functional as F
from .module import Module


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            where=f"MaxPool2d({self.kernel_size})")

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode=False")  # minicnn pools in floor mode


class AvgPool2d(Module):
    """Zero padding is counted in the mean (torch's ``count_include_pad=True``)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                            where=f"AvgPool2d({self.kernel_size})")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
