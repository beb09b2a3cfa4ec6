"""Reductions and scans: ``norm``, ``var``/``std``, ``prod``, ``cumsum``, ``sort``,
``argsort``, ``topk``, ``any``, ``all``.

Over the reduced elements ``x_i`` (``n`` of them) with ``g = dL/dout``:

* ``norm``, ``||x||_p = (sum |x_i|^p)^(1/p)``: ``dL/dx_i = g sign(x_i) |x_i|^(p-1) / ||x||^(p-1)``
  (0 where ``||x|| = 0``, and for ``p < 1`` where ``x_i = 0``); ``p = 1``: ``g sign(x_i)``;
  ``p = inf`` (``max |x_i|``) and ``-inf`` (``min``): ``g sign(x_i)`` shared evenly by the
  elements that reach the extreme; ``p = 0`` (count of non-zeros): 0.
* ``var = sum (x_i - mean)^2 / max(n - correction, 0)``: ``dL/dx_i = 2 g (x_i - mean) /
  (n - correction)``; ``std = sqrt(var)``: that over ``2 std`` (0 where ``std = 0``, as torch).
* ``prod``: ``dL/dx_i = g prod_{j != i} x_j``, the product of the exclusive cumulative products
  from the left and from the right, so it is right with zeros among the ``x_j``.
* ``cumsum``: ``dL/dx_i = sum_{j >= i} g_j`` (a reversed cumulative sum).
* ``sort``/``topk`` values: ``g`` goes back to the positions its values came from.
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..backend import xp_of
from ..tensor import Tensor
from .arguments import as_tensor, is_floating, normalize_dim, normalize_dims
from .shape import Gather

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def _keep(g, axes: tuple, keepdim: bool):
    """``g`` with the reduced ``axes`` put back as size 1 (so it broadcasts over the input)."""
    return g if keepdim else xp_of(g).expand_dims(g, axes)


def _dims(input: Tensor, dim, op: str) -> tuple:
    if dim is None:
        return tuple(range(input.ndim))
    return normalize_dims(dim, input.ndim, op, input.shape) if input.ndim else ()


def _float_only(input: Tensor, op: str, what: str) -> None:
    if not is_floating(input):
        raise RuntimeError(f"{op}(): {what}, got dtype {input.dtype} (shape {input.shape})")


# ---- norm -------------------------------------------------------------------------------
class Norm(Function):
    @staticmethod
    def forward(ctx, x, p=2.0, axes=(), keepdim=False):
        xp = xp_of(x)
        a = xp.abs(x)
        if p == math.inf:
            out = a.max(axis=axes, keepdims=True)
        elif p == -math.inf:
            out = a.min(axis=axes, keepdims=True)
        elif p == 0:
            out = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        elif p == 1:
            out = a.sum(axis=axes, keepdims=True)
        elif p == 2:
            out = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            out = (a ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, out)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return out if keepdim else out.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp, p = xp_of(x), ctx.p
        g = _keep(g, ctx.axes, ctx.keepdim)
        if p == 0:
            return xp.zeros_like(x)
        sign = xp.sign(x)
        if p == 1:
            return sign * g
        a = xp.abs(x)
        if math.isinf(p):
            reached = a == out
            return sign * reached * (g / reached.sum(axis=ctx.axes, keepdims=True))
        zero = xp.zeros((), dtype=x.dtype)
        if p >= 1:
            scaled = sign * a ** (p - 1)
        else:  # |x|^(p-1) is infinite at 0, where torch's gradient is 0
            scaled = xp.where(a == 0, zero, sign * xp.where(a == 0, 1, a) ** (p - 1))
        scale = xp.where(out == 0, zero, g / xp.where(out == 0, 1, out) ** (p - 1))
        return scaled * scale


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``torch.norm``: the vector ``p``-norm over ``dim`` (every dim by default); ``p`` is a
    number, ``inf``, ``-inf`` or ``'fro'`` (the 2-norm). ``'nuc'`` is not supported."""
    input = as_tensor(input, "norm")
    if dtype is not None:
        input = input.to(dtype)
    _float_only(input, "norm", "expected a floating point tensor as input")
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"norm(): p={p!r} is not supported by minicnn (only "
                                      f"vector norms: a number, inf, -inf or 'fro')")
        p = 2.0
    return Norm.apply(input, p=float(p), axes=_dims(input, dim, "norm"), keepdim=keepdim)


