"""Elementwise activations, softmax and log-softmax: ``y = f(x)``, ``dL/dx = g * f'(x)``.

ReLU: ``y = max(x, 0)``; ``dL/dx = g * [x > 0] = g * [y > 0]`` (the kink at 0 gets gradient 0,
as torch); the output is what backward keeps.
Sigmoid: ``y = 1 / (1 + exp(-x))`` (from ``exp(-|x|)``, so no overflow); ``f' = y (1 - y)``.
Tanh: ``f' = 1 - y**2``.
LeakyReLU (slope ``a``): ``y = x`` for ``x > 0``, else ``a x``; ``f' = 1`` or ``a`` (``a`` at 0).
ELU (``alpha``): ``y = x`` for ``x > 0``, else ``alpha (exp(x) - 1)``; ``f' = 1`` or
``alpha exp(x)`` (the latter at 0, as torch).
GELU: ``y = x Phi(x)`` with ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``; ``f' = Phi(x) + x phi(x)``,
``phi(x) = exp(-x**2 / 2) / sqrt(2 pi)``. With ``approximate='tanh'``:
``y = x (1 + tanh(u)) / 2``, ``u = sqrt(2/pi) (x + 0.044715 x**3)``;
``f' = (1 + t) / 2 + x (1 - t**2) sqrt(2/pi) (1 + 3 * 0.044715 x**2) / 2`` with ``t = tanh(u)``.
SiLU: ``y = x sigmoid(x)``; ``f' = s (1 + x (1 - s))`` with ``s = sigmoid(x)``.
Softplus (``beta``, ``threshold``): ``y = log(1 + exp(beta x)) / beta``, and ``y = x`` where
``beta x > threshold``; ``f' = sigmoid(beta x)``, or 1 past the threshold.
Softmax along ``dim``: ``y = exp(x - max) / sum exp(x - max)``;
``dL/dx = y * (g - sum(g * y, dim))``.
Log-softmax: ``y = x - max - log sum exp(x - max)``; ``dL/dx = g - softmax(x) * sum(g, dim)``.
"""
from __future__ import annotations

import math

from ..autograd import Function
from ..backend import is_cupy_array, kernels_of, xp_of


class ReLUFunction(Function):
    @staticmethod
    def forward(ctx, x):
        y = kernels_of(x).relu_forward(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return kernels_of(g).relu_backward(g, y)


def _shifted(x, dim):
    return x - x.max(axis=dim, keepdims=True)


class SoftmaxFunction(Function):
    @staticmethod
    def forward(ctx, x, dim=-1):
        e = xp_of(x).exp(_shifted(x, dim))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(axis=ctx.dim, keepdims=True))


class LogSoftmaxFunction(Function):
    @staticmethod
    def forward(ctx, x, dim=-1):
        xp = xp_of(x)
        z = _shifted(x, dim)
        y = z - xp.log(xp.exp(z).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - xp_of(y).exp(y) * g.sum(axis=ctx.dim, keepdims=True)


def sigmoid_array(x):
    """``1 / (1 + exp(-x))`` on a raw array, computed from ``e = exp(-|x|)`` as ``1 / (1 + e)``
    for ``x >= 0`` and ``e / (1 + e)`` below, so that ``exp`` never overflows."""
    xp = xp_of(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _erf(x):
    """The error function of a NumPy (SciPy's) or CuPy (cupyx's) array."""
    if is_cupy_array(x):
        from cupyx.scipy.special import erf
    else:
        from scipy.special import erf
    return erf(x)


class SigmoidFunction(Function):
    @staticmethod
    def forward(ctx, x):
        y = sigmoid_array(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class TanhFunction(Function):
    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class LeakyReLUFunction(Function):
    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.slope = negative_slope
        return xp_of(x).where(positive, x, x * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (positive,) = ctx.saved_tensors
        return xp_of(g).where(positive, g, g * ctx.slope)


class HardtanhFunction(Function):
    """``y = min(max(x, min_val), max_val)``; the gradient passes where
    ``min_val < x < max_val`` (strictly, as torch's: zero on the bounds)."""

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        ctx.save_for_backward((x > min_val) & (x < max_val))
        return xp_of(x).clip(x, min_val, max_val).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return g * inside


class ELUFunction(Function):
    @staticmethod
    def forward(ctx, x, alpha=1.0):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = xp_of(x)
        return xp.where(x > 0, g, g * ctx.alpha * xp.exp(xp.minimum(x, 0)))


_TANH_C = 0.044715


class GELUFunction(Function):
    @staticmethod
    def forward(ctx, x, approximate="none"):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            return 0.5 * x * (1 + xp.tanh(math.sqrt(2 / math.pi) * (x + _TANH_C * x ** 3)))
        return 0.5 * x * (1 + _erf(x / math.sqrt(2)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = xp_of(x)
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = xp.tanh(k * (x + _TANH_C * x ** 3))
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * _TANH_C * x * x))
        cdf = 0.5 * (1 + _erf(x / math.sqrt(2)))
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return g * (cdf + x * pdf)


class SiLUFunction(Function):
    @staticmethod
    def forward(ctx, x):
        s = sigmoid_array(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * s * (1 + x * (1 - s))


class SoftplusFunction(Function):
    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        xp = xp_of(x)
        z = x * beta
        linear = z > threshold
        ctx.save_for_backward(z, linear)
        soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        return xp.where(linear, x, soft)

    @staticmethod
    def backward(ctx, g):
        z, linear = ctx.saved_tensors
        return xp_of(g).where(linear, g, g * sigmoid_array(z))
