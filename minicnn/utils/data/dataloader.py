"""``DataLoader``, shaped like ``torch.utils.data.DataLoader``.

Each epoch (``iter(loader)``) the batch sampler yields lists of indices (from ``sampler``:
sequential, or random with ``shuffle=True`` drawing from ``generator``), the loader fetches
``dataset[i]`` for each (``dataset.__getitems__(indices)`` where defined) and ``collate_fn``
(:func:`default_collate` unless given) makes the batch. With ``batch_size=None`` every
sample is passed through ``collate_fn`` (:func:`default_convert`) alone. An
``IterableDataset`` is read in its own order and grouped into batches of ``batch_size``.

Differences from torch: samples are always loaded in the calling process. ``num_workers``,
``pin_memory``, ``timeout``, ``worker_init_fn``, ``multiprocessing_context``,
``prefetch_factor``, ``persistent_workers``, ``pin_memory_device`` and ``in_order`` are
checked as torch checks them and otherwise have no effect (``worker_init_fn`` is not
called), so a program written for workers runs unchanged, in one process.
"""
from __future__ import annotations

from ...backend import xp_of
from ...random import check_generator
from ...tensor import Tensor
from .collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def _tensor_rows(dataset, indices: list):
    """``(tensors, rows)`` when ``dataset`` is a TensorDataset, or Subsets of one, whose
    samples at ``indices`` are rows ``rows`` of ``tensors``; else None."""
    while type(dataset) is Subset:
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    return (dataset.tensors, indices) if type(dataset) is TensorDataset else None


class DataLoader:
    """Batches of ``dataset``; see the module docstring. ``len(loader)`` is the number of
    batches; ``loader.dataset``, ``.batch_size``, ``.drop_last``, ``.sampler``,
    ``.batch_sampler``, ``.collate_fn`` and ``.generator`` are the arguments as used."""

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative, got "
                             f"{num_workers}; use num_workers=0 to disable multiprocessing")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified with "
                             "num_workers > 0")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        check_generator("DataLoader", generator)
        self.iterable = isinstance(dataset, IterableDataset)
        if self.iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value!r}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        if sampler is None and not self.iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not self.iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if self.iterable and batch_size is not None:
            BatchSampler([], batch_size, drop_last)  # the same checks on batch_size/drop_last
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self.pin_memory_device, self.in_order = pin_memory_device, in_order
        batching = batch_sampler is not None or (self.iterable and batch_size is not None)
        self.collate_fn = collate_fn or (default_collate if batching else default_convert)
        self._batching = batching

    def __len__(self) -> int:
        if self.iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self._batching else len(self.sampler)

    def __iter__(self):
        if self.iterable:
            yield from self._iterate_stream()
        elif not self._batching:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
        else:
            for indices in self.batch_sampler:
                yield self._fetch(indices)

    def _fetch(self, indices: list):
        rows = _tensor_rows(self.dataset, indices)
        if rows is not None and self.collate_fn is default_collate:
            # what default_collate makes of the samples, in one indexing per tensor
            tensors, rows = rows
            return [Tensor(t.array[xp_of(t.array).asarray(rows)]) for t in tensors]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.collate_fn(self.dataset.__getitems__(indices))
        return self.collate_fn([self.dataset[i] for i in indices])

    def _iterate_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)
