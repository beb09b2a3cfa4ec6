"""Which array module and which kernel set serve an array.

Ops never branch on the device. They call :func:`xp_of` to get the array module
(``numpy`` or ``cupy``) of their input and :func:`kernels_of` to get the kernel set
(im2col, col2im, max pooling) that serves it. CuPy is optional: it is imported only
when a CUDA array or device is asked for, so the package imports cleanly without CUDA.

The kernel set can be forced for a block of code, which is how tests hold the fast
sets to the plain-loop reference::

    with minicnn.backend.use_kernels("reference"):
        y = conv(x)
"""
from __future__ import annotations

import contextlib
import importlib

import numpy as np

_DEFAULT_KERNELS = "vectorized"
_KERNEL_SETS = {
    "reference": "minicnn.kernels.reference",
    "vectorized": "minicnn.kernels.vectorized",
}
_forced_kernels: str | None = None


def cupy_module():
    """Return the ``cupy`` module, or raise a clear error when CUDA is not usable."""
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            "minicnn: a CUDA device was asked for but CuPy is not installed; "
            "install the 'gpu' extra (pip install minicnn[gpu])") from exc
    return cupy


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, or CUDA driver errors of any kind
        return False


def is_cupy_array(array) -> bool:
    """True for a ``cupy.ndarray``, without importing CuPy when it is not loaded."""
    return type(array).__module__.startswith("cupy")


def xp_of(array):
    """The array module (``numpy`` or ``cupy``) that owns ``array``."""
    return cupy_module() if is_cupy_array(array) else np


def device_of(array) -> str:
    """``'cuda'`` for a CuPy array, ``'cpu'`` otherwise."""
    return "cuda" if is_cupy_array(array) else "cpu"


def kernels_of(array):
    """The kernel set that serves ``array`` (see ``minicnn/kernels/__init__.py``)."""
    return importlib.import_module(_KERNEL_SETS[_forced_kernels or _DEFAULT_KERNELS])


@contextlib.contextmanager
def use_kernels(name: str):
    """Serve every op in the ``with`` block from the kernel set ``name``."""
    global _forced_kernels
    if name not in _KERNEL_SETS:
        raise ValueError(f"minicnn.backend.use_kernels: unknown kernel set {name!r}; "
                         f"known: {sorted(_KERNEL_SETS)}")
    previous, _forced_kernels = _forced_kernels, name
    try:
        yield
    finally:
        _forced_kernels = previous


def kernel_set_names() -> list[str]:
    """Names accepted by :func:`use_kernels`."""
    return sorted(_KERNEL_SETS)


def to_device(array, device: str):
    """Copy ``array`` to ``device`` ('cpu' or 'cuda'); no copy when it is already there."""
    if device == "cpu":
        return array.get() if is_cupy_array(array) else array
    if device == "cuda":
        return array if is_cupy_array(array) else cupy_module().asarray(array)
    raise ValueError(f"minicnn: unknown device {device!r}; use 'cpu' or 'cuda'")
