"""Elementwise arithmetic, reductions, matrix product and shape ops.

Each op is a :class:`~minicnn.autograd.Function`. Binary ops follow NumPy
broadcasting; their backward sums the incoming gradient over the broadcast axes
(:func:`unbroadcast`) so that every input receives a gradient of its own shape.
For ``y = f(a, b)`` and an upstream gradient ``g = dL/dy``:

==========  =========================  =================================
op          dL/da                      dL/db
==========  =========================  =================================
a + b       g                          g
a - b       g                          -g
a * b       g * b                      g * a
a / b       g / b                      -g * a / b**2
a ** b      g * b * a**(b-1)           g * a**b * log(a)
a @ b       g @ b^T                    a^T @ g
exp(a)      g * exp(a)
log(a)      g / a
|a|         g * sign(a)
==========  =========================  =================================
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..backend import is_cupy_array, to_device, xp_of
from ..tensor import Tensor


def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` down to ``shape``: over leading axes NumPy added, and over axes of size 1."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if ones:
        grad = grad.sum(axis=ones, keepdims=True)
    return grad


def _shape(value) -> tuple:
    return tuple(np.shape(value)) if not hasattr(value, "shape") else tuple(value.shape)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a + b

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.shapes[0]) if need_a else None,
                unbroadcast(g, ctx.shapes[1]) if need_b else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a - b

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.shapes[0]) if need_a else None,
                unbroadcast(-g, ctx.shapes[1]) if need_b else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g * b, _shape(a)) if need_a else None,
                unbroadcast(g * a, _shape(b)) if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g / b, _shape(a)) if need_a else None,
                unbroadcast(-g * a / (b * b), _shape(b)) if need_b else None)


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


def _power_rule(a, b):
    """``d(a ** b)/da = b a^(b-1)``, and 0 where ``b = 0`` (as torch, even at ``a = 0``)."""
    if not hasattr(b, "shape"):
        return b * a ** (b - 1) if b != 0 else xp_of(a).zeros_like(a)
    xp = xp_of(b)
    return xp.where(b == 0, 0, b * a ** xp.where(b == 0, 1, b - 1))


class Pow(Function):
    """``a ** b``; the gradient to ``b`` needs ``a > 0`` (it holds ``log(a)``), except that,
    as in torch, it is 0 where ``a = 0`` and ``b >= 0``, and the gradient to ``a`` is 0 where
    ``b = 0``."""

    @staticmethod
    def forward(ctx, a, b):
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        xp = xp_of(out)
        zero = xp.zeros((), dtype=out.dtype)
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(g * _power_rule(a, b), _shape(a))
        if need_b:
            at_zero = (a == 0) & (b >= 0)
            log_a = xp.log(xp.where(at_zero, 1, a))
            grad_b = unbroadcast(xp.where(at_zero, zero, g * out * log_a), _shape(b))
        return grad_a, grad_b


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = xp_of(a).exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * xp_of(a).sign(a)


def _axes(dim, ndim: int) -> tuple:
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(sorted(d % ndim for d in dims))


def _expand_back(g, in_shape: tuple, axes: tuple, keepdim: bool):
    """Broadcast a reduced gradient back over the reduced ``axes`` to ``in_shape``."""
    if not keepdim:
        g = xp_of(g).expand_dims(g, axes)
    return xp_of(g).broadcast_to(g, in_shape)


class Sum(Function):
    """``y = sum over dim of a``; dL/da = g broadcast back over the summed axes."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.axes, ctx.in_shape, ctx.keepdim = _axes(dim, a.ndim), a.shape, keepdim
        return a.sum(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdim).copy()


