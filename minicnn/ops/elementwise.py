"""Elementwise functions: ``clamp``/``clip``, ``maximum``/``minimum``, ``pow``, ``abs``,
``neg``, ``square``, ``sign``, ``log1p``, ``expm1``.

Gradients (``g = dL/dout``; brackets are 1 where the condition holds, else 0):

* ``clamp(x, lo, hi)``: ``g [lo <= x <= hi]`` to ``x``; ``g [x < lo][lo < hi]`` to a tensor
  ``lo``; ``g ([x > hi] or [hi < lo])`` to a tensor ``hi`` (with ``lo > hi`` every output is
  ``hi``, as torch).
* ``maximum(a, b)``: ``g [a > b] + g/2 [a = b]`` to ``a``, the mirror to ``b`` (ties share
  the gradient, as torch); ``minimum`` likewise.
* ``sign``: 0. ``log1p``: ``g / (1 + x)``. ``expm1``: ``g (out + 1)``.
* ``pow``, ``abs``, ``neg``, ``square``: the arithmetic ops of ``minicnn.ops.math``.

Integer inputs of the float functions (``log1p``, ``expm1``) are cast to float32 first,
and mixed arguments take torch's result dtype (``minicnn.ops.arguments.result_dtype``).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..backend import xp_of
from ..tensor import Tensor
from . import math as _math
from .arguments import as_tensor, result_dtype, same_device, to_floating
from .math import _shape, unbroadcast


def _cast(value, dtype):
    """A tensor cast to ``dtype``; numbers and None pass as they are."""
    return value.to(dtype) if isinstance(value, Tensor) and value.dtype != dtype else value


def _check_broadcast(op: str, *values) -> None:
    shapes = [v.shape for v in values if isinstance(v, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"{op}(): shapes {', '.join(map(str, shapes))} cannot be broadcast "
                           f"together") from None


# ---- clamp ----------------------------------------------------------------------------
class Clamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        xp = xp_of(x)
        ctx.save_for_backward(x, low, high)
        out = x if low is None else xp.maximum(x, low)
        out = out if high is None else xp.minimum(out, high)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, low, high = ctx.saved_tensors
        xp = xp_of(g)
        zero = xp.zeros((), dtype=g.dtype)
        need_x, need_low, need_high = ctx.needs_input_grad
        inside = xp.ones(x.shape, dtype=bool)
        if low is not None:
            inside = inside & (x >= low)
        if high is not None:
            inside = inside & (x <= high)
        grad_x = unbroadcast(xp.where(inside, g, zero), x.shape) if need_x else None
        grad_low = grad_high = None
        if need_low:
            below = (x < low) & (low < high) if high is not None else x < low
            grad_low = unbroadcast(xp.where(below, g, zero), _shape(low))
        if need_high:
            above = (x > high) | (high < low) if low is not None else x > high
            grad_high = unbroadcast(xp.where(above, g, zero), _shape(high))
        return grad_x, grad_low, grad_high


def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - torch's names
    """``torch.clamp``: ``min(max(input, min), max)``; ``min``/``max`` are numbers or tensors
    (broadcast), at least one given; ``min > max`` gives ``max`` everywhere, as torch."""
    input = as_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError(f"clamp(): at least one of 'min' or 'max' must not be None "
                           f"(input shape {input.shape})")
    _check_broadcast("clamp", input, min, max)
    same_device([t for t in (input, min, max) if isinstance(t, Tensor)], "clamp")
    dtype = result_dtype(input, min, max)
    return Clamp.apply(*(_cast(v, dtype) for v in (input, min, max)))


clip = clamp


# ---- maximum, minimum -----------------------------------------------------------------
class Extremum(Function):
    @staticmethod
    def forward(ctx, a, b, largest=True):
        ctx.save_for_backward(a, b)
        ctx.largest = largest
        xp = xp_of(a)
        return xp.maximum(a, b) if largest else xp.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        wins = (a > b) if ctx.largest else (a < b)
        share = (wins + 0.5 * (a == b)).astype(g.dtype, copy=False)
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g * share, a.shape) if need_a else None,
                unbroadcast(g * (1 - share), b.shape) if need_b else None)


def _extremum(input, other, largest: bool, op: str) -> Tensor:
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not "
                            f"{type(value).__name__}")
    _check_broadcast(op, input, other)
    same_device([input, other], op)
    dtype = result_dtype(input, other)
    return Extremum.apply(_cast(input, dtype), _cast(other, dtype), largest=largest)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """``torch.maximum``: the elementwise larger of two tensors (broadcast)."""
    return _extremum(input, other, True, "maximum")


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """``torch.minimum``: the elementwise smaller of two tensors (broadcast)."""
    return _extremum(input, other, False, "minimum")


# ---- pow, abs, neg, square ------------------------------------------------------------
def pow(input, exponent) -> Tensor:  # noqa: A001 - torch.pow
    """``torch.pow``: ``input ** exponent``, where either (not both) may be a number."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"pow(): expected a Tensor as input or exponent, got "
                        f"{type(input).__name__} and {type(exponent).__name__}")
    if isinstance(input, Tensor) and isinstance(exponent, Tensor):
        _check_broadcast("pow", input, exponent)
        same_device([input, exponent], "pow")
    dtype = result_dtype(input, exponent)
    return _math.Pow.apply(_cast(input, dtype), _cast(exponent, dtype))


def square(input: Tensor) -> Tensor:
    """``torch.square``: ``input ** 2`` (integers stay integers)."""
    return _math.Pow.apply(as_tensor(input, "square"), 2)


def abs(input: Tensor) -> Tensor:  # noqa: A001 - torch.abs
    return _math.Abs.apply(as_tensor(input, "abs"))


def neg(input: Tensor) -> Tensor:
    return _math.Neg.apply(as_tensor(input, "neg"))


negative = neg


# ---- sign, log1p, expm1 ---------------------------------------------------------------
class Sign(Function):
    @staticmethod
    def forward(ctx, x):
        return xp_of(x).sign(x)

    @staticmethod
    def backward(ctx, g):
        return xp_of(g).zeros_like(g)


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x)


class Expm1(Function):
    @staticmethod
    def forward(ctx, x):
        out = xp_of(x).expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (out + 1)


def sign(input: Tensor) -> Tensor:
    """``torch.sign``: -1, 0 or 1 of the input's dtype; its gradient is 0."""
    input = as_tensor(input, "sign")
    if input.dtype.kind == "b":
        return input.clone()
    return Sign.apply(input)


def log1p(input: Tensor) -> Tensor:
    """``torch.log1p``: ``log(1 + input)``, accurate for small inputs."""
    return Log1p.apply(to_floating(as_tensor(input, "log1p")))


def expm1(input: Tensor) -> Tensor:
    """``torch.expm1``: ``exp(input) - 1``, accurate for small inputs."""
    return Expm1.apply(to_floating(as_tensor(input, "expm1")))
