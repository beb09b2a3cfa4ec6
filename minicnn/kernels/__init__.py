"""The hot loops behind convolution and pooling: one contract, several implementations.

Every kernel set is a module with these functions (``win`` is a :class:`Window`):

``im2col(x, win, pad_value=0.0) -> col``
    x ``(N, C, H, W)`` -> col ``(N, C, kh, kw, OH, OW)`` with
    ``col[n, c, i, j, oy, ox] = xpad[n, c, oy*sh + i*dh, ox*sw + j*dw]``, where ``xpad`` is
    ``x`` padded by ``ph`` rows and ``pw`` columns of ``pad_value`` on each side.
``col2im(col, win, h, w) -> x``
    the adjoint of ``im2col`` (pad value 0): every column entry is added back to the input
    pixel it was copied from; entries that came from padding are dropped.
``maxpool2d_forward(x, win) -> (y, argmax)``
    y ``(N, C, OH, OW)`` is the window maximum (padding is ``-inf``); argmax, int64 of the
    same shape, is the offset ``i*kw + j`` of the maximum inside its window. Ties go to
    the first maximum in row-major order.
``maxpool2d_backward(grad_y, argmax, win, h, w) -> grad_x``
    routes each ``grad_y`` entry to the input pixel its window's argmax names, adding
    where windows overlap.
``conv2d_forward(x, weight, bias, win) -> (y, saved)`` and
``conv2d_backward(g, saved, x, weight, win, need_x, need_w, need_b) -> (gx, gw, gb)``
    convolution (``minicnn/ops/conv.py``); ``saved`` is whatever the set wants back in
    backward (the NumPy set keeps ``col``, the Numba set nothing). Unneeded gradients are None.
``batchnorm_stats(x) -> (mean, var)``,
``batchnorm_inv_std(var, eps, mean, running_mean, running_var, momentum, count) -> inv_std``,
``batchnorm_apply(x, mean, inv_std, weight, bias) -> y``,
``batchnorm_backward(g, x, mean, inv_std, weight, batch_stats, need_x, need_w, need_b)``
    batch normalisation per channel (axis 1), biased variance (``minicnn/ops/norm.py``);
    ``batchnorm_inv_std`` also moves the running estimates (in place) when they are given.
``relu_forward(x) -> y`` and ``relu_backward(g, y) -> g * [y > 0]``.
``batchnorm_relu_maxpool_forward(x, mean, inv_std, weight, bias, win) -> (y, saved)`` and
``batchnorm_relu_maxpool_backward(g, y, saved, x, mean, inv_std, weight, batch_stats, win,
need_x, need_w, need_b) -> (gx, gw, gb)``
    ``y = maxpool2d_forward(relu_forward(batchnorm_apply(x, ...)), win)[0]`` and its
    gradients, in one op that keeps neither the normalised nor the rectified tensor
    (``minicnn/ops/fused.py``); ``saved`` is what the set wants back (the argmax). Every
    set has the composition (``generic.batchnorm_relu_maxpool_kernels``); the Numba set
    fuses the passes for 2x2 windows with stride 2.

Sets: ``reference`` (plain Python loops for im2col, col2im and pooling, the NumPy formulas
for the rest; for reading and as the oracle in tests), ``numpy`` (module ``vectorized``:
NumPy slicing per kernel offset, works on CuPy arrays too), ``numba`` (module ``cpu``: the
CPU default) and ``cupy`` (module ``gpu``: CUDA kernels). ``minicnn.backend`` chooses the
set serving an array; every set is held to ``reference`` by ``tests/engine/test_kernels.py``.
A set of one's own is plugged in with :func:`use` (``minicnn/kernels/plug.py``).
"""
from .window import Window
from .plug import use

__all__ = ["Window", "use"]
