"""``Unflatten``: the inverse of ``Flatten``, one dim split into several."""
from __future__ import annotations

from .module import Module


class Unflatten(Module):
    """``(N, C*H*W) -> (N, C, H, W)`` for ``Unflatten(1, (C, H, W))``: dim ``dim`` of the input
    becomes ``unflattened_size`` (one entry may be -1), by :meth:`Tensor.unflatten`."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{type(unflattened_size).__name__}")
        for k, n in enumerate(unflattened_size):
            if not isinstance(n, int):
                raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, but "
                                f"found element of type {type(n).__name__} at pos {k}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, x):
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
