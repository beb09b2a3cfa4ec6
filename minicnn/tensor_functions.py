"""``TensorFunctions``: the Tensor methods of the shape, indexing, elementwise, reduction and
product functions in ``minicnn/ops/`` (``t.flip(0)``, ``t.norm(dim=1)``, ``t.sort()``, ...).

A method ``t.name(*args)`` is the function ``minicnn.name(t, *args)`` (see
``minicnn/functions.py``), as in torch. ``Tensor`` inherits this mixin; the functions are
imported when first called, since the ops themselves need ``Tensor``.
"""
from __future__ import annotations


def _functions():
    from . import functions
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
        from .ops.shape import repeat
        return repeat(self, *sizes)

    def expand(self, *sizes):
        """A broadcast view of ``sizes`` (``-1`` keeps a dim), as torch's ``Tensor.expand``."""
        from .ops.shape import expand
        return expand(self, *sizes)

    def expand_as(self, other):
        return self.expand(other.shape)

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)
