"""Shape and indexing functions: ``cat``, ``stack``, ``split``, ``chunk``, ``flip``,
``repeat``, ``expand``, ``masked_fill``, ``gather``, ``index_select``, ``where``.

Gradients (``g = dL/dout``):

* ``cat``: each input gets its own slice of ``g`` along ``dim``; ``stack`` is ``cat`` of
  the inputs unsqueezed at ``dim``; ``split``/``chunk`` are slices (``Tensor[...]``).
* ``flip``: ``g`` flipped back. ``repeat(r_0, .., r_k)``: ``g`` viewed as
  ``(r_0, s_0, .., r_k, s_k)`` and summed over the ``r`` axes. ``expand``: ``g`` summed over
  the broadcast axes.
* ``masked_fill(x, mask, v)``: ``g`` where the mask is off goes to ``x``; the sum of ``g``
  where it is on goes to a tensor ``v``. ``where(c, a, b)``: ``g`` where ``c`` to ``a``, the
  rest to ``b`` (each summed back to its own shape).
* ``gather(x, dim, index)``: ``g`` is added into zeros of ``x``'s shape at the gathered
  positions (repeated indices add); ``index_select`` is indexing with an array.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..backend import xp_of
from ..tensor import Tensor
from .arguments import as_tensor, normalize_dim, normalize_dims, result_dtype, same_device
from .math import _shape, unbroadcast


# ---- cat, stack, split, chunk -------------------------------------------------------
def _skipped(arrays) -> list:
    """Which arrays are 1-d and empty beside arrays of another rank (torch leaves them out)."""
    other_rank = any(a.ndim != 1 for a in arrays)
    return [other_rank and tuple(a.shape) == (0,) for a in arrays]


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim, ctx.skipped = dim, _skipped(arrays)
        kept = [a for a, skip in zip(arrays, ctx.skipped) if not skip]
        ctx.bounds = np.cumsum([a.shape[dim] for a in kept])[:-1].tolist()
        return xp_of(kept[0]).concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = xp_of(g)
        pieces = iter(xp.split(g, ctx.bounds, axis=ctx.dim))
        grads = [xp.zeros(0, dtype=g.dtype) if skip else next(pieces) for skip in ctx.skipped]
        return tuple(p if need else None for p, need in zip(grads, ctx.needs_input_grad))


def _tensor_list(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): expected a list or tuple of Tensors, "
                        f"got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i}, got {type(t).__name__}")
    same_device(tensors, op)
    return list(tensors)


def _promoted(tensors: list, dtype) -> list:
    return [t if t.dtype == dtype else t.to(dtype) for t in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """``torch.cat``: join tensors of the same shape except in ``dim`` along ``dim``;
    the result has their promoted dtype. As in torch, 1-d empty tensors (``tensor([])``,
    the start of an accumulation) are left out, though they count for the dtype."""
    tensors = _tensor_list(tensors, "cat")
    skipped = _skipped(tensors)
    checked = [(i, t) for i, (t, skip) in enumerate(zip(tensors, skipped)) if not skip]
    k, first = checked[0]
    dim = normalize_dim(dim, first.ndim, "cat", first.shape)
    for i, t in checked:
        if t.ndim != first.ndim:
            raise RuntimeError(f"cat(): tensors must have the same number of dimensions; got "
                               f"shape {first.shape} for tensor {k} and {t.shape} for tensor {i}")
        if first.ndim == 0 or any(a != b for d, (a, b) in enumerate(zip(first.shape, t.shape))
                                  if d != dim):
            raise RuntimeError(f"cat(): sizes of tensors must match except in dimension {dim}; "
                               f"got shape {first.shape} for tensor {k} and {t.shape} for "
                               f"tensor {i}")
    return Cat.apply(*_promoted(tensors, result_dtype(*tensors)), dim=dim)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """``torch.stack``: join tensors of one shape along a new dimension ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    first = tensors[0]
    dim = normalize_dim(dim, first.ndim + 1, "stack", first.shape)
    for i, t in enumerate(tensors):
        if t.shape != first.shape:
            raise RuntimeError(f"stack(): expects each tensor to be equal size, but got "
                               f"{first.shape} at entry 0 and {t.shape} at entry {i}")
    return Cat.apply(*[t.unsqueeze(dim) for t in _promoted(tensors, result_dtype(*tensors))],
                     dim=dim)


