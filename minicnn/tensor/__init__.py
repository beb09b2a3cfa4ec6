"""``Tensor`` and its constructors, one module per part of the class:

- ``core.py``: the class (array, dtype, device, ``requires_grad``, ``grad``, ``grad_fn``,
  ``backward``, arithmetic, indexing) and ``torch.device``'s ``device``, with the
  constructors ``tensor``, ``from_numpy``, ``zeros``, ``ones``, ``randn``, ``rand``,
  ``arange``;
- ``functions.py``: the methods that call ``minicnn.functions`` (``t.flip(0)``, ...);
- ``inplace.py``: the in-place methods (``add_``, ``+=``, ``x[i] = v``, ...);
- ``protocol.py``: Python's protocols and the comparisons.

Dtypes and torch's promotion rules are in ``minicnn/dtypes.py``.
"""
from .core import Tensor, arange, device, from_numpy, ones, rand, randn, tensor, zeros

__all__ = ["Tensor", "device", "tensor", "from_numpy", "zeros", "ones", "randn", "rand",
           "arange"]
