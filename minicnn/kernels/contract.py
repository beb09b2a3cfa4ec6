"""The kernel contract: the functions every kernel set provides, their arguments and math.

:class:`KernelSet` lists them as methods (a :class:`typing.Protocol`); a set is a module
(or any object) with a function of each name. The ops (``minicnn/ops/``) pass every
positional parameter, in order; a keyword-only parameter (``im2col``'s ``pad_value``) is
for a set's own use. :data:`NAMES` and :func:`positional_count` are what
``minicnn.kernels.use`` and the tests check a set against.

Shapes: ``x (N, C, H, W)``; ``win`` a :class:`~minicnn.kernels.window.Window` of kernel
``(kh, kw)``, stride ``(sh, sw)``, padding ``(ph, pw)`` and dilation ``(dh, dw)``, with
output size ``(OH, OW) = win.out_shape(H, W)``. Batch norm works per channel (axis 1) over
``x (N, C, ...)``; its per-channel arrays are ``(C,)``. ``need_x``, ``need_w``, ``need_b``
say which gradients are wanted; an unwanted one is returned as None.
"""
from __future__ import annotations

import inspect
from typing import Protocol, runtime_checkable


@runtime_checkable
class KernelSet(Protocol):
    """The contract, one method per kernel function (``self`` is not part of it)."""

    def im2col(self, x, win, *, pad_value=0.0):
        """x ``(N, C, H, W)`` -> col ``(N, C, kh, kw, OH, OW)`` with
        ``col[n, c, i, j, oy, ox] = xpad[n, c, oy*sh + i*dh, ox*sw + j*dw]``, where ``xpad``
        is ``x`` padded by ``ph`` rows and ``pw`` columns of ``pad_value`` on each side."""

    def col2im(self, col, win, h, w):
        """The adjoint of ``im2col`` (pad value 0): col ``(N, C, kh, kw, OH, OW)`` -> x
        ``(N, C, h, w)``, every column entry added back to the input pixel it was copied
        from; entries that came from padding are dropped."""

    def maxpool2d_forward(self, x, win):
        """-> ``(y, argmax)``: y ``(N, C, OH, OW)`` the window maximum (padding is ``-inf``);
        argmax, integers of the same shape, the offset ``i*kw + j`` of the maximum inside
        its window. Ties go to the first maximum in row-major order."""

    def maxpool2d_backward(self, grad_y, argmax, win, h, w):
        """-> grad_x ``(N, C, h, w)``: each ``grad_y`` entry routed to the input pixel its
        window's argmax names, adding where windows overlap."""

    def avgpool2d_forward(self, x, win, divisor):
        """-> y ``(N, C, OH, OW)``: the window's sum (padding is 0) over ``divisor``, which
        is None (``kh*kw``) or an array ``(OH, OW)`` of x's dtype, one per output pixel."""

    def avgpool2d_backward(self, grad_y, win, h, w, divisor):
        """-> grad_x ``(N, C, h, w)``: each ``grad_y`` entry over its divisor added to every
        input pixel of its window (pixels of the padding dropped)."""

    def conv2d_forward(self, x, weight, bias, win):
        """-> ``(y, saved)``: ``y[n, f, oy, ox] = b[f] + sum over (c, i, j) of
        weight[f, c, i, j] * xpad[n, c, oy*sh + i*dh, ox*sw + j*dw]``, weight
        ``(F, C, kh, kw)``, bias ``(F,)`` or None, y ``(N, F, OH, OW)``; ``saved`` is
        whatever the set wants back in backward (None when it keeps nothing)."""

    def conv2d_backward(self, g, saved, x, weight, win, need_x=True, need_w=True,
                        need_b=True):
        """-> ``(grad_x, grad_w, grad_b)`` of :meth:`conv2d_forward` for ``g = dL/dy``:
        ``grad_w[f, c, i, j] = sum over (n, oy, ox) of g[n, f, oy, ox] * xpad[...]``,
        ``grad_b[f] = sum of g[:, f]``, and ``grad_x`` the adjoint (``col2im`` of
        ``weight^T g``)."""

    def depthwise_conv2d_forward(self, x, weight, bias, win):
        """Depthwise convolution (``groups = C``) with channel multiplier ``m >= 1``:
        weight ``(C*m, 1, kh, kw)``, bias ``(C*m,)`` or None -> ``(y, saved)``, y
        ``(N, C*m, OH, OW)``, output channel ``f`` reading input channel ``f // m`` only:
        ``y[n, f, oy, ox] = b[f] + sum over (i, j) of weight[f, 0, i, j] *
        xpad[n, f // m, oy*sh + i*dh, ox*sw + j*dw]``; ``saved`` as for
        :meth:`conv2d_forward`."""

    def depthwise_conv2d_backward(self, g, saved, x, weight, win, need_x=True, need_w=True,
                                  need_b=True):
        """-> ``(grad_x, grad_w, grad_b)`` of :meth:`depthwise_conv2d_forward` for
        ``g = dL/dy``: ``grad_w[f, 0, i, j] = sum over (n, oy, ox) of g[n, f, oy, ox] *
        xpad[n, f // m, oy*sh + i*dh, ox*sw + j*dw]``, ``grad_b[f] = sum of g[:, f]``, and
        ``grad_x[n, c]`` the sum over the ``m`` output channels ``f`` of input channel
        ``c`` of each ``g[n, f, oy, ox] * weight[f, 0, i, j]`` added back to the pixel it
        read (padding dropped)."""

    def batchnorm_stats(self, x):
        """-> ``(mean, var)`` per channel over every axis but 1; ``var`` is biased
        (divided by the count ``m`` of values per channel). In ``x``'s dtype."""

    def batchnorm_inv_std(self, var, eps):
        """-> ``1 / sqrt(var + eps)``, elementwise."""

    def batchnorm_update_running(self, running_mean, running_var, mean, var, momentum,
                                 count):
        """Move the running estimates in place, returning None:
        ``running_mean <- (1 - momentum) * running_mean + momentum * mean`` and
        ``running_var <- (1 - momentum) * running_var + momentum * var * count /
        (count - 1)`` (the batch variance unbiased; the factor is 1 for a count of 1)."""

    def batchnorm_apply(self, x, mean, inv_std, weight, bias):
        """-> ``y = (x - mean) * inv_std * weight + bias`` per channel (weight and bias may
        be None: 1 and 0)."""

    def batchnorm_backward(self, g, x, mean, inv_std, weight, batch_stats, need_x=True,
                           need_w=True, need_b=True):
        """-> ``(grad_x, grad_w, grad_b)`` of :meth:`batchnorm_apply` for ``g = dL/dy``,
        with ``xhat = (x - mean) * inv_std`` and means per channel:
        ``grad_b = sum(g)``, ``grad_w = sum(g * xhat)``,
        ``grad_x = weight * inv_std * (g - mean(g) - xhat * mean(g * xhat))`` when
        ``batch_stats`` (mean and variance are functions of ``x``), else
        ``grad_x = weight * inv_std * g``."""

    def relu_forward(self, x):
        """-> ``max(x, 0)``, elementwise."""

    def relu_backward(self, g, y):
        """-> ``g * [y > 0]``, from the forward's output ``y``."""

    def batchnorm_clamp_forward(self, x, mean, inv_std, weight, bias, low, high):
        """-> ``min(max(batchnorm_apply(x, mean, inv_std, weight, bias), low), high)``, one op
        that need not store the normalised tensor: ReLU is ``(low, high) = (0, inf)``, ReLU6
        ``(0, 6)``, Hardtanh its ``(min_val, max_val)``."""

    def batchnorm_clamp_backward(self, g, y, x, mean, inv_std, weight, bias, batch_stats, low,
                                 high, need_x=True, need_w=True, need_b=True):
        """-> ``(grad_x, grad_w, grad_b)`` of :meth:`batchnorm_clamp_forward`, given its
        output ``y`` and its ``bias``: the gradient at the batch norm's output is ``g * [low
        < y < high]`` (zero on the bounds, as torch's), then :meth:`batchnorm_backward`. The
        mask is also ``low < batchnorm_apply(x, ...) < high``, the forward's own numbers,
        which a set may make again from ``x`` rather than read ``y``."""

    def batchnorm_relu_maxpool_forward(self, x, mean, inv_std, weight, bias, win):
        """-> ``(y, saved)``: ``y = maxpool2d_forward(relu_forward(batchnorm_apply(x, mean,
        inv_std, weight, bias)), win)[0]`` in one op that need not keep the normalised or
        the rectified tensor; ``saved`` is what the set wants back (at least the argmax)."""

    def batchnorm_relu_maxpool_backward(self, g, y, saved, x, mean, inv_std, weight,
                                        batch_stats, win, need_x=True, need_w=True,
                                        need_b=True):
        """-> ``(grad_x, grad_w, grad_b)`` of :meth:`batchnorm_relu_maxpool_forward`:
        the gradient at the batch norm's output is ``maxpool2d_backward(g * [y > 0])``,
        then :meth:`batchnorm_backward`."""

    def sgd_step(self, param, grad, buf, lr, momentum, dampening):
        """SGD's step, in place, for arrays of one shape and dtype: with a momentum buffer
        ``buf``, ``buf <- momentum * buf + (1 - dampening) * grad``, then ``param <- param -
        lr * buf``; with ``buf`` None, ``param <- param - lr * grad``. The numbers are cast
        to the arrays' dtype and every product and sum rounded to it as NumPy's in-place
        operators round them (no fused multiply-add), so every set gives the same bits."""


def _methods() -> dict:
    members = vars(KernelSet)
    return {name: members[name] for name in members
            if not name.startswith("_") and inspect.isfunction(members[name])}


#: Every function of the contract, in the order above.
NAMES: tuple[str, ...] = tuple(_methods())


def signature(name: str) -> inspect.Signature:
    """The contract's signature of ``name``, without ``self``."""
    full = inspect.signature(_methods()[name])
    return full.replace(parameters=list(full.parameters.values())[1:])


def positional_count(name: str) -> int:
    """How many positional arguments the ops pass to ``name``."""
    return sum(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
               for p in signature(name).parameters.values())