def _narrow(t: Tensor, dim: int, start: int, length: int) -> Tensor:
    return t[(slice(None),) * dim + (slice(start, start + length),)]


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """``torch.split``: pieces of ``split_size`` along ``dim`` (the last may be smaller), or
    pieces of the listed sizes, which must sum to the size of ``dim``. Pieces are views."""
    tensor = as_tensor(tensor, "split")
    dim = normalize_dim(dim, tensor.ndim, "split", tensor.shape)
    size = tensor.shape[dim] if tensor.ndim else 1
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step < 0 or (step == 0 and size != 0):
            raise RuntimeError(f"split(): split_size must be positive for dimension {dim} of "
                               f"size {size} (shape {tensor.shape}), got {step}")
        sizes = [min(step, size - start) for start in range(0, size, step or 1)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != size:
            raise RuntimeError(f"split(): split_sizes {sizes} must be non-negative and sum "
                               f"exactly to {size}, the size of dimension {dim} of shape "
                               f"{tensor.shape}")
    starts = np.cumsum([0] + sizes[:-1]).tolist()
    return tuple(_narrow(tensor, dim, s, n) for s, n in zip(starts, sizes))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``torch.chunk``: ``split`` into pieces of ``ceil(size / chunks)`` (so possibly fewer
    than ``chunks`` pieces, as torch)."""
    input = as_tensor(input, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk(): chunks must be greater than 0, got {chunks} "
                           f"(shape {input.shape})")
    dim = normalize_dim(dim, input.ndim, "chunk", input.shape)
    size = input.shape[dim]
    if size == 0:
        return split(input, [0] * chunks, dim)
    return split(input, math.ceil(size / chunks), dim)


# ---- flip, repeat, expand ----------------------------------------------------------
class Flip(Function):
    @staticmethod
    def forward(ctx, a, dims=()):
        ctx.dims = dims
        return xp_of(a).flip(a, axis=dims).copy()

    @staticmethod
    def backward(ctx, g):
        return xp_of(g).flip(g, axis=ctx.dims)


def flip(input: Tensor, dims) -> Tensor:
    """``torch.flip``: reverse the order of elements along ``dims`` (a copy, as torch)."""
    input = as_tensor(input, "flip")
    return Flip.apply(input, dims=normalize_dims(dims, input.ndim, "flip", input.shape))


class Repeat(Function):
    @staticmethod
    def forward(ctx, a, repeats=()):
        ctx.in_shape = a.shape
        ctx.padded = (1,) * (len(repeats) - a.ndim) + tuple(a.shape)
        ctx.repeats = repeats
        return xp_of(a).tile(a, repeats)

    @staticmethod
    def backward(ctx, g):
        interleaved = [n for pair in zip(ctx.repeats, ctx.padded) for n in pair]
        g = g.reshape(interleaved).sum(axis=tuple(range(0, len(interleaved), 2)))
        return g.reshape(ctx.in_shape)


def _sizes(sizes) -> tuple:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    return tuple(int(s) for s in sizes)


def repeat(input: Tensor, *sizes) -> Tensor:
    """``Tensor.repeat``: tile ``r_i`` copies along each dim (new leading dims allowed)."""
    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"repeat(): the number of repeat dims ({len(sizes)}) can not be "
                           f"smaller than the number of dimensions of the tensor (shape "
                           f"{input.shape})")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat(): repeats must be non-negative, got {sizes}")
    return Repeat.apply(input, repeats=sizes)


class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape=()):
        ctx.in_shape = a.shape
        return xp_of(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.in_shape)


def expand(input: Tensor, *sizes) -> Tensor:
    """``Tensor.expand``: a broadcast view with the given sizes; ``-1`` keeps a dim, new
    dims go in front, only size-1 dims may grow."""
    sizes = _sizes(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(f"expand(): the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions of shape {input.shape}")
    shape = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand(): size {s} isn't allowed in the new leading "
                                   f"dimension {i} (sizes {sizes}, shape {input.shape})")
            shape.append(s)
            continue
        old = input.shape[i - lead]
        new = old if s == -1 else s
        if new != old and old != 1:
            raise RuntimeError(f"expand(): the expanded size {new} must match the existing size "
                               f"{old} at non-singleton dimension {i}; target sizes {sizes}, "
                               f"tensor shape {input.shape}")
        shape.append(new)
    return Expand.apply(input, shape=tuple(shape))


# ---- masked_fill, where -------------------------------------------------------------
def _bool_array(mask, op: str, what: str):
    array = mask.array if isinstance(mask, Tensor) else mask
    if getattr(array, "dtype", None) != np.bool_:
        raise RuntimeError(f"{op}(): expected {what} to be a boolean tensor, got dtype "
                           f"{getattr(array, 'dtype', type(mask).__name__)}")
    return array


def _broadcast_shape(op: str, *shapes) -> tuple:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"{op}(): shapes {', '.join(map(str, shapes))} cannot be broadcast "
                           f"together") from None


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, a, value, mask=None):
        ctx.mask, ctx.shapes = mask, (_shape(a), _shape(value))
        return xp_of(a).where(mask, value, a).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        xp, zero = xp_of(g), xp_of(g).zeros((), dtype=g.dtype)
        need_a, need_value = ctx.needs_input_grad
        return (unbroadcast(xp.where(ctx.mask, zero, g), ctx.shapes[0]) if need_a else None,
                xp.where(ctx.mask, g, zero).sum().reshape(ctx.shapes[1]) if need_value else None)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``torch.masked_fill``: ``value`` (a number or a 0-d tensor) where the boolean ``mask``
    (broadcast with ``input``) is True; keeps ``input``'s dtype."""
    input = as_tensor(input, "masked_fill")
    mask_array = _bool_array(mask, "masked_fill", "mask")
    _broadcast_shape("masked_fill", input.shape, tuple(mask_array.shape))
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"masked_fill(): only supports a 0-dimensional value tensor, got "
                           f"shape {value.shape} (input {input.shape})")
    return MaskedFill.apply(input, value, mask=mask_array)


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, condition=None):
        ctx.condition, ctx.shapes = condition, (_shape(a), _shape(b))
        return xp_of(condition).where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        xp, zero = xp_of(g), xp_of(g).zeros((), dtype=g.dtype)
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(xp.where(ctx.condition, g, zero), ctx.shapes[0]) if need_a else None,
                unbroadcast(xp.where(ctx.condition, zero, g), ctx.shapes[1]) if need_b else None)


