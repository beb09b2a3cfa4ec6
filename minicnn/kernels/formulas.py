"""Batch normalisation, ReLU and SGD's momentum step as array expressions, for NumPy or
CuPy arrays.

These follow the contract's formulas (:mod:`minicnn.kernels.contract`) one array operation
at a time, which makes them the readable version. The ``reference`` and ``numpy`` sets use
them as their batch norm, ReLU and SGD step; the ``numba`` set its running-estimate update
and inverse deviation; the ``cupy`` set its SGD step, and falls back on them for arrays its
kernels do not take.
"""
from __future__ import annotations

from ..backend import xp_of


def _axes(x) -> tuple:
    return (0,) + tuple(range(2, x.ndim))


def _channel(v, x):
    return v.reshape((1, -1) + (1,) * (x.ndim - 2))


def batchnorm_stats(x):
    """Per-channel mean and biased variance over every axis but 1."""
    return x.mean(axis=_axes(x)), x.var(axis=_axes(x))


def batchnorm_inv_std(var, eps):
    """``1 / sqrt(var + eps)``."""
    return 1.0 / xp_of(var).sqrt(var + eps)


def batchnorm_update_running(running_mean, running_var, mean, var, momentum, count):
    """``running <- (1 - momentum) * running + momentum * batch`` in place, with the batch's
    variance unbiased by ``count / (count - 1)`` (1 for a count of 1)."""
    running_mean *= 1 - momentum
    running_mean += momentum * mean
    running_var *= 1 - momentum
    running_var += momentum * var * (count / max(count - 1, 1))


def batchnorm_apply(x, mean, inv_std, weight, bias):
    """``y = (x - mean) * inv_std * weight + bias`` per channel (weight, bias may be None)."""
    y = (x - _channel(mean, x)) * _channel(inv_std, x)
    if weight is not None:
        y = y * _channel(weight, x)
    if bias is not None:
        y = y + _channel(bias, x)
    return y


def batchnorm_backward(g, x, mean, inv_std, weight, batch_stats: bool,
                       need_x=True, need_w=True, need_b=True):
    """Gradients of :func:`batchnorm_apply`; with ``batch_stats`` the mean and variance
    are functions of ``x`` too (see ``minicnn/ops/norm.py`` for the formula)."""
    axes = _axes(x)
    xhat = (x - _channel(mean, x)) * _channel(inv_std, x)
    grad_x = grad_w = grad_b = None
    if need_x:
        scale = inv_std if weight is None else inv_std * weight
        if batch_stats:
            grad_x = _channel(scale, x) * (g - g.mean(axis=axes, keepdims=True)
                                            - xhat * (g * xhat).mean(axis=axes, keepdims=True))
        else:
            grad_x = g * _channel(scale, x)
    if need_w:
        grad_w = (g * xhat).sum(axis=axes)
    if need_b:
        grad_b = g.sum(axis=axes)
    return grad_x, grad_w, grad_b


def relu_forward(x):
    """``max(x, 0)``."""
    return x * (x > 0)


def relu_backward(g, y):
    """``g * [y > 0]``, from the output ``y`` (``y > 0`` exactly where ``x > 0``)."""
    return g * (y > 0)


def sgd_step(param, grad, buf, lr, momentum, dampening):
    """``buf <- momentum * buf + (1 - dampening) * grad``, ``param <- param - lr * buf``, in
    place, three array operations and two temporaries; ``param <- param - lr * grad`` when
    ``buf`` is None."""
    if buf is None:
        param -= lr * grad
        return
    buf *= momentum
    buf += (1 - dampening) * grad
    param -= lr * buf