# ---- var, std ---------------------------------------------------------------------------
class Variance(Function):
    @staticmethod
    def forward(ctx, x, axes=(), correction=1, keepdim=False, root=False):
        xp = xp_of(x)
        centred = x - x.mean(axis=axes, keepdims=True)
        divisor = max(math.prod(x.shape[i] for i in axes) - correction, 0)
        ctx.scale = 1.0 / divisor if divisor else math.inf
        out = (centred * centred).sum(axis=axes, keepdims=True) * ctx.scale
        if root:
            out = xp.sqrt(out)
        ctx.save_for_backward(centred, out)
        ctx.axes, ctx.keepdim, ctx.root = axes, keepdim, root
        return out if keepdim else out.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, g):
        centred, out = ctx.saved_tensors
        xp = xp_of(g)
        g = _keep(g, ctx.axes, ctx.keepdim)
        if ctx.root:
            zero = xp.zeros((), dtype=g.dtype)
            return xp.where(out == 0, zero, g / xp.where(out == 0, 1, out)) * centred * ctx.scale
        return 2 * ctx.scale * g * centred


def _variance(input, dim, unbiased, keepdim, correction, root: bool, op: str) -> Tensor:
    input = as_tensor(input, op)
    _float_only(input, op, "std and var only support floating point dtypes")
    if isinstance(dim, bool):  # var(x, True): the old (input, unbiased) form
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    elif unbiased is not None:
        raise TypeError(f"{op}(): give correction or unbiased, not both")
    return Variance.apply(input, axes=_dims(input, dim, op), correction=correction,
                          keepdim=keepdim, root=root)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """``torch.var``: ``sum (x - mean)^2 / max(n - correction, 0)`` over ``dim`` (every dim
    by default); ``correction=1`` (Bessel) by default, ``unbiased=False`` means 0."""
    return _variance(input, dim, unbiased, keepdim, correction, False, "var")


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """``torch.std``: the square root of :func:`var` (same arguments)."""
    return _variance(input, dim, unbiased, keepdim, correction, True, "std")


# ---- prod, cumsum -----------------------------------------------------------------------
def _along(dim: int, part: slice) -> tuple:
    return (slice(None),) * dim + (part,)


def _exclusive_cumprod(x, dim: int):
    """``out_i = prod_{j < i} x_j`` along ``dim`` (1 for the first)."""
    xp = xp_of(x)
    first = xp.ones_like(x[_along(dim, slice(0, 1))])
    return xp.concatenate([first, xp.cumprod(x, axis=dim)[_along(dim, slice(None, -1))]], axis=dim)


