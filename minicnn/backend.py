"""Which array module and which kernel set serve an array.

Ops never branch on the device. They call :func:`xp_of` to get the array module
(``numpy`` or ``cupy``) of their input and :func:`kernels_of` to get the kernel set (the
functions of ``minicnn/kernels/contract.py``) that serves it. CuPy is optional: it is imported only
when a CUDA array or device is asked for, so the package imports cleanly without CUDA.

Kernel sets, each the package ``minicnn/kernels/<name>/``: ``reference`` (plain loops),
``numpy`` (vectorised NumPy), ``numba`` (the CPU default; ``MINICNN_KERNELS=numpy`` picks
NumPy instead) and ``cupy`` (GPU arrays). Threads
for Numba and BLAS: ``MINICNN_NUM_THREADS`` (default: every core), applied on import.

The kernel set can be forced for a block of code, which is how tests hold the fast
sets to the plain-loop reference::

    with minicnn.backend.use_kernels("reference"):
        y = conv(x)
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import warnings

import numpy as np

_KERNEL_SETS = {
    "reference": "minicnn.kernels.reference",
    "numpy": "minicnn.kernels.numpy",
    "numba": "minicnn.kernels.numba",
    "cupy": "minicnn.kernels.cupy",
}
_forced_kernels: str | None = None


def _cpu_default() -> str:
    """``MINICNN_KERNELS`` (numpy or numba; default numba), falling back on NumPy with one
    warning when Numba is missing."""
    wanted = os.environ.get("MINICNN_KERNELS", "numba").strip().lower()
    if wanted not in ("numpy", "numba"):
        raise ValueError(f"MINICNN_KERNELS must be 'numpy' or 'numba', got {wanted!r}")
    if wanted == "numba" and importlib.util.find_spec("numba") is None:
        warnings.warn("minicnn: Numba is not installed; the NumPy kernels serve the CPU (slower)",
                      stacklevel=2)
        return "numpy"
    return wanted


def num_threads() -> int:
    """``MINICNN_NUM_THREADS``, or every core."""
    value = os.environ.get("MINICNN_NUM_THREADS")
    return int(value) if value else (os.cpu_count() or 1)


def set_num_threads(count: int) -> None:
    """Use ``count`` threads. With the Numba kernels, Numba runs ``count`` threads and each
    calls single-threaded BLAS; with the NumPy kernels, BLAS runs ``count`` threads."""
    if count < 1:
        raise ValueError(f"minicnn.backend.set_num_threads: need at least 1 thread, got {count}")
    from threadpoolctl import threadpool_limits
    if _CPU_KERNELS == "numba":
        import numba
        import scipy.linalg.cython_blas  # noqa: F401 - the BLAS that Numba calls, limited below
        numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
        threadpool_limits(limits=1, user_api="blas")
    else:
        threadpool_limits(limits=count, user_api="blas")


def use_private_kernel_cache() -> str | None:
    """Give this process its own Numba cache folder (a new temporary one) and return it.

    For worker processes that run beside others (a study's pool, Dask workers): Numba's
    on-disk cache is not safe for several processes compiling into it at once. Must run
    before the Numba kernels are first used; returns None (and changes nothing) after."""
    import sys
    import tempfile
    if "minicnn.kernels.numba" in sys.modules:
        return None
    import numba
    numba.config.CACHE_DIR = tempfile.mkdtemp(prefix="minicnn-numba-")
    return numba.config.CACHE_DIR


_CPU_KERNELS = _cpu_default()


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
    """The kernel set that serves ``array`` (see ``minicnn/kernels/contract.py``): the one
    forced by :func:`use_kernels` or ``minicnn.kernels.use``, else CuPy's for a GPU array and
    the CPU default otherwise."""
    forced = _forced_kernels
    if forced is not None and not isinstance(forced, str):
        return forced  # a set plugged in by minicnn.kernels.use
    name = forced or ("cupy" if is_cupy_array(array) else _CPU_KERNELS)
    return importlib.import_module(_KERNEL_SETS[name])


def kernel_set(name: str):
    """The module of the kernel set ``name`` (one of :func:`kernel_set_names`)."""
    if name not in _KERNEL_SETS:
        raise ValueError(f"minicnn.backend: unknown kernel set {name!r}; "
                         f"known: {sorted(_KERNEL_SETS)}")
    return importlib.import_module(_KERNEL_SETS[name])


def kernel_set_name(kernels) -> str:
    """The name of a kernel set (its module): ``'numba'`` for ``minicnn.kernels.numba``, and
    the module's own name for a set plugged in by ``minicnn.kernels.use``."""
    module = getattr(kernels, "__name__", type(kernels).__name__)
    return next((name for name, path in _KERNEL_SETS.items() if path == module), module)


def force_kernels(kernels):
    """Serve every op from ``kernels`` (a set's name, a kernel-set object, or None for the
    default choice) until the next call; returns what was forced before."""
    global _forced_kernels
    previous, _forced_kernels = _forced_kernels, kernels
    return previous


@contextlib.contextmanager
def use_kernels(name: str):
    """Serve every op in the ``with`` block from the kernel set ``name``."""
    kernel_set(name)  # ValueError naming the known sets for an unknown name
    previous = force_kernels(name)
    try:
        yield
    finally:
        force_kernels(previous)


def kernel_set_names(cpu_only: bool = False) -> list[str]:
    """Names accepted by :func:`use_kernels` (``cpu_only``: those that take NumPy arrays)."""
    return sorted(k for k in _KERNEL_SETS if not (cpu_only and k == "cupy"))


def to_device(array, device: str):
    """Copy ``array`` to ``device`` ('cpu' or 'cuda'); no copy when it is already there."""
    if device == "cpu":
        return array.get() if is_cupy_array(array) else array
    if device == "cuda":
        return array if is_cupy_array(array) else cupy_module().asarray(array)
    raise ValueError(f"minicnn: unknown device {device!r}; use 'cpu' or 'cuda'")


set_num_threads(num_threads())
