"""Kernels composed from a set's other kernels: convolution and average pooling from its
``im2col``/``col2im``, grouped (and so depthwise) convolution from its convolution, and the
fused batch norm -> clamp and batch norm -> ReLU -> max pooling from its batch norm, ReLU
and pooling. The ``reference``, ``numpy`` and ``cupy`` sets build their average pooling
and fused ops this way (the first two their convolution too, the ``numba`` set its fused
pooling op for windows other than 2x2 with stride 2), the
grouped ops (``minicnn/ops/conv.py``) use :func:`grouped_conv2d`, and
``minicnn.kernels.use`` fills what a set leaves out from these. Written against the input's
array module (NumPy or CuPy).
"""
from __future__ import annotations

from ..backend import xp_of


def compose_avgpool2d(im2col, col2im):
    """``avgpool2d_forward`` and ``avgpool2d_backward`` on top of the given im2col/col2im:
    the mean (or the sum over ``divisor``) of the columns ``(N, C, kh, kw, OH, OW)`` over
    the window's axes, and back, the share ``g / divisor`` broadcast to every column entry."""

    def avgpool2d_forward(x, win, divisor):
        col = im2col(x, win)
        return col.mean(axis=(2, 3)) if divisor is None else col.sum(axis=(2, 3)) / divisor

    def avgpool2d_backward(grad_y, win, h, w, divisor):
        share = grad_y / (win.kh * win.kw) if divisor is None else grad_y / divisor
        n, c, oh, ow = grad_y.shape
        grad_col = xp_of(grad_y).broadcast_to(share[:, :, None, None],
                                              (n, c, win.kh, win.kw, oh, ow))
        return col2im(grad_col, win, h, w)

    return avgpool2d_forward, avgpool2d_backward


def compose_conv2d(im2col, col2im):
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


def _blocks(size: int, groups: int) -> list[slice]:
    step = size // groups
    return [slice(b * step, (b + 1) * step) for b in range(groups)]


def grouped_conv2d(conv2d_forward, conv2d_backward):
    """Grouped convolution ``forward(x, weight, bias, win, groups) -> (y, saved)`` and
    ``backward(g, saved, x, weight, win, groups, need_x, need_w, need_b)`` from the given
    ``conv2d_forward``/``conv2d_backward``, one call per group.

    With ``groups = G`` the channels split into ``G`` consecutive blocks, weight
    ``(F, C/G, kh, kw)``; filters ``f`` in block ``b = f // (F/G)`` see only input channels
    ``b*C/G .. (b+1)*C/G - 1``. Each block is an ordinary convolution of its slice of ``x``
    with its slice of the weight; the outputs are stacked along the channel axis. ``saved``
    is the list of the blocks' saved states.
    """

    def forward(x, weight, bias, win, groups):
        outs, saved = [], []
        for cin, cout in zip(_blocks(x.shape[1], groups), _blocks(weight.shape[0], groups)):
            y, kept = conv2d_forward(x[:, cin], weight[cout],
                                     None if bias is None else bias[cout], win)
            outs.append(y)
            saved.append(kept)
        return xp_of(x).concatenate(outs, axis=1), saved

    def backward(g, saved, x, weight, win, groups, need_x=True, need_w=True, need_b=True):
        xp = xp_of(g)
        grad_x = xp.empty_like(x) if need_x else None
        grad_w = xp.empty_like(weight) if need_w else None
        grad_b = xp.empty(weight.shape[0], dtype=g.dtype) if need_b else None
        blocks = zip(_blocks(x.shape[1], groups), _blocks(weight.shape[0], groups), saved)
        for cin, cout, kept in blocks:
            gx, gw, gb = conv2d_backward(g[:, cout], kept, x[:, cin], weight[cout], win,
                                         need_x, need_w, need_b)
            if need_x:
                grad_x[:, cin] = gx
            if need_w:
                grad_w[cout] = gw
            if need_b:
                grad_b[cout] = gb
        return grad_x, grad_w, grad_b

    return forward, backward


def compose_depthwise_conv2d(conv2d_forward, conv2d_backward):
    """``depthwise_conv2d_forward`` and ``depthwise_conv2d_backward`` as the grouped
    convolution of :func:`grouped_conv2d` with one group per input channel."""
    forward, backward = grouped_conv2d(conv2d_forward, conv2d_backward)

    def depthwise_conv2d_forward(x, weight, bias, win):
        return forward(x, weight, bias, win, x.shape[1])

    def depthwise_conv2d_backward(g, saved, x, weight, win, need_x=True, need_w=True,
                                  need_b=True):
        return backward(g, saved, x, weight, win, x.shape[1], need_x, need_w, need_b)

    return depthwise_conv2d_forward, depthwise_conv2d_backward


def compose_batchnorm_relu_maxpool(norm, relu, pool):
    """``batchnorm_relu_maxpool_forward`` and ``batchnorm_relu_maxpool_backward`` composed
    from ``norm.batchnorm_apply``/``batchnorm_backward``, ``relu.relu_forward``/
    ``relu_backward`` and ``pool.maxpool2d_forward``/``maxpool2d_backward`` (modules or any
    objects with those functions): batch norm, ReLU and max pooling one after the other.
    Only the pooled output and its argmax (``saved``) are kept, which is all backward
    needs: the ReLU passed the gradient of a window exactly when the window's output is
    positive, so ``dL/dz = maxpool_backward(g * [y > 0])`` is the gradient at the batch
    norm's output.
    """

    def batchnorm_relu_maxpool_forward(x, mean, inv_std, weight, bias, win):
        z = relu.relu_forward(norm.batchnorm_apply(x, mean, inv_std, weight, bias))
        return pool.maxpool2d_forward(z, win)

    def batchnorm_relu_maxpool_backward(g, y, saved, x, mean, inv_std, weight, batch_stats,
                                        win, need_x=True, need_w=True, need_b=True):
        grad_z = pool.maxpool2d_backward(relu.relu_backward(g, y), saved, win, *x.shape[2:])
        return norm.batchnorm_backward(grad_z, x, mean, inv_std, weight, batch_stats,
                                       need_x, need_w, need_b)

    return batchnorm_relu_maxpool_forward, batchnorm_relu_maxpool_backward


def compose_batchnorm_clamp(norm):
    """``batchnorm_clamp_forward`` and ``batchnorm_clamp_backward`` composed from
    ``norm.batchnorm_apply``/``batchnorm_backward`` (a module or any object with those
    functions): the batch norm, then the clamp as an array expression. Backward needs only
    the output ``y``: ``low < y < high`` exactly where the batch norm's output was strictly
    inside the bounds, where the clamp passed the gradient."""

    def batchnorm_clamp_forward(x, mean, inv_std, weight, bias, low, high):
        z = norm.batchnorm_apply(x, mean, inv_std, weight, bias)
        return xp_of(z).clip(z, low, high).astype(z.dtype, copy=False)

    def batchnorm_clamp_backward(g, y, x, mean, inv_std, weight, bias, batch_stats, low, high,
                                 need_x=True, need_w=True, need_b=True):
        grad_z = xp_of(g).where((y > low) & (y < high), g, 0).astype(g.dtype, copy=False)
        return norm.batchnorm_backward(grad_z, x, mean, inv_std, weight, batch_stats,
                                       need_x, need_w, need_b)

    return batchnorm_clamp_forward, batchnorm_clamp_backward
