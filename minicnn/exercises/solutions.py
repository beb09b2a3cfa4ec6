"""Reference solutions of the exercises, written plainly in NumPy (not the engine's kernels,
so that ``check`` holds them to an independent implementation).

Conventions shared by the convolution and pooling exercises: x ``(N, C, H, W)``;
``stride``, ``padding``, ``dilation`` and ``kernel_size`` are pairs ``(rows, columns)``;
output size ``OH = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1`` (and the same for ``OW``);
the kernel tap ``(i, j)`` of output pixel ``(oy, ox)`` reads padded input pixel
``(oy*sh + i*dh, ox*sw + j*dw)``. Every function returns new arrays and leaves its
arguments as they were.
"""
from __future__ import annotations

import numpy as np


def _out_size(h, w, kernel, stride, padding, dilation):
    oh = (h + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (w + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    return oh, ow


def _tap(i, j, oh, ow, stride, dilation):
    """The slices of the padded input that tap ``(i, j)`` reads for every output pixel."""
    rows = slice(i * dilation[0], i * dilation[0] + (oh - 1) * stride[0] + 1, stride[0])
    cols = slice(j * dilation[1], j * dilation[1] + (ow - 1) * stride[1] + 1, stride[1])
    return rows, cols


def _pad(x, padding, value=0.0):
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def conv2d_forward(x, weight, bias, stride, padding, dilation):
    """``y[n, f, oy, ox] = bias[f] + sum_{c,i,j} weight[f, c, i, j] * xpad[n, c, oy*sh + i*dh,
    ox*sw + j*dw]``; weight ``(F, C, kh, kw)``, bias ``(F,)`` or None -> y ``(N, F, OH, OW)``."""
    n, _, h, w = x.shape
    f, _, kh, kw = weight.shape
    oh, ow = _out_size(h, w, (kh, kw), stride, padding, dilation)
    xpad = _pad(x, padding)
    y = np.zeros((n, f, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, cols = _tap(i, j, oh, ow, stride, dilation)
            y += np.einsum("nchw,fc->nfhw", xpad[:, :, rows, cols], weight[:, :, i, j])
    if bias is not None:
        y += bias.reshape(1, f, 1, 1)
    return y


def conv2d_backward(grad_y, x, weight, stride, padding, dilation):
    """The gradients of :func:`conv2d_forward` for ``grad_y = dL/dy`` ``(N, F, OH, OW)``::

        dL/dweight[f, c, i, j] = sum_{n,oy,ox} grad_y[n, f, oy, ox] * xpad[n, c, oy*sh + i*dh, ...]
        dL/dxpad[n, c, oy*sh + i*dh, ox*sw + j*dw] += sum_f weight[f, c, i, j] * grad_y[n, f, ...]
        dL/dbias[f] = sum_{n,oy,ox} grad_y[n, f, oy, ox]

    and dL/dx is dL/dxpad without its padding. Returns ``(grad_x, grad_weight, grad_bias)``."""
    _, _, h, w = x.shape
    _, _, kh, kw = weight.shape
    oh, ow = grad_y.shape[2:]
    xpad = _pad(x, padding)
    grad_xpad = np.zeros_like(xpad)
    grad_weight = np.zeros_like(weight)
    for i in range(kh):
        for j in range(kw):
            rows, cols = _tap(i, j, oh, ow, stride, dilation)
            grad_weight[:, :, i, j] = np.einsum("nfhw,nchw->fc", grad_y, xpad[:, :, rows, cols])
            grad_xpad[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", grad_y, weight[:, :, i, j])
    grad_x = grad_xpad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]
    return grad_x, grad_weight, grad_y.sum(axis=(0, 2, 3))


def max_pool2d_backward(grad_y, x, kernel_size, stride, padding, dilation):
    """``dL/dx`` of ``y[n, c, oy, ox] = max_{i,j} xpad[n, c, oy*sh + i*dh, ox*sw + j*dw]``
    (padding is ``-inf``): each ``grad_y`` entry goes to the one input pixel holding its
    window's maximum (the first in row-major ``(i, j)`` order on ties), added up where
    windows overlap. ``grad_y`` ``(N, C, OH, OW)`` -> ``grad_x`` ``(N, C, H, W)``."""
    kh, kw = kernel_size
    _, _, h, w = x.shape
    oh, ow = grad_y.shape[2:]
    xpad = _pad(x, padding, -np.inf)
    taps = [(i, j) for i in range(kh) for j in range(kw)]
    windows = np.stack([xpad[:, :, r, c] for r, c in
                        (_tap(i, j, oh, ow, stride, dilation) for i, j in taps)])
    winner = windows.argmax(axis=0)  # argmax keeps the first maximum
    grad_xpad = np.zeros_like(xpad)
    for k, (i, j) in enumerate(taps):
        rows, cols = _tap(i, j, oh, ow, stride, dilation)
        grad_xpad[:, :, rows, cols] += grad_y * (winner == k)
    return grad_xpad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]


def batch_norm_backward(grad_y, x, gamma, eps):
    """Training-mode batch norm ``y = gamma * xhat + beta``, ``xhat = (x - mu) / sqrt(var + eps)``
    with ``mu``, ``var`` (biased) the per-channel statistics over every axis but 1; for
    ``g = grad_y`` and means over the same axes::

        dL/dbeta = sum(g),  dL/dgamma = sum(g * xhat),
        dL/dx = gamma / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat))

    x, grad_y ``(N, C, ...)``, gamma ``(C,)`` -> ``(grad_x, grad_gamma, grad_beta)``."""
    axes = (0,) + tuple(range(2, x.ndim))
    channel = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    xhat = (x - mu) * inv_std
    grad_x = gamma.reshape(channel) * inv_std * (
        grad_y - grad_y.mean(axis=axes, keepdims=True)
        - xhat * (grad_y * xhat).mean(axis=axes, keepdims=True))
    return grad_x, (grad_y * xhat).sum(axis=axes), grad_y.sum(axis=axes)


def softmax_cross_entropy(logits, targets):
    """Mean cross-entropy of ``logits`` ``(N, C)`` against class indices ``targets`` ``(N,)``
    and its gradient: ``loss = -mean_n log softmax(logits)[n, targets[n]]``,
    ``dL/dlogits = (softmax(logits) - onehot(targets)) / N``. Returns ``(loss, grad)``; the
    row maximum is subtracted first so that ``exp`` never overflows."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), targets].mean()
    grad = np.exp(log_probs)
    grad[np.arange(n), targets] -= 1.0
    return loss, grad / n


def sgd_momentum_step(param, grad, velocity, lr, momentum, dampening=0.0, weight_decay=0.0,
                      nesterov=False):
    """One step of torch's SGD with momentum; ``velocity`` is None on the first step::

        g = grad + weight_decay * param
        v = g                                  on the first step,
        v = momentum * v + (1 - dampening) * g otherwise
        param - lr * (g + momentum * v)  with nesterov,   param - lr * v  without

    Returns ``(new_param, new_velocity)``."""
    g = grad + weight_decay * param
    v = g.copy() if velocity is None else momentum * velocity + (1 - dampening) * g
    step = g + momentum * v if nesterov else v
    return param - lr * step, v


def adam_step(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay=0.0):
    """One step of torch's Adam; ``step`` counts from 1, ``exp_avg``/``exp_avg_sq`` start at 0::

        g = grad + weight_decay * param
        m = beta1 * m + (1 - beta1) * g,   v = beta2 * v + (1 - beta2) * g**2
        param - lr * (m / (1 - beta1**step)) / (sqrt(v / (1 - beta2**step)) + eps)

    Returns ``(new_param, new_exp_avg, new_exp_avg_sq)``."""
    beta1, beta2 = betas
    g = grad + weight_decay * param
    m = beta1 * exp_avg + (1 - beta1) * g
    v = beta2 * exp_avg_sq + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