class Mean(Function):
    """``y = mean over dim of a``; dL/da = g / count, broadcast back."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.axes, ctx.in_shape, ctx.keepdim = _axes(dim, a.ndim), a.shape, keepdim
        ctx.count = int(np.prod([a.shape[i] for i in ctx.axes]))
        return a.mean(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g / ctx.count, ctx.in_shape, ctx.axes, ctx.keepdim).copy()


class MatMul(Function):
    """``a @ b`` with NumPy's rules (1-d operands promoted, batch axes broadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g.reshape((a2 @ b2).shape) if (a.ndim == 1 or b.ndim == 1) else g
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return grad_a, grad_b


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape=()):
        ctx.in_shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape/view: cannot view shape {tuple(a.shape)} "
                             f"({a.size} elements) as {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims=()):
        if sorted(dims) != list(range(a.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of {a.ndim} axes")
        ctx.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(ctx.inverse)


def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice, np.integer)) for p in parts)


class GetItem(Function):
    """``a[index]``; backward scatters ``g`` into zeros, adding where an index repeats."""

    @staticmethod
    def forward(ctx, a, index=None):
        ctx.index, ctx.in_shape, ctx.dtype = index, a.shape, a.dtype
        return a[index]

    @staticmethod
    def backward(ctx, g):
        xp = xp_of(g)
        grad = xp.zeros(ctx.in_shape, dtype=g.dtype)
        if _is_basic_index(ctx.index):
            grad[ctx.index] = g
        else:
            xp.add.at(grad, ctx.index, g)  # NumPy, and CuPy >= 13
        return grad


class TakeAlongDim(Function):
    """``out[..] = a[.., index[..], ..]`` along ``dim`` (one index per slice, as ``max``)."""

    @staticmethod
    def forward(ctx, a, index=None, dim=0):
        ctx.index, ctx.dim, ctx.in_shape = index, dim, a.shape
        return xp_of(a).take_along_axis(a, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = xp_of(g)
        positions_shape = [1] * len(ctx.in_shape)
        positions_shape[ctx.dim] = ctx.in_shape[ctx.dim]
        positions = xp.arange(ctx.in_shape[ctx.dim]).reshape(positions_shape)
        return xp.where(positions == ctx.index, g, xp.zeros((), dtype=g.dtype))


class Copy(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    @staticmethod
    def forward(ctx, a, dtype=None):
        ctx.in_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.in_dtype) if ctx.in_dtype.kind == "f" else None


class ToDevice(Function):
    """Move to 'cpu' or 'cuda'; the gradient moves back."""

    @staticmethod
    def forward(ctx, a, device="cpu"):
        ctx.in_device = "cuda" if is_cupy_array(a) else "cpu"
        return to_device(a, device)

    @staticmethod
    def backward(ctx, g):
        return to_device(g, ctx.in_device)


MaxMin = namedtuple("MaxMin", ["values", "indices"])


def arg_extreme(x: Tensor, dim, keepdim: bool, largest: bool) -> Tensor:
    """Index of the first largest (or smallest) element, over all or along ``dim``."""
    xp = xp_of(x.data)
    pick = xp.argmax if largest else xp.argmin
    if dim is None:
        return Tensor(xp.asarray(pick(x.data), dtype=np.int64))
    return Tensor(pick(x.data, axis=dim, keepdims=keepdim).astype(np.int64))


def extreme(x: Tensor, dim, keepdim: bool, largest: bool):
    """``max``/``min`` as torch: the value alone, or ``(values, indices)`` along ``dim``.

    The gradient goes to the first extreme element of each slice (torch spreads it
    evenly over ties for the whole-tensor form; ties have measure zero in practice).
    """
    if dim is None:
        flat = x.reshape(-1)
        index = arg_extreme(flat, 0, True, largest).data
        return TakeAlongDim.apply(flat, index=index, dim=0).reshape(())
    dim = dim % x.ndim
    index = arg_extreme(x, dim, True, largest).data
    values = TakeAlongDim.apply(x, index=index, dim=dim)
    if not keepdim:
        values = values.squeeze(dim)
        index = index.squeeze(axis=dim)
    return MaxMin(values, Tensor(index))
