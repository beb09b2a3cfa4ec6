"""Kernels composed from a set's other kernels: convolution from its ``im2col``/``col2im``,
and the fused batch norm -> ReLU -> max pooling from its batch norm, ReLU and pooling.
The ``reference``, ``numpy`` and ``cupy`` sets build theirs this way (the ``numba`` set for
windows other than 2x2 with stride 2), and so does ``minicnn.kernels.use`` for a set that
leaves them out. Written against the input's array module (NumPy or CuPy).
"""
from __future__ import annotations

from ..backend import xp_of


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
