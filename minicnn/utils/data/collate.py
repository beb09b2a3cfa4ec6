"""``default_collate`` and ``default_convert``, as ``torch.utils.data``'s.

``default_collate(samples)`` turns a list of ``B`` samples into one batch, field by field:

=============================  =================================================
sample field                   batch field
=============================  =================================================
Tensor / NumPy array (S,)      Tensor (B, S), the same dtype
Python float / int / bool      Tensor (B,), float64 / int64 / bool (as torch)
NumPy scalar                   Tensor (B,), its dtype
str / bytes                    the fields as they are (a tuple or list of B)
dict (Mapping)                 the same type, each key collated
namedtuple                     the same type, each field collated
tuple                          a list, each position collated (as torch)
list (other Sequence)          the same type, each position collated
=============================  =================================================

``default_convert(sample)`` (the DataLoader's collation with ``batch_size=None``) turns the
NumPy arrays in a sample into Tensors and leaves the rest (numbers too) as they are.
"""
from __future__ import annotations

import collections.abc
import copy

import numpy as np

from ...backend import xp_of
from ...tensor import Tensor

_NOT_NUMBERS = "SaUO"  # NumPy dtype kinds of strings and objects
_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
          "lists; found {}")


def _stack(tensors: list) -> Tensor:
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != first:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                               f"but got {list(first)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    arrays = [t.array for t in tensors]
    return Tensor(xp_of(arrays[0]).stack(arrays))


def _numbers(batch: list) -> Tensor:
    """Python ints and bools as torch.tensor makes them: bool if all are, else int64
    (float32 if floats are mixed in)."""
    array = np.array(batch)
    if array.dtype.kind == "f":
        return Tensor(array.astype(np.float32))
    return Tensor(array if array.dtype == np.bool_ else array.astype(np.int64))


def _same_type(elem, fields):
    """``fields`` (a dict or a list) in the container type of ``elem`` where it can be
    built from them, else as a plain dict / list."""
    try:
        if isinstance(elem, collections.abc.MutableMapping) or (
                isinstance(elem, collections.abc.MutableSequence)):
            clone = copy.copy(elem)
            for key, value in (fields.items() if isinstance(fields, dict) else enumerate(fields)):
                clone[key] = value
            return clone
        return type(elem)(fields)
    except TypeError:
        return fields


def default_collate(batch):
    """One batch from a list of samples; see the module docstring."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in _NOT_NUMBERS:
            raise TypeError(_ERROR.format(elem.dtype))
        return _stack([Tensor(b) for b in batch])
    if isinstance(elem, (np.number, np.bool_)):
        return Tensor(np.array(batch))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _numbers(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _same_type(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError(f"default_collate: each element in list of batch should be of "
                               f"equal size, got sizes {[len(s) for s in batch]}")
        fields = [default_collate(field) for field in zip(*batch)]
        return fields if isinstance(elem, tuple) else _same_type(elem, fields)
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """NumPy arrays (of numbers) and scalars in ``data`` become Tensors; see the module
    docstring."""
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in _NOT_NUMBERS else Tensor(data)
    if isinstance(data, (np.number, np.bool_)):
        return Tensor(np.asarray(data))
    if isinstance(data, (str, bytes, Tensor)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _same_type(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        return _same_type(data, [default_convert(d) for d in data])
    return data
