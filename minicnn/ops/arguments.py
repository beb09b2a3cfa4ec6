"""Argument rules shared by the tensor functions: dimension indices, result dtypes, and
the checks torch makes before any work starts.

Result dtype (:func:`result_dtype`) follows torch's categories bool < integer < float:
the result is the promoted dtype of the tensors in the highest category present among the
tensors; a Python number of a higher category than every tensor gives torch's default
dtype of its category (float32 for a float, int64 for an int). So int64 with float32 is
float32 (NumPy would say float64), a float32 tensor with ``0.5`` stays float32, and an int
tensor with ``0.5`` becomes float32. One simplification: a 0-d tensor counts as a tensor
of full rank (torch lets it promote only within its category).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
_DEFAULT_OF_CATEGORY = {0: np.dtype(np.bool_), 1: np.dtype(np.int64), 2: np.dtype(np.float32)}


def normalize_dim(dim: int, ndim: int, op: str, shape: tuple) -> int:
    """``dim`` in ``[-ndim, ndim - 1]`` as a non-negative index (a 0-d tensor takes -1 and 0),
    else IndexError naming the op and the shape, as torch."""
    size = max(ndim, 1)
    if not isinstance(dim, (numbers.Integral, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__}")
    if not -size <= dim < size:
        raise IndexError(f"{op}(): dimension out of range (expected to be in range of "
                         f"[{-size}, {size - 1}], but got {dim}) for a tensor of shape {shape}")
    return int(dim) % size


def normalize_dims(dims, ndim: int, op: str, shape: tuple) -> tuple:
    """A tuple of distinct non-negative dims from an int or a sequence of ints."""
    dims = (dims,) if isinstance(dims, (numbers.Integral, np.integer)) else tuple(dims)
    out = tuple(normalize_dim(d, ndim, op, shape) for d in dims)
    for d in out:
        if out.count(d) > 1:
            raise RuntimeError(f"{op}(): dim {d} appears multiple times in the list of dims "
                               f"{dims} for a tensor of shape {shape}")
    return out


def _dtype_of(value):
    if isinstance(value, Tensor):
        return value.dtype
    return getattr(value, "dtype", None)


def result_dtype(*values) -> np.dtype:
    """torch's result dtype of tensors (or arrays) and Python numbers; see the module text."""
    arrays = [np.dtype(d) for d in map(_dtype_of, values) if d is not None]
    scalars = [v for v in values if _dtype_of(v) is None and v is not None]
    top = max((_CATEGORY[d.kind] for d in arrays), default=-1)
    promoted = None
    for d in arrays:
        if _CATEGORY[d.kind] == top:
            promoted = d if promoted is None else np.promote_types(promoted, d)
    scalar_top = max((0 if isinstance(s, (bool, np.bool_))
                      else 1 if isinstance(s, (numbers.Integral, np.integer)) else 2
                      for s in scalars), default=-1)
    if scalar_top > top:
        return _DEFAULT_OF_CATEGORY[scalar_top]
    return promoted


def as_tensor(value, op: str) -> Tensor:
    """``value`` itself when it is a Tensor, else TypeError naming the op (as torch)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(value).__name__}")
    return value


def is_floating(t: Tensor) -> bool:
    return t.dtype.kind == "f"


def to_floating(t: Tensor) -> Tensor:
    """``t`` cast to float32 unless already floating: torch's unary float ops on ints."""
    return t if is_floating(t) else t.to(np.float32)


def same_device(tensors, op: str) -> None:
    """RuntimeError unless every tensor lives on the same device."""
    devices = {str(t.device) for t in tensors}
    if len(devices) > 1:
        raise RuntimeError(f"{op}(): expected all tensors to be on the same device, "
                           f"got {sorted(devices)}")
