"""``Conv2d``: learnable 2-d convolution; the math is in ``minicnn/ops/conv.py``."""
from __future__ import annotations

import numpy as np

from ..kernels.window import pair
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter, factory_dtype


class Conv2d(Module):
    """``(N, in_channels, H, W) -> (N, out_channels, OH, OW)``, with
    ``OH = (H + 2*padding - dilation*(kernel-1) - 1) // stride + 1``.

    weight ``(out_channels, in_channels, kh, kw)`` and bias ``(out_channels,)`` start as
    torch's: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with ``fan_in = in_channels*kh*kw``;
    ``dtype`` (default float32) and ``device`` place them, as torch's factory arguments.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True, *, device=None, dtype=None):
        super().__init__()
        dtype = factory_dtype(dtype)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "Conv2d kernel_size")
        self.stride = pair(stride, "Conv2d stride")
        self.padding = pair(padding, "Conv2d padding")
        self.dilation = pair(dilation, "Conv2d dilation")
        self.weight = Parameter(np.empty((out_channels, in_channels, *self.kernel_size), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        self.to(device)

    def reset_parameters(self) -> None:
        init.layer_default_(self.weight, self.bias)

    def _name(self) -> str:
        k = self.kernel_size[0] if self.kernel_size[0] == self.kernel_size[1] else self.kernel_size
        return f"Conv2d({self.in_channels}, {self.out_channels}, {k})"

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        where=self._name())

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.bias is None:
            text += ", bias=False"
        return text