def where(condition: Tensor, input=None, other=None):
    """``torch.where(condition, input, other)``: ``input`` where ``condition`` else ``other``
    (tensors or numbers, broadcast, promoted dtype). ``where(condition)`` is
    ``nonzero(condition, as_tuple=True)``: one int64 index tensor per dimension."""
    cond = _bool_array(condition, "where", "condition")
    xp = xp_of(cond)
    if input is None and other is None:
        return tuple(Tensor(i.astype(np.int64)) for i in xp.nonzero(cond))
    if input is None or other is None:
        raise TypeError("where(): give both input and other, or neither")
    dtype = result_dtype(input, other)
    shapes = [tuple(cond.shape)] + [t.shape for t in (input, other) if isinstance(t, Tensor)]
    _broadcast_shape("where", *shapes)
    same_device([t for t in (condition, input, other) if isinstance(t, Tensor)], "where")
    a, b = (t.to(dtype) if isinstance(t, Tensor) else xp.asarray(t, dtype=dtype)
            for t in (input, other))
    return Where.apply(a, b, condition=cond)


# ---- gather, index_select -----------------------------------------------------------
def _scatter_index(index, dim: int) -> tuple:
    """Index arrays that address, for every entry of ``index``, its target in the input."""
    xp = xp_of(index)
    return tuple(index if d == dim else
                 xp.arange(n).reshape((1,) * d + (n,) + (1,) * (index.ndim - d - 1))
                 for d, n in enumerate(index.shape))


