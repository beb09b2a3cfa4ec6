"""Python's protocols on ``Tensor``: numbers (``float(t)``, ``int(t)``, ``f"{t:.4f}"``,
``mylist[t]``, ``if t:``), ``len``/iteration over the first dimension, and the comparisons
``==, !=, <, <=, >, >=`` (also as ``eq, ne, lt, le, gt, ge``), which compare in the promoted
dtype of both operands (torch's rules, :func:`minicnn.dtypes.result_type`) and give bool
tensors outside the tape. Error types and messages are torch's.
"""
from __future__ import annotations

import operator

from .. import dtypes


def _compare(name: str, op):
    def method(self, other):
        from .core import Tensor
        other_array = other.array if isinstance(other, Tensor) else other
        try:
            common = dtypes.result_type(self.array, other_array)
        except TypeError:  # t == None, t == [1, 2]: Python's fallback (identity for ==)
            return NotImplemented
        a = self.array.astype(common, copy=False)
        if hasattr(other_array, "dtype"):
            other_array = other_array.astype(common, copy=False)
        try:
            return Tensor(op(a, other_array))
        except ValueError:
            from ..ops.math import broadcast_error
            raise broadcast_error(name, a, other_array) from None
    method.__name__ = name
    method.__doc__ = f"Elementwise ``{name}`` as a bool tensor (broadcast, no gradient)."
    return method


class ProtocolMixin:
    """Mixed into :class:`~minicnn.tensor.Tensor`."""

    eq = __eq__ = _compare("eq", operator.eq)
    ne = __ne__ = _compare("ne", operator.ne)
    lt = __lt__ = _compare("lt", operator.lt)
    le = __le__ = _compare("le", operator.le)
    gt = __gt__ = _compare("gt", operator.gt)
    ge = __ge__ = _compare("ge", operator.ge)
    __hash__ = object.__hash__  # by identity, as torch (defining __eq__ would remove it)

    def item(self):
        """The Python number held by a one-element tensor."""
        if self.array.size != 1:
            raise RuntimeError(f"a Tensor with {self.array.size} elements cannot be converted "
                               f"to Scalar")
        return self.array.reshape(-1)[0].item()

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {self.shape})")
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """``mylist[t]`` for a one-element integer tensor."""
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index (got {dtypes.of_array(self.array)!r} of shape {self.shape})")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats the number of a 0-dim tensor; other tensors format as
        objects do (a non-empty spec is a TypeError), as in torch."""
        if self.array.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        """The sub-tensors ``self[0], self[1], ...`` along the first dimension."""
        if not self.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))
