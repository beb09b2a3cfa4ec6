"""Factory functions as torch's: ``zeros_like``, ``ones_like``, ``full``, ``full_like``,
``empty``, ``empty_like``, ``randn_like``, ``rand_like``, ``randint``, ``randperm``,
``linspace``, ``eye``. They make leaves (no backward); each takes ``dtype=``, ``device=``
and ``requires_grad=`` as torch does.

Defaults are torch's: floats are float32, integer draws int64; a ``*_like`` factory takes the
dtype and device of its input. Random draws come from minicnn's global generator
(``minicnn.manual_seed``), so they differ from torch's for the same seed, and no
``generator=`` argument is taken. ``empty`` returns zeros (torch leaves memory
uninitialised; zeros are one valid content of that memory).
"""
from __future__ import annotations

import numbers

import numpy as np

from . import backend
from .dtypes import float32, int64
from .random import generator
from .tensor.core import Tensor, _make, _shape


def _like(input: Tensor, make, dtype, device, requires_grad: bool) -> Tensor:
    """``make(xp, shape, dtype)`` on ``input``'s device (or ``device``), as a new leaf."""
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor as input, got {type(input).__name__}")
    dtype = np.dtype(dtype) if dtype is not None else input.dtype
    array = make(backend.xp_of(input.array), input.shape, dtype)
    return _make(array, None, device, requires_grad)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(input, lambda xp, shape, dt: xp.zeros(shape, dtype=dt), dtype, device,
                 requires_grad)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(input, lambda xp, shape, dt: xp.ones(shape, dtype=dt), dtype, device,
                 requires_grad)


empty_like = zeros_like


def _fill_dtype(fill_value) -> np.dtype:
    """torch's dtype for a Python fill value: bool, int64 for an int, float32 for a float."""
    if isinstance(fill_value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(fill_value, (numbers.Integral, np.integer)):
        return int64
    return float32


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``torch.full``: a tensor of ``size`` filled with ``fill_value`` (dtype from it)."""
    dtype = np.dtype(dtype) if dtype is not None else _fill_dtype(fill_value)
    return _make(np.full(_shape((size,)), fill_value, dtype=dtype), None, device, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    """``torch.full_like``: ``input``'s shape, dtype and device, filled with ``fill_value``."""
    return _like(input, lambda xp, shape, dt: xp.full(shape, fill_value, dtype=dt), dtype,
                 device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``torch.empty``: a tensor of ``size``; its contents are zeros (see the module text)."""
    dtype = float32 if dtype is None else np.dtype(dtype)
    return _make(np.zeros(_shape(size), dtype=dtype), None, device, requires_grad)


def _random_like(input: Tensor, draw, dtype, device, requires_grad: bool, op: str) -> Tensor:
    dtype = np.dtype(dtype) if dtype is not None else input.dtype
    if dtype.kind != "f":
        raise NotImplementedError(f"{op}(): random floats need a floating point dtype, "
                                  f"got {dtype} (input shape {input.shape})")
    array = backend.to_device(draw(input.shape).astype(dtype), str(input.device))
    return _make(array, None, device, requires_grad)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``torch.randn_like``: standard normal samples of ``input``'s shape."""
    return _random_like(input, generator().standard_normal, dtype, device, requires_grad,
                        "randn_like")


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``torch.rand_like``: uniform samples on [0, 1) of ``input``'s shape."""
    return _random_like(input, generator().random, dtype, device, requires_grad, "rand_like")


def randint(*args, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``torch.randint(high, size)`` or ``torch.randint(low, high, size)``: integers drawn
    uniformly from ``[low, high)`` (``low`` 0 by default), int64 unless ``dtype``."""
    if size is None:
        if len(args) < 2:
            raise TypeError("randint(): expected (high, size) or (low, high, size)")
        *bounds, size = args
    else:
        bounds = list(args)
    if len(bounds) not in (1, 2):
        raise TypeError(f"randint(): expected (high, size) or (low, high, size), got {args}")
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    low, high = int(low), int(high)
    if low >= high:
        raise RuntimeError(f"randint(): expects low to be less than high, got low={low} "
                           f">= high={high}")
    array = generator().integers(low, high, size=_shape((size,)), dtype=np.int64)
    return _make(array, int64 if dtype is None else dtype, device, requires_grad)


def randperm(n: int, *, dtype=int64, device=None, requires_grad: bool = False) -> Tensor:
    """``torch.randperm``: a random permutation of ``0 .. n-1`` (int64 by default)."""
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    return _make(generator().permutation(int(n)), dtype, device, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``torch.linspace``: ``steps`` values evenly spaced from ``start`` to ``end`` inclusive
    (float32 by default)."""
    if steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {steps}")
    array = np.linspace(float(start), float(end), int(steps))
    return _make(array, float32 if dtype is None else dtype, device, requires_grad)


def eye(n: int, m=None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``torch.eye``: the ``n x m`` matrix (``m = n`` by default) with ones on the diagonal."""
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye(): n and m must be non-negative, got n={n}, m={m}")
    return _make(np.eye(n, m), float32 if dtype is None else dtype, device, requires_grad)
