"""State dicts in the safetensors format, which PyTorch and the Hugging Face tools read.

A ``.safetensors`` file is an 8-byte little-endian header length, a JSON header naming
each tensor's dtype, shape and byte range, then the raw bytes: no code is ever run to read
it. It holds only named tensors, so what it saves must be a flat mapping of str keys to
Tensors or arrays (``model.state_dict()``); an optimizer's state or a training epoch goes
to minicnn's own container (any other file name) instead. The ``safetensors`` package
does the reading and writing (``safetensors.numpy``: NumPy arrays, no torch).
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from .backend import is_cupy_array, to_device
from .tensor import Tensor

SUFFIX = ".safetensors"


def _library():
    try:
        import safetensors.numpy
    except ImportError:  # pragma: no cover - a dependency in setup.cfg
        raise ImportError("minicnn: reading and writing .safetensors needs the safetensors "
                          "package: pip install safetensors") from None
    return safetensors.numpy


def looks_like_safetensors(head: bytes, size: int) -> bool:
    """True when the first bytes of a file of ``size`` bytes are a safetensors header."""
    return (len(head) > 8 and head[8:9] == b"{"
            and 8 + int.from_bytes(head[:8], "little") <= size)


def to_arrays(obj, path: str) -> dict:
    """``obj`` as ``{key: contiguous NumPy array}``; ``TypeError`` naming the first entry
    the format cannot hold."""
    if not isinstance(obj, Mapping):
        raise TypeError(f"minicnn.save: {path}: a .safetensors file holds a dict of tensors "
                        f"(model.state_dict()), not a {type(obj).__name__}")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"minicnn.save: {path}: key {key!r} is a {type(key).__name__}; "
                            f"safetensors keys are strings")
        if isinstance(value, Tensor):
            value = value.array
        if not (isinstance(value, np.ndarray) or is_cupy_array(value)):
            raise TypeError(f"minicnn.save: {path}: entry {key!r} is a {type(value).__name__}, "
                            f"but a .safetensors file holds only tensors; save a flat state dict "
                            f"(model.state_dict()) there, and checkpoints with other entries "
                            f"(optimizer state, epoch) under any other file name")
        arrays[key] = np.ascontiguousarray(to_device(value, "cpu"))
    return arrays


def write(arrays: dict, path: str) -> None:
    """Write ``arrays`` (from :func:`to_arrays`) to ``path`` in the safetensors format."""
    _library().save_file(arrays, path)


def read(path: str) -> dict:
    """``{key: Tensor}`` from a safetensors file; ``ValueError`` naming the file when it is
    not one or holds a dtype NumPy has no type for (such as bfloat16)."""
    try:
        arrays = _library().load_file(os.fspath(path))
    except FileNotFoundError:
        raise
    except Exception as exc:  # the library's SafetensorError, or NumPy's for a dtype
        raise ValueError(f"minicnn.load: {path} is not a readable safetensors file (a dtype "
                         f"NumPy lacks, such as bfloat16, must be converted with torch first, "
                         f"e.g. {{k: v.float() for k, v in state.items()}}): {exc}") from exc
    return {key: Tensor(np.array(value)) for key, value in arrays.items()}
