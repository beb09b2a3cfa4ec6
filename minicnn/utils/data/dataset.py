"""Datasets, shaped like ``torch.utils.data``'s: ``Dataset``, ``IterableDataset``,
``TensorDataset``, ``Subset``, ``ConcatDataset`` and ``random_split``.

A map-style dataset defines ``__getitem__(i)`` (and ``__len__`` for the samplers); an
iterable dataset defines ``__iter__``. Where torch asserts (``TensorDataset`` of tensors of
different lengths, an empty ``ConcatDataset``), minicnn raises ValueError: assertions
vanish under ``python -O``.
"""
from __future__ import annotations

import math
import warnings
from bisect import bisect_right
from itertools import accumulate

import numpy as np

from ...random import check_generator, numpy_generator
from ...tensor import Tensor


class Dataset:
    """A map-style dataset: subclass and define ``__getitem__(i)`` and ``__len__``.
    ``a + b`` is ``ConcatDataset([a, b])``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclass and define ``__iter__``."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class TensorDataset(Dataset):
    """Sample ``i`` is ``tuple(t[i] for t in tensors)``; all tensors share their first
    dimension. Arrays are taken as Tensors of their own dtype."""

    def __init__(self, *tensors):
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        if any(t.ndim == 0 for t in self.tensors) or len({t.shape[0] for t in self.tensors}) > 1:
            raise ValueError(f"TensorDataset: tensors differ in their first dimension: "
                             f"{[t.shape for t in self.tensors]}")

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        """The samples at a list of indices (the DataLoader fetches a batch this way)."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of each dataset in turn; ``cumulative_sizes[k]`` is the number of
    samples in the first ``k + 1`` datasets."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ValueError(f"ConcatDataset: does not support IterableDataset "
                                 f"({type(d).__name__})")
        self.cumulative_sizes = list(accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError(f"ConcatDataset: absolute value of index {index} should not "
                                 f"exceed dataset length {n}")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        k = bisect_right(self.cumulative_sizes, index)
        return self.datasets[k][index - (self.cumulative_sizes[k - 1] if k else 0)]


def split_lengths(n: int, lengths) -> list:
    """Lengths of the splits of ``n`` samples: ``lengths`` itself, or, when it holds
    fractions summing to 1, ``floor(n * f)`` each with the remainder handed out one by one
    from the first split on (torch's rule)."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and "
                                 f"1: {fraction}")
        sizes = [math.floor(n * fraction) for fraction in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this might "
                              f"result in an empty dataset", UserWarning, stacklevel=3)
        return sizes
    return list(lengths)


def random_split(dataset, lengths, generator=None) -> list:
    """Split ``dataset`` into non-overlapping :class:`Subset`\\ s of the given lengths (or
    fractions, see :func:`split_lengths`), drawn by a random permutation of ``generator``
    (the global one when None)."""
    check_generator("random_split", generator)
    sizes = split_lengths(len(dataset), lengths)
    if sum(sizes) != len(dataset):
        raise ValueError(f"random_split: sum of input lengths {list(lengths)} ({sum(sizes)}) "
                         f"does not equal the length of the input dataset ({len(dataset)})")
    order = numpy_generator(generator).permutation(len(dataset)).tolist()
    return [Subset(dataset, order[end - size:end]) for end, size in zip(accumulate(sizes), sizes)]
