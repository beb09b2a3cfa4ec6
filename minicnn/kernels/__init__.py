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

Sets: ``reference`` (plain Python loops, for reading and as the oracle in tests) and
``vectorized`` (NumPy slicing per kernel offset; the default). ``minicnn.backend``
chooses the set serving an array.
"""
from .window import Window

__all__ = ["Window"]
