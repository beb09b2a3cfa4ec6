"""The hot loops behind convolution, pooling, batch norm and ReLU: one contract, several
kernel sets.

The contract (:mod:`.contract`) lists the functions every set provides, with their
arguments, shapes and math. Sets, each a package named as ``MINICNN_KERNELS`` and
``minicnn.backend.use_kernels`` name them, split by op family (``window`` for
``im2col``/``col2im``, ``conv``, ``pool``, ``norm``, ``activation``, ``fused``):

- ``reference/``: plain Python loops for im2col, col2im and pooling, the array formulas for
  the rest; for reading and as the oracle in tests.
- ``numpy/``: NumPy slicing per kernel offset; works on CuPy arrays too.
- ``numba/``: Numba kernels, the CPU default.
- ``cupy/``: CUDA kernels for arrays on a GPU.

Shared by sets: :mod:`.formulas` (batch norm and ReLU as array expressions),
:mod:`.composed` (convolution from a set's im2col/col2im, the fused batch norm -> ReLU ->
max pooling from a set's parts), :mod:`.memory` (the caching allocator of the ``numba``
set's outputs and scratch buffers) and :mod:`.window` (the window geometry).
``minicnn.backend`` chooses the set serving an array; every set is held to ``reference``
by ``tests/engine/kernels/``. A set of one's own is plugged in with :func:`use`
(:mod:`.plug`).
"""
from .plug import use
from .window import Window

__all__ = ["Window", "use"]
