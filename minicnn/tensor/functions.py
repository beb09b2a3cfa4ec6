"""``TensorFunctions``: the Tensor methods of the shape, indexing, elementwise, reduction and
product functions in ``minicnn/ops/`` (``t.flip(0)``, ``t.norm(dim=1)``, ``t.sort()``, ...),
and ``sigmoid``, ``tanh`` and ``unflatten``.

A method ``t.name(*args)`` is the function ``minicnn.name(t, *args)`` (see
``minicnn/functions.py``), as in torch. ``Tensor`` inherits this mixin; the functions are
imported when first called, since the ops themselves need ``Tensor``.
"""
from __future__ import annotations

import math


def _functions():
    from .. import functions
    return functions


def _method(name: str):
    def method(self, *args, **kwargs):
        return getattr(_functions(), name)(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``minicnn.{name}(self, ...)``: see ``minicnn.functions.{name}``."
    return method


class TensorFunctions:
    """Methods that forward to ``minicnn.functions`` (see the module docstring)."""

    # ---- shape, indexing, elementwise and reduction functions (minicnn/ops/...) ----------
    split, chunk, flip, masked_fill, gather, index_select = map(
        _method, ("split", "chunk", "flip", "masked_fill", "gather", "index_select"))
    clamp, clip, pow, sign, log1p, expm1, neg, negative, square, maximum, minimum = map(
        _method, ("clamp", "clip", "pow", "sign", "log1p", "expm1", "neg", "negative", "square",
                  "maximum", "minimum"))
    norm, var, std, prod, cumsum, sort, argsort, topk, any, all = map(
        _method, ("norm", "var", "std", "prod", "cumsum", "sort", "argsort", "topk", "any",
                  "all"))
    mm, bmm = map(_method, ("mm", "bmm"))

    def where(self, condition, other):
        """``t.where(condition, other)``: ``self`` where ``condition``, else ``other``."""
        return _functions().where(condition, self, other)

    def repeat(self, *sizes):
        """Tile ``sizes[i]`` copies along each dim (torch's ``Tensor.repeat``)."""
        from ..ops.shape import repeat
        return repeat(self, *sizes)

    def expand(self, *sizes):
        """A broadcast view of ``sizes`` (``-1`` keeps a dim), as torch's ``Tensor.expand``."""
        from ..ops.shape import expand
        return expand(self, *sizes)

    def expand_as(self, other):
        return self.expand(other.shape)

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def sigmoid(self):
        from ..ops.activation import SigmoidFunction
        return SigmoidFunction.apply(self)

    def tanh(self):
        from ..ops.activation import TanhFunction
        return TanhFunction.apply(self)

    def unflatten(self, dim: int, sizes):
        """Split dim ``dim`` into ``sizes`` (one entry may be -1): ``(2, 6).unflatten(1, (2, 3))``
        is ``(2, 2, 3)``; ``RuntimeError`` when the sizes do not multiply up to that dim."""
        shape = self.shape
        if not -len(shape) <= dim < len(shape):
            raise IndexError(f"unflatten: dim {dim} is out of range for a {len(shape)}-d tensor")
        dim, sizes = dim % len(shape), tuple(int(n) for n in sizes)
        known = math.prod(n for n in sizes if n != -1)
        if -1 in sizes:
            valid = sizes.count(-1) == 1 and known > 0 and shape[dim] % known == 0
        else:
            valid = known == shape[dim]
        if not valid:
            raise RuntimeError(f"unflatten: provided sizes {list(sizes)} don't multiply up to "
                               f"the size of dim {dim} ({shape[dim]}) of the input {shape}")
        return self.reshape(shape[:dim] + sizes + shape[dim + 1:])
