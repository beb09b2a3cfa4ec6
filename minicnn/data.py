"""``Dataset``, ``TensorDataset`` and ``DataLoader``, shaped like ``torch.utils.data``.

A DataLoader draws index batches (shuffled by a seeded generator when asked), collects
``dataset[i]`` for each index and stacks the fields into Tensors: a dataset of
``(image, label)`` pairs yields ``(images (B, ...), labels (B,))`` batches.
"""
from __future__ import annotations

import numpy as np

from .random import generator
from .tensor import Tensor


class Dataset:
    """Subclass and define ``__len__`` and ``__getitem__(i)``."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Sample ``i`` is ``(t[i] for t in tensors)``; all tensors share their first dimension."""

    def __init__(self, *tensors):
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        sizes = {len(t) for t in self.tensors}
        if len(sizes) != 1:
            raise ValueError(f"TensorDataset: tensors differ in their first dimension: "
                             f"{[t.shape for t in self.tensors]}")

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(t.array[index] for t in self.tensors)


def _stack(samples: list):
    """Stack a list of samples (arrays, numbers, Tensors, or tuples of them) field by field."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(_stack([s[i] for s in samples]) for i in range(len(first)))
    return Tensor(np.stack([s.array if isinstance(s, Tensor) else np.asarray(s) for s in samples]))


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``.

    ``shuffle`` draws a new order every epoch from ``generator`` (a NumPy Generator;
    the global one of ``minicnn.manual_seed`` when None). ``drop_last`` drops a final
    batch smaller than ``batch_size``.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: np.random.Generator | None = None):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last, self.generator = shuffle, drop_last, generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = (self.generator or generator()).permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            batch = order[start:start + self.batch_size]
            if self.drop_last and len(batch) < self.batch_size:
                return
            if isinstance(self.dataset, TensorDataset):
                yield tuple(Tensor(t.array[batch]) for t in self.dataset.tensors)
            else:
                yield _stack([self.dataset[int(i)] for i in batch])
