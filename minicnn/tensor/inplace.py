"""In-place methods of ``Tensor`` (``add_``, ``+=``, ``copy_``, ``x[index] = v``, ...).

Every in-place method is its out-of-place op followed by a write (:meth:`InplaceMixin._inplace`),
with torch's checks:

* a leaf that requires grad may not be changed in place while grad mode is on
  (``RuntimeError``; wrap the update in ``minicnn.no_grad()``, as optimizers do);
* the result must have the tensor's shape (no broadcasting of ``self``) and a dtype that
  torch's ``can_cast`` allows into the tensor's dtype (``int_tensor += 0.5`` is an error).

When the op is recorded on the tape (grad mode on, and the tensor or the other operand
requires grad), the tensor becomes that op's output: it takes the result's array and
``grad_fn``, so ``out += shortcut`` inside a network differentiates as in torch. Otherwise the
values are written into the tensor's own array, which every view from ``.data`` or
``detach()`` shares, and the tensor's version counter goes up; an op that saved the array for
backward then raises at backward, as in torch.

One deliberate difference: on the tape, torch writes through into the shared memory, so
views taken earlier see the change and an op that saved the old values raises at backward;
minicnn gives the tensor a new array instead, so earlier views keep the old values and
backward uses them (the gradients are the same as torch's wherever torch has any).

For a new out-of-place method ``f``, ``def f_(self, ...): return self._inplace("f_", lambda:
self.f(...))`` is its in-place form, with all of the above.
"""
from __future__ import annotations

from .. import dtypes


class InplaceMixin:
    """The in-place methods; mixed into :class:`~minicnn.tensor.Tensor`."""

    def _check_leaf(self) -> None:
        from ..autograd import is_grad_enabled
        if self.requires_grad and self.grad_fn is None and is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")

    def _inplace(self, name: str, compute, cast: bool = False):
        """Run ``compute()`` (the out-of-place op, a Tensor of self's shape) and make its result
        this tensor's value; ``cast`` allows any dtype conversion (as ``copy_`` does)."""
        self._check_leaf()
        result = compute()
        if result.shape != self.shape:
            raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(result.shape)}")
        source, target = result.array.dtype, self.array.dtype
        if not cast and not dtypes.can_cast(source, target):
            raise RuntimeError(f"{name}: result type {dtypes.of_array(result.array)!r} can't be "
                               f"cast to the desired output type {dtypes.of_array(self.array)!r}")
        if result.requires_grad:  # recorded on the tape: self becomes the op's output
            if source != target:
                result = result.to(dtypes.of_array(self.array))
            self.array, self.grad_fn, self.requires_grad = result.array, result.grad_fn, True
            self._version_counter = result._version_counter  # the counter of the new array
        else:
            self.array[...] = result.array
            self._version_counter[0] += 1
        return self

    def add_(self, other, alpha=1):
        """``self += alpha * other``."""
        return self._inplace("add_", lambda: self.add(other, alpha=alpha))

    def sub_(self, other, alpha=1):
        """``self -= alpha * other``."""
        return self._inplace("sub_", lambda: self.sub(other, alpha=alpha))

    def mul_(self, other):
        return self._inplace("mul_", lambda: self * other)

    def div_(self, other):
        return self._inplace("div_", lambda: self / other)

    def clamp_(self, min=None, max=None):  # noqa: A002 - torch's argument names
        return self._inplace("clamp_", lambda: self.clamp(min, max))

    clip_ = clamp_

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        """Every element set to ``value`` (a number or a one-element tensor)."""
        from ..ops.inplace import Fill
        if getattr(value, "ndim", 0) != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions")
        return self._inplace("fill_", lambda: Fill.apply(self, value), cast=True)

    def copy_(self, source, non_blocking: bool = False):
        """Copy ``source`` (Tensor, array or number; broadcast to this shape) into this tensor,
        keeping its dtype and device; differentiable with respect to ``source``."""
        from ..ops.inplace import CopyInto
        source = source if isinstance(source, type(self)) else _wrap(source)
        return self._inplace("copy_", lambda: CopyInto.apply(self, source), cast=True)

    def uniform_(self, low: float = 0.0, high: float = 1.0):
        from ..random import generator
        return self.copy_(generator().uniform(low, high, self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0):
        from ..random import generator
        return self.copy_(generator().normal(mean, std, self.shape))

    def __setitem__(self, index, value) -> None:
        """``x[index] = value``: basic, integer-array and boolean-mask indices; ``value`` is a
        number, array or tensor broadcast to ``x[index]`` and cast to ``x``'s dtype."""
        from ..autograd import is_grad_enabled
        from ..ops.inplace import IndexPut, _on_device_of
        from .core import _unwrap_index
        index = _unwrap_index(index)
        value_requires_grad = getattr(value, "requires_grad", False)
        if not (is_grad_enabled() and (self.requires_grad or value_requires_grad)):
            self._check_leaf()
            array = value.array if isinstance(value, type(self)) else value
            try:
                self.array[index] = _on_device_of(self.array, array)  # no copy of the tensor
            except ValueError:
                raise _value_shape_error(self.array, index, array) from None
            self._version_counter[0] += 1
            return
        self._inplace("setitem", lambda: IndexPut.apply(self, value, index=index), cast=True)


def _value_shape_error(array, index, value) -> RuntimeError:
    """torch's error for ``x[index] = value`` with a value that does not broadcast."""
    return RuntimeError(f"x[index] = value: shape mismatch: value of shape "
                        f"{tuple(getattr(value, 'shape', ()))} cannot be broadcast to the "
                        f"indexing result of shape {tuple(array[index].shape)}")


def _wrap(value):
    """A tensor of ``value`` with its own dtype (a Python float list stays float64 here, since
    ``copy_`` casts it to the target's dtype anyway)."""
    import numpy as np

    from .core import Tensor
    return Tensor(value if hasattr(value, "shape") else np.asarray(value))
