"""``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` and ``AdaptiveMaxPool2d``; the math is
in ``minicnn/ops/pool.py``.

``(N, C, H, W) -> (N, C, OH, OW)`` with ``OH = (H + 2*padding - dilation*(kernel-1) - 1)
// stride + 1`` (rounded up with ``ceil_mode=True``, as torch); stride defaults to the
kernel size; padding is at most half the kernel. The adaptive layers take the output size
instead and accept ``(C, H, W)`` too.
"""
from __future__ import annotations

from . import functional as F
from .module import Module


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        if return_indices:
            raise NotImplementedError("MaxPool2d: return_indices=True is not supported (minicnn "
                                      "has no MaxUnpool2d); AdaptiveMaxPool2d returns indices")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices,
                            where=f"MaxPool2d({self.kernel_size})")

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The divisor is torch's: the window clipped to the padded input
    (``count_include_pad=True``) or to the input, or ``divisor_override``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override,
                            where=f"AvgPool2d({self.kernel_size})")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Mean over torch's adaptive windows to ``output_size`` (an int, or a pair whose None
    entries keep the input's size)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size,
                                     where=f"AdaptiveAvgPool2d({self.output_size})")

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    """Maximum over torch's adaptive windows; ``return_indices`` also returns where each
    maximum is (``row * W + column`` in its plane)."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices,
                                     where=f"AdaptiveMaxPool2d({self.output_size})")
