"""The ``numba`` set's SGD step: one parallel pass over the parameter.

For each element, in the arrays' dtype (``momentum``, ``keep = 1 - dampening`` and ``lr``
cast to it, no fused multiply-add, so the bits are those of the array formulas in
:mod:`minicnn.kernels.formulas`), with a momentum buffer::

    b = momentum * buf[i] + keep * grad[i];  buf[i] = b;  param[i] -= lr * b

and without, ``param[i] -= lr * grad[i]``: one read of each array and one write of
``param`` (and ``buf``), where NumPy's in-place operators take up to three passes,
single-threaded, and temporaries of the parameter's size.
"""
from __future__ import annotations

from numba import njit, prange

from ..formulas import sgd_step as _formula


@njit(parallel=True, cache=True)
def _momentum_step(param, grad, buf, lr, momentum, keep):
    """The update with a momentum buffer over flat arrays."""
    for i in prange(param.shape[0]):
        b = buf[i] * momentum + keep * grad[i]
        buf[i] = b
        param[i] -= lr * b


@njit(parallel=True, cache=True)
def _plain_step(param, grad, lr):
    """The update without momentum over flat arrays."""
    for i in prange(param.shape[0]):
        param[i] -= lr * grad[i]


def sgd_step(param, grad, buf, lr, momentum, dampening):
    """The contract's ``sgd_step``; arrays that are not all C-contiguous take the array
    formulas."""
    arrays = (param, grad) if buf is None else (param, grad, buf)
    if not all(a.flags.c_contiguous for a in arrays):
        _formula(param, grad, buf, lr, momentum, dampening)
        return
    kind = param.dtype.type
    if buf is None:
        _plain_step(param.reshape(-1), grad.reshape(-1), kind(lr))
        return
    _momentum_step(param.reshape(-1), grad.reshape(-1), buf.reshape(-1), kind(lr),
                   kind(momentum), kind(1 - dampening))
