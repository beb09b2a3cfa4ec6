"""Max and average pooling over ``(N, C, H, W)`` windows, and adaptive pooling.

Max: ``y[n,c,oy,ox] = max_{i,j} xpad[n, c, oy*sh + i*dh, ox*sw + j*dw]`` with ``-inf``
padding; the gradient goes to the one input pixel that held the maximum (the first in
row-major window order on ties), summed where windows overlap.

Average: ``y = sum_{i,j} xpad[...] / divisor``; every pixel of a window receives
``g / divisor``. The divisor is ``kh*kw`` unless given per output pixel (``divisor``
``(OH, OW)``, see :func:`avg_divisor`).

Output size along one axis (torch's rule), for input ``H``, kernel ``k``, stride ``s``,
padding ``p``, dilation ``d``::

    OH = floor((H + 2p - d(k-1) - 1) / s) + 1                     (ceil_mode=False)
    OH = ceil((H + 2p - d(k-1) - 1) / s) + 1, less 1 if (OH-1)*s >= H + p   (ceil_mode=True)

so the last window starts inside the input or its left padding. With ``ceil_mode`` that last
window may reach past the right padding: the input is then padded further (``-inf`` for max,
0 for average) by :func:`ceil_extra` rows and columns.

Adaptive pooling to ``(OH, OW)``: output row ``i`` covers input rows
``floor(i*H/OH) <= r < ceil((i+1)*H/OH)`` (the same for columns). The average is separable:
``y = A_h @ x @ A_w^T`` with ``A_h[i, r] = 1 / (end_i - start_i)`` on row ``i``'s window, so
``dL/dx = A_h^T @ g @ A_w``. The maximum keeps each window's first largest element, where the
gradient goes. Both act on the last two axes, so ``(C, H, W)`` and ``(N, C, H, W)`` work.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..backend import device_of, kernels_of, to_device, xp_of
from ..kernels import Window


def pooled_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """``OH`` of the module docstring, for one axis."""
    span = size + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    return out - 1 if (out - 1) * s >= size + p else out


def ceil_extra(size: int, out: int, k: int, s: int, p: int, d: int) -> int:
    """Rows beyond the right padding that the last of ``out`` windows reads (0 or more)."""
    return max(0, (out - 1) * s + d * (k - 1) + 1 - (size + 2 * p))


def avg_divisor(out: int, size: int, k: int, s: int, p: int, count_include_pad: bool):
    """Per output position along one axis, torch's count: the window clipped to the padded
    input (``count_include_pad``) or to the input itself."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


class MaxPool2dFunction(Function):
    @staticmethod
    def forward(ctx, x, win: Window = None):
        y, argmax = kernels_of(x).maxpool2d_forward(x, win)
        ctx.save_for_backward(argmax)
        ctx.win, ctx.in_hw = win, x.shape[2:]
        return y

    @staticmethod
    def backward(ctx, g):
        (argmax,) = ctx.saved_tensors
        return kernels_of(g).maxpool2d_backward(g, argmax, ctx.win, *ctx.in_hw)


class AvgPool2dFunction(Function):
    @staticmethod
    def forward(ctx, x, win: Window = None, divisor=None):
        """``divisor``: None (``kh*kw``) or an array ``(OH, OW)`` of x's dtype and device."""
        ctx.win, ctx.in_hw, ctx.divisor = win, x.shape[2:], divisor
        return kernels_of(x).avgpool2d_forward(x, win, divisor)

    @staticmethod
    def backward(ctx, g):
        return kernels_of(g).avgpool2d_backward(g, ctx.win, *ctx.in_hw, ctx.divisor)


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """``[(start_i, end_i)]``: ``start = floor(i*size/out)``, ``end = ceil((i+1)*size/out)``."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _averaging_matrix(size: int, out: int, like):
    a = np.zeros((out, size))
    for i, (start, end) in enumerate(adaptive_windows(size, out)):
        a[i, start:end] = 1.0 / (end - start)
    return to_device(a.astype(like.dtype), device_of(like))


def _each_plane(left, x, right):
    """``left @ plane @ right.T`` for every plane of ``x (..., H, W)``: ``(..., L, R)`` for
    ``left (L, H)`` and ``right (R, W)``, as two products over all planes at once (a stack
    of small matrix products runs one tiny product per plane)."""
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    rows = (x.reshape(-1, w) @ right.T).reshape(-1, h, right.shape[0])  # (planes, H, R)
    out = xp_of(x).tensordot(left, rows, axes=([1], [1]))  # (L, planes, R)
    return out.transpose(1, 0, 2).reshape(lead + (left.shape[0], right.shape[0]))


class AdaptiveAvgPool2dFunction(Function):
    @staticmethod
    def forward(ctx, x, output_size=(1, 1)):
        ah = _averaging_matrix(x.shape[-2], output_size[0], x)
        aw = _averaging_matrix(x.shape[-1], output_size[1], x)
        ctx.save_for_backward(ah, aw)
        return _each_plane(ah, x, aw)

    @staticmethod
    def backward(ctx, g):
        ah, aw = ctx.saved_tensors
        return _each_plane(ah.T, g, aw.T)


def adaptive_max(x, output_size) -> tuple:
    """``(y, local, indices)`` of adaptive max pooling of the raw array ``x``: the maxima, the
    offset of each in its window (row-major), and torch's ``row * W + column`` of each in
    its input plane."""
    xp = xp_of(x)
    rows = adaptive_windows(x.shape[-2], output_size[0])
    cols = adaptive_windows(x.shape[-1], output_size[1])
    shape = x.shape[:-2] + tuple(output_size)
    y = xp.empty(shape, dtype=x.dtype)
    local = xp.empty(shape, dtype=np.int64)
    indices = xp.empty(shape, dtype=np.int64)
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            window = x[..., r0:r1, c0:c1].reshape(x.shape[:-2] + (-1,))
            k = window.argmax(axis=-1)
            local[..., i, j] = k
            y[..., i, j] = xp.take_along_axis(window, k[..., None], axis=-1)[..., 0]
            indices[..., i, j] = (r0 + k // (c1 - c0)) * x.shape[-1] + c0 + k % (c1 - c0)
    return y, local, indices


class AdaptiveMaxPool2dFunction(Function):
    @staticmethod
    def forward(ctx, x, output_size=(1, 1)):
        y, local, _ = adaptive_max(x, output_size)
        ctx.save_for_backward(local)
        ctx.rows = adaptive_windows(x.shape[-2], output_size[0])
        ctx.cols = adaptive_windows(x.shape[-1], output_size[1])
        ctx.in_shape = x.shape
        return y

    @staticmethod
    def backward(ctx, g):
        (local,) = ctx.saved_tensors
        xp = xp_of(g)
        grad = xp.zeros(ctx.in_shape, dtype=g.dtype)
        for i, (r0, r1) in enumerate(ctx.rows):
            for j, (c0, c1) in enumerate(ctx.cols):
                positions = xp.arange((r1 - r0) * (c1 - c0)).reshape(r1 - r0, c1 - c0)
                hit = positions == local[..., i, j, None, None]
                grad[..., r0:r1, c0:c1] += hit * g[..., i, j, None, None]
        return grad
