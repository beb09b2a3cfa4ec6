"""Write MATLAB files in both layouts the study may meet: v5 (``scipy.io.savemat``) and
v7.3 (HDF5, through h5py), from the same dict of variables.

A v7.3 file is an HDF5 file behind a 512-byte MATLAB header. MATLAB stores arrays in
column-major order, so an ``m x n`` array is an HDF5 dataset of shape ``(n, m)`` (all axes
reversed); each dataset or group carries a ``MATLAB_class`` attribute ('double',
'uint16', 'char', 'struct', ...); a string is a ``uint16`` array of character codes.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.io

from ..atomic import atomic_path

MATLAB_CLASS = {np.dtype(t): t for t in ("double", "single", "uint8", "uint16", "uint32",
                                          "int8", "int16", "int32", "int64", "uint64")}
MATLAB_CLASS[np.dtype(np.float64)] = "double"
MATLAB_CLASS[np.dtype(np.float32)] = "single"


def _write_v73_value(parent, name: str, value) -> None:
    if isinstance(value, dict):
        group = parent.create_group(name)
        group.attrs["MATLAB_class"] = np.bytes_("struct")
        for key, item in value.items():
            _write_v73_value(group, key, item)
        return
    if isinstance(value, str):
        codes = np.array([[ord(ch) for ch in value]], dtype=np.uint16)  # a 1 x len char row
        dataset = parent.create_dataset(name, data=codes.T.copy())
        dataset.attrs["MATLAB_class"] = np.bytes_("char")
        dataset.attrs["MATLAB_int_decode"] = np.int32(2)
        return
    array = np.asarray(value)
    if array.ndim < 2:
        array = array.reshape(1, -1)  # MATLAB has no 1-d arrays: a row vector
    if array.dtype not in MATLAB_CLASS:
        raise TypeError(f"write_mat: cannot store {name!r} of dtype {array.dtype} in a v7.3 file")
    dataset = parent.create_dataset(name, data=np.ascontiguousarray(array.transpose()))
    dataset.attrs["MATLAB_class"] = np.bytes_(MATLAB_CLASS[array.dtype])


def _header() -> bytes:
    text = (f"MATLAB 7.3 MAT-file, Platform: minicnn, Created on: "
            f"{time.strftime('%a %b %d %H:%M:%S %Y')} HDF5 schema 1.00 .").encode()
    return text.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02" + b"IM"


def write_mat(path: str, variables: dict, version: str = "v5") -> None:
    """Write ``variables`` (arrays, strings, numbers, nested dicts as structs) to ``path``,
    through a temporary file renamed into place."""
    if version not in ("v5", "v7.3"):
        raise ValueError(f"write_mat: version must be 'v5' or 'v7.3', got {version!r}")
    with atomic_path(path) as tmp:
        if version == "v5":
            with open(tmp, "wb") as f:
                scipy.io.savemat(f, variables, do_compression=False)
        else:
            import h5py
            with h5py.File(tmp, "w", userblock_size=512) as f:
                for name, value in variables.items():
                    _write_v73_value(f, name, value)
            with open(tmp, "r+b") as f:
                f.write(_header())
