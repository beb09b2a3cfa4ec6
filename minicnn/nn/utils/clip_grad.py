"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``, in place on ``.grad``.

The total norm of order ``p`` over the gradients ``g_1 .. g_k`` is, as torch computes it,
the norm of the vector of their norms::

    ||(||g_1||_p, ..., ||g_k||_p)||_p,   ||v||_p = (sum_i |v_i|^p)^(1/p),
    ||v||_inf = max_i |v_i|,  ||v||_-inf = min_i |v_i|,  ||v||_0 = #{i : v_i != 0}

which for finite ``p > 0`` equals the norm of all gradients concatenated. Clipping
multiplies every gradient by ``min(1, max_norm / (total_norm + 1e-6))``.
"""
from __future__ import annotations

import math

import numpy as np

from ... import backend
from ...tensor import Tensor


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters) -> list:
    return [p.grad.array for p in _as_list(parameters) if p.grad is not None]


def _vector_norm(array, p: float):
    """``||array||_p`` over all its elements (a 0-d array of its dtype)."""
    xp = backend.xp_of(array)
    magnitude = xp.abs(array)
    if p == math.inf:
        return magnitude.max()
    if p == -math.inf:
        return magnitude.min()
    if p == 0:
        return xp.count_nonzero(array).astype(array.dtype)
    if p == 1:
        return magnitude.sum()
    if p == 2:
        return xp.sqrt((magnitude * magnitude).sum())
    return (magnitude ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The norm of order ``norm_type`` of the norms of ``tensors`` (a 0-d Tensor; 0 for none).

    ``RuntimeError`` when it is nan or inf and ``error_if_nonfinite``. ``foreach`` is
    accepted for torch code and changes nothing.
    """
    p = float(norm_type)
    arrays = [t.array for t in _as_list(tensors)]
    if not arrays:
        return Tensor(np.zeros((), dtype=np.float32))
    xp = backend.xp_of(arrays[0])
    total = _vector_norm(xp.stack([_vector_norm(a, p) for a in arrays]), p)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {p} of the gradients is "
                           f"non-finite ({float(total)}), so it cannot be clipped; pass "
                           f"error_if_nonfinite=False to scale them by it anyway")
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Multiply each parameter's ``.grad`` by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = _grads(parameters)
    if not grads:
        return
    total = total_norm.array if isinstance(total_norm, Tensor) else total_norm
    coefficient = backend.xp_of(grads[0]).minimum(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
        g *= coefficient.astype(g.dtype)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale the gradients of ``parameters`` (a Tensor or an iterable) in place so that their
    total norm (module docstring) is at most ``max_norm``; return the total norm before
    clipping, as a 0-d Tensor."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` into ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        backend.xp_of(g).clip(g, -clip_value, clip_value, out=g)
