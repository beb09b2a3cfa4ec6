"""Constant padding of the last two axes (rows and columns), as ``F.pad`` of a 4-d tensor.

``y = pad(x, (left, right, top, bottom), value)``: ``x`` ``(..., H, W)`` ->
``(..., top + H + bottom, left + W + right)``, the border filled with ``value``, and
``y[..., top:top+H, left:left+W] = x``. Backward keeps only that window of ``g``.
Convolution with ``padding='same'`` and an even kernel, and pooling with ``ceil_mode``, pad
their input with it where their padding is not the same on both sides.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import xp_of


class ConstantPad2dFunction(Function):
    @staticmethod
    def forward(ctx, x, pads=(0, 0, 0, 0), value=0.0):
        left, right, top, bottom = pads
        ctx.window = (slice(top, top + x.shape[-2]), slice(left, left + x.shape[-1]))
        widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        return xp_of(x).pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[(Ellipsis,) + ctx.window].copy()
