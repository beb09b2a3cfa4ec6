"""CUDA sources as templates, compiled per dtype on first use, and their launches.

Every kernel of the ``cupy`` set is declared once, next to the launch code of its op, as a
:class:`RawSource` (a ``cupy.RawKernel``: its ``extern "C" __global__`` function, with ``T``
the element type and ``i64`` 64-bit indices) or an :class:`ElementwiseSource` (a
``cupy.ElementwiseKernel``'s parameters and body); each declaration registers itself in
:data:`SOURCES`, which the tests enumerate (``tests/engine/kernels/test_cuda_on_cpu.py``
compiles every one as C++ and runs it on the CPU). Templates are :class:`string.Template`
texts whose ``$`` fields the op's module fills at import; the element type is put in when
a kernel is compiled. Compiled kernels are kept per dtype (``functools.lru_cache``) and
CuPy caches the binaries on disk. Importing this module needs no CUDA.
"""
from __future__ import annotations

import functools
import string
from dataclasses import dataclass

import numpy as np

from ...backend import cupy_module

#: Threads per block of every launch.
THREADS = 256

HEADER = string.Template("typedef $ctype T;\ntypedef long long i64;\n")
CTYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

#: Every kernel of the set by name, in the order they were declared.
SOURCES: dict[str, RawSource | ElementwiseSource] = {}


@dataclass(frozen=True)
class RawSource:
    """``source`` defines ``extern "C" __global__ void <name>(...)``. ``per_plane``: launched
    with one block of :data:`THREADS` threads per (sample, channel) plane, which cooperate
    through shared memory; otherwise one thread per output element."""

    name: str
    source: str
    per_plane: bool = False

    def text(self, ctype: str) -> str:
        """The complete CUDA source for the element type ``ctype`` ("float", "double")."""
        return HEADER.substitute(ctype=ctype) + self.source


@dataclass(frozen=True)
class ElementwiseSource:
    """A ``cupy.ElementwiseKernel``: ``inputs`` and ``outputs`` like "T x, T y", the ``body``
    run for each element."""

    name: str
    inputs: str
    outputs: str
    body: str


def _register(source):
    if source.name in SOURCES:
        raise ValueError(f"minicnn cupy kernels: {source.name!r} is declared twice")
    SOURCES[source.name] = source
    return source


def raw_source(name: str, template: str, per_plane: bool = False, **fields) -> RawSource:
    """Declare the RawKernel ``name`` from ``template`` with its ``$`` ``fields`` filled."""
    return _register(RawSource(name, string.Template(template).substitute(fields), per_plane))


def elementwise_source(name: str, inputs: str, outputs: str, body: str) -> ElementwiseSource:
    """Declare the ElementwiseKernel ``name``."""
    return _register(ElementwiseSource(name, inputs, outputs, body))


@functools.cache
def _compiled(source: RawSource, dtype: np.dtype):
    if dtype not in CTYPES:
        raise TypeError(f"minicnn cupy kernels: {source.name}: dtype {dtype} is not supported "
                        f"(float32, float64)")
    return cupy_module().RawKernel(source.text(CTYPES[dtype]), source.name)


def launch(source: RawSource, dtype, count: int, *args) -> None:
    """Run ``source`` for ``dtype`` over ``count`` output elements (or planes, when
    ``per_plane``) with the kernel arguments ``args``."""
    kernel = _compiled(source, np.dtype(dtype))
    blocks = count if source.per_plane else (count + THREADS - 1) // THREADS
    kernel((blocks,), (THREADS,), args)


@functools.cache
def elementwise(source: ElementwiseSource):
    """The compiled ``cupy.ElementwiseKernel`` of ``source`` (called like a function)."""
    return cupy_module().ElementwiseKernel(source.inputs, source.outputs, source.body,
                                           f"minicnn_{source.name}")


def geometry(win, oh: int, ow: int) -> tuple:
    """The window and output size as the kernels' ``int`` arguments."""
    return tuple(np.int32(v) for v in (win.kh, win.kw, win.sh, win.sw, win.ph, win.pw,
                                       win.dh, win.dw, oh, ow))


def optional(array, like):
    """``(array, 1)``, or ``(like, 0)`` for an absent weight or bias (the kernel ignores it)."""
    if array is None:
        return like, np.int32(0)
    return cupy_module().ascontiguousarray(array, dtype=like.dtype), np.int32(1)