class Gather(Function):
    @staticmethod
    def forward(ctx, a, dim=0, index=None):
        ctx.in_shape, ctx.dim, ctx.index = a.shape, dim, index
        return a[_scatter_index(index, dim)]

    @staticmethod
    def backward(ctx, g):
        xp = xp_of(g)
        grad = xp.zeros(ctx.in_shape, dtype=g.dtype)
        xp.add.at(grad, _scatter_index(ctx.index, ctx.dim), g)  # NumPy, and CuPy >= 13
        return grad


def _int_index(index, op: str, allowed=(np.int64,)):
    array = index.array if isinstance(index, Tensor) else index
    dtype = getattr(array, "dtype", None)
    if dtype is None or dtype.type not in allowed:
        names = " or ".join(np.dtype(d).name for d in allowed)
        raise RuntimeError(f"{op}(): expected dtype {names} for index, got "
                           f"{dtype if dtype is not None else type(index).__name__}")
    return array


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``torch.gather``: ``out[i][j] = input[index[i][j]][j]`` (``dim=0``) and so on; ``index``
    (int64) has ``input``'s rank and is no larger than ``input`` outside ``dim``."""
    input = as_tensor(input, "gather")
    dim = normalize_dim(dim, input.ndim, "gather", input.shape)
    idx = _int_index(index, "gather")
    shape = tuple(idx.shape)
    if len(shape) != max(input.ndim, 1) and not (input.ndim == 0 and len(shape) == 0):
        raise RuntimeError(f"gather(): index tensor of shape {shape} must have the same number "
                           f"of dimensions as input of shape {input.shape}")
    if any(s > n for d, (s, n) in enumerate(zip(shape, input.shape)) if d != dim):
        raise RuntimeError(f"gather(): index of shape {shape} must be no larger than input of "
                           f"shape {input.shape} apart from dimension {dim}")
    size = input.shape[dim] if input.ndim else 1
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
        bad = int(idx.max()) if int(idx.max()) >= size else int(idx.min())
        raise RuntimeError(f"gather(): index {bad} is out of bounds for dimension {dim} with "
                           f"size {size} (input shape {input.shape})")
    if input.ndim == 0:
        return input.reshape(1)[idx.reshape(1)].reshape(())
    return Gather.apply(input, dim=dim, index=idx)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``torch.index_select``: the entries ``index`` (a 1-d int64/int32 tensor) along ``dim``."""
    input = as_tensor(input, "index_select")
    dim = normalize_dim(dim, input.ndim, "index_select", input.shape)
    idx = _int_index(index, "index_select", (np.int64, np.int32))
    if idx.ndim > 1:
        raise IndexError(f"index_select(): index is supposed to be a vector, got shape "
                         f"{tuple(idx.shape)} (input {input.shape})")
    idx = idx.reshape(-1)
    size = input.shape[dim] if input.ndim else 1
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
        raise IndexError(f"index_select(): index out of range in self: indices from "
                         f"{int(idx.min())} to {int(idx.max())} for dimension {dim} of size "
                         f"{size} (input shape {input.shape})")
    if input.ndim == 0:
        return input.reshape(1)[idx].reshape(())
    return input[(slice(None),) * dim + (idx,)]