class Prod(Function):
    @staticmethod
    def forward(ctx, x, dim=0, keepdim=False):
        ctx.save_for_backward(x)
        ctx.dim, ctx.keepdim = dim, keepdim
        return x.prod(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp, dim = xp_of(x), ctx.dim
        left = _exclusive_cumprod(x, dim)
        right = xp.flip(_exclusive_cumprod(xp.flip(x, axis=dim), dim), axis=dim)
        return _keep(g, (dim,), ctx.keepdim) * left * right


def _accumulating(input: Tensor, dtype) -> Tensor:
    """``input`` cast to ``dtype``, or to int64 when it is a bool/integer tensor (torch)."""
    if dtype is None and not is_floating(input):
        dtype = np.int64
    return input if dtype is None or input.dtype == np.dtype(dtype) else input.to(dtype)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``torch.prod``: the product of all elements, or along one ``dim``; integers give int64."""
    input = _accumulating(as_tensor(input, "prod"), dtype)
    if dim is None:
        return Prod.apply(input.reshape(-1), dim=0, keepdim=False)
    dim = normalize_dim(dim, input.ndim, "prod", input.shape)
    if input.ndim == 0:
        return input.clone()
    return Prod.apply(input, dim=dim, keepdim=keepdim)


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, dim=0):
        ctx.dim = dim
        return xp_of(x).cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = xp_of(g)
        return xp.flip(xp.cumsum(xp.flip(g, axis=ctx.dim), axis=ctx.dim), axis=ctx.dim)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """``torch.cumsum``: running sums along ``dim``; bool and integers give int64."""
    input = _accumulating(as_tensor(input, "cumsum"), dtype)
    dim = normalize_dim(dim, input.ndim, "cumsum", input.shape)
    if input.ndim == 0:
        return input.clone()
    return CumSum.apply(input, dim=dim)


# ---- sort, argsort, topk ----------------------------------------------------------------
def _order(array, dim: int, descending: bool):
    """Stable sorting indices (int64) along ``dim``; NaN counts as the largest value, so it
    comes last ascending and first descending, as in torch."""
    xp = xp_of(array)
    if not descending:
        return xp.argsort(array, axis=dim, kind="stable").astype(np.int64)
    n = array.shape[dim]
    reversed_order = xp.argsort(xp.flip(array, axis=dim), axis=dim, kind="stable")
    return (n - 1 - xp.flip(reversed_order, axis=dim)).astype(np.int64)


def _sorted(input: Tensor, dim: int, descending: bool, op: str, count=None):
    input = as_tensor(input, op)
    if input.ndim == 0:
        values, indices = _sorted(input.reshape(1), 0, descending, op, count)
        return values.reshape(()), indices.reshape(())
    dim = normalize_dim(dim, input.ndim, op, input.shape)
    index = _order(input.array, dim, descending)
    if count is not None:
        index = index[_along(dim, slice(0, count))]
    return Gather.apply(input, dim=dim, index=index), Tensor(index)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """``torch.sort``: ``(values, indices)`` along ``dim``; always stable (equal values keep
    their order), which torch allows for ``stable=False`` too."""
    return SortResult(*_sorted(input, dim, descending, "sort"))


def argsort(input: Tensor, dim: int = -1, descending: bool = False,
            stable: bool = False) -> Tensor:
    """``torch.argsort``: the int64 indices that sort ``input`` along ``dim`` (stable)."""
    return _sorted(input, dim, descending, "argsort")[1]


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """``torch.topk``: ``(values, indices)`` of the ``k`` largest (or smallest) along ``dim``,
    always in sorted order (which ``sorted=False`` allows)."""
    input = as_tensor(input, "topk")
    size = input.shape[normalize_dim(dim, input.ndim, "topk", input.shape)] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k={k} out of range for dimension {dim} "
                           f"of size {size} (shape {input.shape})")
    return TopkResult(*_sorted(input, dim, largest, "topk", count=k))


# ---- any, all ---------------------------------------------------------------------------
def _logical(input: Tensor, dim, keepdim: bool, op: str, reduce) -> Tensor:
    input = as_tensor(input, op)
    axes = _dims(input, dim, op)
    return Tensor(reduce(input.array != 0, axis=axes, keepdims=keepdim))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch.any
    """``torch.any``: whether any element (over ``dim``, an int or tuple) is non-zero (bool)."""
    return _logical(input, dim, keepdim, "any", lambda a, **kw: a.any(**kw))


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch.all
    """``torch.all``: whether every element (over ``dim``) is non-zero (bool)."""
    return _logical(input, dim, keepdim, "all", lambda a, **kw: a.all(**kw))
