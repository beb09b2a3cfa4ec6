"""What the profiler records about one op run: :class:`OpEvent`, its FLOPs and bytes.

FLOPs (a multiply and an add count as two) are defined for the ops whose cost is a
contraction; every other op reports None (shown as ``--``):

    Conv2d forward:   2 * N*F*OH*OW * C*kh*kw        (x ``(N, C, H, W)``, weight ``(F, C, kh, kw)``)
    Conv2d backward:  the same once for dL/dx and once for dL/dW, each when it is needed
    MatMul forward:   2 * size(out) * K               (``(..., M, K) @ (..., K, N)``)
    MatMul backward:  the same once per operand that needs its gradient

Bytes moved: the ``nbytes`` of every array the op reads (its inputs; in backward the
incoming gradient and the saved arrays) and writes (its output; in backward the input
gradients), each counted once: a lower bound on the memory traffic.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class OpEvent:
    """One op's forward or backward: ``name`` (``"Conv2d"``, ``"Conv2dBackward"``), the
    ``phase`` (``"forward"``, ``"backward"`` or ``"user"`` for :func:`record_function`),
    the shapes of its array inputs, the kernel set serving them, start and duration in
    nanoseconds (``time.perf_counter_ns``), FLOPs (None where undefined), bytes moved, and
    ``child_ns``: the time of the events that ran inside this one (self = duration - child)."""

    name: str
    phase: str
    input_shapes: tuple
    kernel_set: str
    start_ns: int
    duration_ns: int = 0
    flops: int | None = None
    bytes: int = 0
    child_ns: int = field(default=0, repr=False)
    thread: int = field(default=0, repr=False)

    @property
    def self_ns(self) -> int:
        return self.duration_ns - self.child_ns


def arrays_in(values) -> list:
    """The arrays (anything with ``shape`` and ``nbytes``) among ``values``."""
    return [v for v in values if hasattr(v, "nbytes") and hasattr(v, "shape")]


def nbytes(values) -> int:
    return int(sum(v.nbytes for v in arrays_in(values)))


def _conv_flops(x_shape, w_shape, y_shape) -> int:
    n, f, oh, ow = y_shape
    return 2 * n * f * oh * ow * int(np.prod(w_shape[1:]))


def _matmul_flops(a_shape, b_shape, out_shape) -> int:
    k = a_shape[-1] if len(a_shape) else 1
    return 2 * int(np.prod(out_shape)) * int(k)


def forward_flops(name: str, inputs: list, out) -> int | None:
    """FLOPs of a forward (module docstring), or None for ops without a definition."""
    if name == "Conv2d":
        return _conv_flops(inputs[0].shape, inputs[1].shape, out.shape)
    if name == "MatMul":
        return _matmul_flops(inputs[0].shape, inputs[1].shape, out.shape)
    return None


def backward_flops(name: str, ctx, grad) -> int | None:
    """FLOPs of a backward (module docstring), from the op's context and incoming gradient."""
    if name not in ("Conv2d", "MatMul"):
        return None
    saved = ctx.saved_tensors
    needed = sum(bool(n) for n in ctx.needs_input_grad[:2])
    if name == "Conv2d":
        return needed * _conv_flops(saved[0].shape, saved[1].shape, grad.shape)
    return needed * _matmul_flops(saved[0].shape, saved[1].shape, grad.shape)
