"""Argument rules shared by the tensor functions: dimension indices, result dtypes, and
the checks torch makes before any work starts.

Result dtypes (:func:`result_dtype`) are torch's promotion rules, ``minicnn.dtypes``: int64
with float32 is float32 (NumPy would say float64), a float32 tensor with ``0.5`` stays
float32, and an int tensor with ``0.5`` becomes float32.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..dtypes import result_type
from ..tensor import Tensor


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


def result_dtype(*values) -> np.dtype:
    """torch's result dtype (``minicnn.dtypes.result_type``) of tensors, arrays and Python
    numbers; None entries (an absent ``min`` or ``max``) are left out."""
    return result_type(*(v.array if isinstance(v, Tensor) else v for v in values if v is not None))


def as_tensor(value, op: str) -> Tensor:
    """``value`` itself when it is a Tensor, else TypeError naming the op (as torch)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(value).__name__}")
    return value


def array_of(value):
    """The raw array of a Tensor argument (``running_mean``, a target, ...); anything else,
    ``None`` included, as it is."""
    return value.array if isinstance(value, Tensor) else value


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
