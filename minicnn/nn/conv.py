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
    ``OH = (H + 2*padding - dilation*(kernel-1) - 1) // stride + 1``; ``padding='same'``
    (stride 1) keeps ``H``, ``'valid'`` is 0.

    ``groups`` splits the channels into that many independent convolutions (``groups =
    in_channels`` is depthwise). weight ``(out_channels, in_channels/groups, kh, kw)`` and bias
    ``(out_channels,)`` start as torch's: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with
    ``fan_in = in_channels/groups*kh*kw``. Only ``padding_mode='zeros'`` is supported.
    ``dtype`` (default float32) and ``device`` place the parameters, as torch's factory
    arguments.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        dtype = factory_dtype(dtype)
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"Conv2d: groups must be a positive integer, got {groups!r}")
        for name, count in (("in_channels", in_channels), ("out_channels", out_channels)):
            if count % groups:
                raise ValueError(f"Conv2d({in_channels}, {out_channels}): {name} must be "
                                 f"divisible by groups, got {name}={count}, groups={groups}")
        if padding_mode not in F.PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {set(F.PADDING_MODES)}, but "
                             f"got padding_mode={padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode={padding_mode!r} is not supported; "
                                      f"minicnn pads with zeros only (padding_mode='zeros')")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "Conv2d kernel_size")
        self.stride = pair(stride, "Conv2d stride")
        if isinstance(padding, str):
            F.check_padding_string("Conv2d", padding, stride)
            self.padding = padding
        else:
            self.padding = pair(padding, "Conv2d padding")
        self.dilation = pair(dilation, "Conv2d dilation")
        self.groups, self.padding_mode = groups, padding_mode
        self.weight = Parameter(np.empty((out_channels, in_channels // groups, *self.kernel_size),
                                         dtype=dtype))
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
                        self.groups, where=self._name())

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
