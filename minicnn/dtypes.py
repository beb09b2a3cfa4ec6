"""dtype objects (``minicnn.float32``, ``minicnn.long``, ...) and torch's type promotion.

A :class:`dtype` wraps a ``numpy.dtype``: ``t.dtype == minicnn.float32`` compares as in torch,
``repr(minicnn.float32)`` is ``minicnn.float32``, and NumPy/CuPy accept it wherever they take a
dtype (``np.zeros(3, dtype=minicnn.float64)``; NumPy reads its ``.dtype`` attribute). The raw
arrays keep plain NumPy dtypes (``t.array.dtype``), which is what the kernels read.

Promotion (:func:`result_type`) follows torch's documented rules. Operands fall in three
groups: tensors with dimensions, zero-dimensional tensors, and Python numbers. Categories are
ordered bool < integer < floating. Within a group the dtypes are promoted (the smallest dtype
of the highest category that holds both: int32 + int64 -> int64, uint8 + int8 -> int16,
float16 + float32 -> float32, int64 + float16 -> float16). Across groups, a later group
(zero-dim, then numbers) counts only when its category is higher than every earlier group's:
``float32 tensor * float64 0-dim tensor`` stays float32, ``int tensor * 2.5`` becomes
float32. A Python float counts as the default dtype float32, a Python int as int64, a Python
bool as bool.
"""
from __future__ import annotations

import numpy as np

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
_TORCH_TYPE_NAME = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                    "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


class dtype:  # noqa: N801 - named as torch.dtype
    """A tensor element type; see the module docstring. Build one with :func:`as_dtype`."""

    __slots__ = ("dtype", "name", "is_floating_point", "is_signed", "itemsize", "kind")

    def __init__(self, numpy_dtype: np.dtype, name: str):
        self.dtype = numpy_dtype  # the NumPy dtype (NumPy's protocol for dtype-like objects)
        self.name = name
        self.is_floating_point = numpy_dtype.kind == "f"
        self.is_signed = numpy_dtype.kind in "if"
        self.itemsize = numpy_dtype.itemsize
        self.kind = numpy_dtype.kind  # NumPy's kind letter ('f', 'i', 'u', 'b'), for array code

    is_complex = False

    def __eq__(self, other) -> bool:
        if isinstance(other, dtype):
            return other.dtype == self.dtype
        try:
            return np.dtype(other) == self.dtype
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __repr__(self) -> str:
        return f"minicnn.{self.name}"


float16 = dtype(np.dtype(np.float16), "float16")
float32 = dtype(np.dtype(np.float32), "float32")
float64 = dtype(np.dtype(np.float64), "float64")
uint8 = dtype(np.dtype(np.uint8), "uint8")
int8 = dtype(np.dtype(np.int8), "int8")
int16 = dtype(np.dtype(np.int16), "int16")
int32 = dtype(np.dtype(np.int32), "int32")
int64 = dtype(np.dtype(np.int64), "int64")
bool_ = dtype(np.dtype(np.bool_), "bool")
_ALL = {d.dtype: d for d in (float16, float32, float64, uint8, int8, int16, int32, int64, bool_)}


def as_dtype(value) -> dtype:
    """The :class:`dtype` for a dtype, NumPy dtype or type, or name (``'float32'``, ``float``).

    Python ``float`` is float64, ``int`` int64 and ``bool`` bool, as in torch
    (``torch.zeros(2, dtype=float)`` is float64; only dtype-less floats get the float32 default).
    """
    if isinstance(value, dtype):
        return value
    if value is float:
        return float64
    if value is int:
        return int64
    try:
        numpy_dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"not a dtype: {value!r}; use minicnn.float32, minicnn.int64, "
                        f"...") from None
    if numpy_dtype not in _ALL:
        raise TypeError(f"dtype {numpy_dtype} is not supported; use one of "
                        f"{', '.join(repr(d) for d in _ALL.values())}")
    return _ALL[numpy_dtype]


def of_array(array) -> dtype:
    """The :class:`dtype` of a raw NumPy/CuPy array."""
    return _ALL[array.dtype]


def torch_type_name(numpy_dtype: np.dtype, on_gpu: bool) -> str:
    """torch's legacy type string for ``Tensor.type()``: ``'torch.FloatTensor'``, ..."""
    name = _TORCH_TYPE_NAME[numpy_dtype.name]
    return f"torch.cuda.{name}" if on_gpu else f"torch.{name}"


def from_type_name(name: str) -> dtype:
    """The dtype named by ``'torch.FloatTensor'``, ``'minicnn.cuda.LongTensor'``, ..."""
    short = name.rsplit(".", 1)[-1]
    for numpy_name, type_name in _TORCH_TYPE_NAME.items():
        if type_name == short:
            return as_dtype(numpy_name)
    raise ValueError(f"Tensor.type(): invalid type {name!r}; use e.g. 'torch.FloatTensor'")


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types on NumPy dtypes: the higher category wins whole (int64 + float16
    -> float16); within a category, the smallest dtype holding both."""
    if a == b:
        return a
    cat_a, cat_b = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if cat_a != cat_b:
        return a if cat_a > cat_b else b
    return np.promote_types(a, b)


def _number_dtype(value) -> np.dtype:
    if isinstance(value, (bool, np.bool_)):
        return bool_.dtype
    if isinstance(value, (int, np.integer)):
        return int64.dtype
    if isinstance(value, (float, np.floating)):
        return float32.dtype
    raise TypeError(f"unsupported operand type {type(value).__name__}; expected a tensor or number")


def _combine(higher, lower):
    """Let the ``lower``-priority group count only if its category is higher."""
    if higher is None:
        return lower
    if lower is None or _CATEGORY[higher.kind] >= _CATEGORY[lower.kind]:
        return higher
    return promote_types(higher, lower)


def result_type(*operands) -> np.dtype:
    """torch's result dtype (a NumPy dtype) of an arithmetic op on ``operands``: raw arrays
    (a tensor's ``.array``) and Python numbers. See the module docstring for the rules."""
    groups = [None, None, None]  # dimensioned, zero-dim, numbers
    for value in operands:
        if isinstance(value, (bool, int, float, np.generic)) or not hasattr(value, "ndim"):
            group, kind = 2, _number_dtype(value)
        else:
            group, kind = (0 if value.ndim else 1), value.dtype
        groups[group] = kind if groups[group] is None else promote_types(groups[group], kind)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def can_cast(source: np.dtype, target: np.dtype) -> bool:
    """torch.can_cast: an in-place result may not go floating -> integer or number -> bool."""
    return _CATEGORY[np.dtype(source).kind] <= _CATEGORY[np.dtype(target).kind]
