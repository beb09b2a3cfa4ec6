"""Out-of-place forms of the writes ``fill_``, ``copy_`` and ``x[index] = v``.

``Tensor``'s in-place methods (``minicnn/tensor/inplace.py``) run these on the tape when the
tensor or the written value requires grad, and then rebind the tensor to the result. For an
upstream gradient ``g`` (shape of ``a``):

=================  ==============================  ===================================
op                 dL/da                           dL/dv
=================  ==============================  ===================================
fill(a, v)         0                               sum(g)          (v a 0-dim tensor)
copy_into(a, v)    0                               g summed over v's broadcast axes
index_put(a,i,v)   g, zero at a[i]                 g[i] summed over v's broadcast axes
=================  ==============================  ===================================
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import device_of, to_device, xp_of
from .math import unbroadcast


def _on_device_of(a, value):
    """``value`` (array or number) on ``a``'s device, so it can be written into ``a``."""
    if hasattr(value, "shape") and device_of(value) != device_of(a):
        return to_device(value, device_of(a))
    return value


class Fill(Function):
    """Every element of ``a`` set to ``value`` (a number or a one-element array)."""

    @staticmethod
    def forward(ctx, a, value):
        ctx.value_shape = getattr(value, "shape", ())
        out = xp_of(a).empty_like(a)
        out[...] = _on_device_of(a, value)
        return out

    @staticmethod
    def backward(ctx, g):
        need_a, need_value = ctx.needs_input_grad
        return (xp_of(g).zeros_like(g) if need_a else None,
                g.sum().reshape(ctx.value_shape) if need_value else None)


class CopyInto(Function):
    """``source`` broadcast to ``a``'s shape and cast to its dtype (``a``'s values unused)."""

    @staticmethod
    def forward(ctx, a, source):
        ctx.source_shape = tuple(getattr(source, "shape", ()))
        out = xp_of(a).empty_like(a)
        try:
            out[...] = _on_device_of(a, source)
        except ValueError:
            raise RuntimeError(f"copy_: the source of shape {ctx.source_shape} cannot be "
                               f"broadcast to the tensor's shape {tuple(a.shape)}") from None
        return out

    @staticmethod
    def backward(ctx, g):
        need_a, need_source = ctx.needs_input_grad
        return (xp_of(g).zeros_like(g) if need_a else None,
                unbroadcast(g, ctx.source_shape) if need_source else None)


class IndexPut(Function):
    """A copy of ``a`` with ``a[index] = value`` (``value`` broadcast to ``a[index]``)."""

    @staticmethod
    def forward(ctx, a, value, index=None):
        ctx.index, ctx.value_shape = index, tuple(getattr(value, "shape", ()))
        out = a.copy()
        try:
            out[index] = _on_device_of(a, value)
        except ValueError:
            raise RuntimeError(f"x[index] = value: shape mismatch: value of shape "
                               f"{ctx.value_shape} cannot be broadcast to the indexing result "
                               f"of shape {tuple(a[index].shape)}") from None
        return out

    @staticmethod
    def backward(ctx, g):
        need_a, need_value = ctx.needs_input_grad
        grad_a = grad_value = None
        if need_a:
            grad_a = g.copy()
            grad_a[ctx.index] = 0
        if need_value:
            grad_value = unbroadcast(g[ctx.index], ctx.value_shape)
        return grad_a, grad_value
