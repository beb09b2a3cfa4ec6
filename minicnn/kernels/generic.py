"""Array-module-generic kernels (NumPy or CuPy) shared by the ``reference`` and ``numpy``
sets: convolution built on a set's own im2col/col2im, batch normalisation and ReLU, and
the fused batch norm -> ReLU -> max pooling built on any set's own kernels.

They follow the formulas of the ops' docstrings (``minicnn/ops/``) one array operation at
a time, which makes them the readable version; the Numba and CuPy sets fuse the passes.
"""
from __future__ import annotations

from ..backend import xp_of


def conv_kernels(im2col, col2im):
    """``conv2d_forward`` and ``conv2d_backward`` on top of the given im2col/col2im.

    Forward: ``col = im2col(x)`` ``(N, C, kh, kw, OH, OW)``, then one tensordot with the
    weight ``(F, C, kh, kw)``. ``col`` is what backward needs, so it is the saved state.
    """

    def conv2d_forward(x, weight, bias, win):
        xp = xp_of(x)
        col = im2col(x, win)
        y = xp.tensordot(col, weight, axes=((1, 2, 3), (1, 2, 3))).transpose(0, 3, 1, 2)
        if bias is not None:
            y = y + bias.reshape(1, -1, 1, 1)
        return xp.ascontiguousarray(y), col

    def conv2d_backward(g, saved, x, weight, win, need_x=True, need_w=True, need_b=True):
        xp, col = xp_of(g), saved
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_col = xp.moveaxis(xp.tensordot(weight, g, axes=((0,), (1,))), 3, 0)
            grad_x = col2im(grad_col, win, *x.shape[2:])
        if need_w:
            grad_w = xp.tensordot(g, col, axes=((0, 2, 3), (0, 4, 5)))
        if need_b:
            grad_b = g.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b

    return conv2d_forward, conv2d_backward


def _axes(x) -> tuple:
    return (0,) + tuple(range(2, x.ndim))


def _channel(v, x):
    return v.reshape((1, -1) + (1,) * (x.ndim - 2))


def batchnorm_stats(x):
    """Per-channel mean and biased variance over every axis but 1."""
    return x.mean(axis=_axes(x)), x.var(axis=_axes(x))


def batchnorm_inv_std(var, eps, mean=None, running_mean=None, running_var=None, momentum=0.0, count=1):
    """``1 / sqrt(var + eps)``. Given ``running_mean`` and ``running_var`` (updated in place),
    also ``running <- (1 - momentum) * running + momentum * batch``, with the batch's
    variance unbiased by ``count / (count - 1)``."""
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (count / max(count - 1, 1))
    return 1.0 / xp_of(var).sqrt(var + eps)


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


def batchnorm_relu_maxpool_kernels(kernels):
    """``batchnorm_relu_maxpool_forward`` and ``batchnorm_relu_maxpool_backward`` composed
    from the set ``kernels`` (its module): batch norm, ReLU and max pooling one after the
    other. Only the pooled output and its argmax (``saved``) are kept, which is all
    backward needs:
    the ReLU passed the gradient of a window exactly when the window's output is positive,
    so ``dL/dz = maxpool_backward(g * [y > 0])`` is the gradient at the batch norm's output.
    """

    def forward(x, mean, inv_std, weight, bias, win):
        z = kernels.relu_forward(kernels.batchnorm_apply(x, mean, inv_std, weight, bias))
        return kernels.maxpool2d_forward(z, win)

    def backward(g, y, saved, x, mean, inv_std, weight, batch_stats, win,
                 need_x=True, need_w=True, need_b=True):
        grad_z = kernels.maxpool2d_backward(kernels.relu_backward(g, y), saved, win, *x.shape[2:])
        return kernels.batchnorm_backward(grad_z, x, mean, inv_std, weight, batch_stats,
                                          need_x, need_w, need_b)

    return forward, backward
