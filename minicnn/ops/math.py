"""Elementwise arithmetic, reductions, matrix product and shape ops.

Each op is a :class:`~minicnn.autograd.Function`. Binary ops follow NumPy
broadcasting; their backward sums the incoming gradient over the broadcast axes
(:func:`unbroadcast`) so that every input receives a gradient of its own shape. Their
operands are first cast to torch's result dtype (:func:`promoted`): ``int tensor * 2.5`` is
float32, a float64 number does not widen a float32 tensor, ``int / int`` is float32.
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
from ..dtypes import float32, result_type
from ..tensor.core import Tensor  # the module: imported while minicnn.tensor loads


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


def _cast(value, target):
    if isinstance(value, np.generic):
        return value.item()  # a NumPy scalar counts as a Python number, as in torch
    if hasattr(value, "dtype") and value.dtype != target:
        return value.astype(target)
    return value


def broadcast_error(op: str, a, b) -> RuntimeError:
    """torch's error for operands whose shapes do not broadcast, naming the op and both."""
    shape_a, shape_b = _shape(a), _shape(b)
    ndim = max(len(shape_a), len(shape_b))
    for i in range(1, min(len(shape_a), len(shape_b)) + 1):
        size_a, size_b = shape_a[-i], shape_b[-i]
        if size_a != size_b and 1 not in (size_a, size_b):
            return RuntimeError(f"{op}: the size of tensor a ({size_a}) must match the size of "
                                f"tensor b ({size_b}) at non-singleton dimension {ndim - i} "
                                f"(shapes {shape_a} and {shape_b})")
    return RuntimeError(f"{op}: shapes {shape_a} and {shape_b} do not broadcast")


def _keeps_dtype(dtype, number) -> bool:
    """Whether ``array <op> number`` has the array's dtype without any cast (fast path)."""
    if dtype is None:
        return False
    return (type(number) is float and dtype.kind == "f") or (
        type(number) is int and dtype.kind in "iuf")


def promoted(a, b, true_division: bool = False) -> tuple:
    """``a`` and ``b`` (arrays or Python numbers) with their arrays cast to torch's result
    dtype (:func:`minicnn.dtypes.result_type`; float32 for ``int / int``). Numbers stay
    numbers, which NumPy and CuPy take in the arrays' dtype."""
    dtype_a, dtype_b = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if dtype_a is not None and dtype_b is not None:
        same = dtype_a == dtype_b
    else:  # an array and a number: the common cases keep the array's dtype
        same = _keeps_dtype(dtype_a if dtype_b is None else dtype_b, b if dtype_b is None else a)
    if same and not (true_division and (dtype_a or dtype_b).kind != "f"):
        return a, b
    target = result_type(a, b)
    if true_division and target.kind != "f":
        target = float32.dtype
    return _cast(a, target), _cast(b, target)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        a, b = promoted(a, b)
        try:
            return a + b
        except ValueError:
            raise broadcast_error("add", a, b) from None

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.shapes[0]) if need_a else None,
                unbroadcast(g, ctx.shapes[1]) if need_b else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        a, b = promoted(a, b)
        try:
            return a - b
        except ValueError:
            raise broadcast_error("sub", a, b) from None

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.shapes[0]) if need_a else None,
                unbroadcast(-g, ctx.shapes[1]) if need_b else None)


class Mul(Function):
    """Saves each operand only when the other's gradient needs it (as torch, so that an
    in-place change of an operand that backward does not read is no error)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        a, b = promoted(a, b)
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        try:
            return a * b
        except ValueError:
            raise broadcast_error("mul", a, b) from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g * b, ctx.shapes[0]) if need_a else None,
                unbroadcast(g * a, ctx.shapes[1]) if need_b else None)


class Div(Function):
    """True division; saves ``a`` only when ``b`` needs a gradient."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        a, b = promoted(a, b, true_division=True)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        try:
            return a / b
        except ValueError:
            raise broadcast_error("div", a, b) from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g / b, ctx.shapes[0]) if need_a else None,
                unbroadcast(-g * a / (b * b), ctx.shapes[1]) if need_b else None)


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
        ctx.shapes = (_shape(a), _shape(b))
        a, b = promoted(a, b)
        try:
            out = a ** b
        except ValueError:
            raise broadcast_error("pow", a, b) from None
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
            grad_a = unbroadcast(g * _power_rule(a, b), ctx.shapes[0])
        if need_b:
            at_zero = (a == 0) & (b >= 0)
            log_a = xp.log(xp.where(at_zero, 1, a))
            grad_b = unbroadcast(xp.where(at_zero, zero, g * out * log_a), ctx.shapes[1])
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
    """``y = sum over dim of a``; dL/da = g broadcast back over the summed axes. Bool and
    integer tensors sum to int64, as in torch."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.axes, ctx.in_shape, ctx.keepdim = _axes(dim, a.ndim), a.shape, keepdim
        dtype = np.int64 if a.dtype.kind in "biu" else None
        return a.sum(axis=ctx.axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdim).copy()


class Mean(Function):
    """``y = mean over dim of a``; dL/da = g / count, broadcast back."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        if a.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be "
                               f"either a floating point or complex dtype. Got: {a.dtype}")
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
    xp = xp_of(x.array)
    pick = xp.argmax if largest else xp.argmin
    if dim is None:
        return Tensor(xp.asarray(pick(x.array), dtype=np.int64))
    return Tensor(pick(x.array, axis=dim, keepdims=keepdim).astype(np.int64))


def extreme(x: Tensor, dim, keepdim: bool, largest: bool):
    """``max``/``min`` as torch: the value alone, or ``(values, indices)`` along ``dim``.

    The gradient goes to the first extreme element of each slice (torch spreads it
    evenly over ties for the whole-tensor form; ties have measure zero in practice).
    """
    if dim is None:
        flat = x.reshape(-1)
        index = arg_extreme(flat, 0, True, largest).array
        return TakeAlongDim.apply(flat, index=index, dim=0).reshape(())
    dim = dim % x.ndim
    index = arg_extreme(x, dim, True, largest).array
    values = TakeAlongDim.apply(x, index=index, dim=dim)
    if not keepdim:
        values = values.squeeze(dim)
        index = index.squeeze(axis=dim)
    return MaxMin(values, Tensor(index))
