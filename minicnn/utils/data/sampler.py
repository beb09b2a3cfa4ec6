"""Samplers, shaped like ``torch.utils.data``'s: what order (and which) indices a
DataLoader fetches.

``SequentialSampler`` gives ``0 .. n-1``; ``RandomSampler`` a permutation (or ``num_samples``
draws with replacement); ``SubsetRandomSampler`` a permutation of given indices;
``WeightedRandomSampler`` draws index ``i`` with probability ``w_i / sum(w)``;
``BatchSampler`` groups another sampler's indices into lists of ``batch_size``.

Random samplers draw from their ``generator`` (a :class:`minicnn.Generator`) or, when None,
from the global generator of ``minicnn.manual_seed``, afresh at every ``iter()``.
"""
from __future__ import annotations

import numpy as np

from ...backend import to_device
from ...random import check_generator, numpy_generator
from ...tensor import Tensor


def _check_positive_int(owner: str, name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")


def _check_bool(owner: str, name: str, value, error=TypeError) -> None:
    if not isinstance(value, bool):
        raise error(f"{owner}: {name} should be a boolean value, but got {name}={value!r}")


class Sampler:
    """The base class: subclass and define ``__iter__`` (indices) and ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A permutation of ``range(len(data_source))``; with ``num_samples`` > n, whole
    permutations one after another; with ``replacement``, ``num_samples`` independent
    uniform draws."""

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None):
        _check_bool("RandomSampler", "replacement", replacement)
        check_generator("RandomSampler", generator)
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples
        _check_positive_int("RandomSampler", "num_samples", self.num_samples)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, rng = len(self.data_source), numpy_generator(self.generator)
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, a new one at every ``iter()``."""

    def __init__(self, indices, generator=None):
        check_generator("SubsetRandomSampler", generator)
        self.indices, self.generator = indices, generator

    def __iter__(self):
        for i in numpy_generator(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices, index ``i`` drawn with probability ``w_i / sum(w)``; without
    ``replacement``, each draw is among the indices not drawn yet, in proportion to their
    weights. Bad weights raise RuntimeError here, where torch's ``multinomial`` raises it
    at the first ``iter()``."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        _check_positive_int("WeightedRandomSampler", "num_samples", num_samples)
        _check_bool("WeightedRandomSampler", "replacement", replacement)
        check_generator("WeightedRandomSampler", generator)
        array = weights.array if isinstance(weights, Tensor) else weights
        self.weights = np.asarray(to_device(array, "cpu") if hasattr(array, "shape") else array,
                                  dtype=np.float64)
        if self.weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but "
                             f"given weights have shape {tuple(self.weights.shape)}")
        if not np.all(np.isfinite(self.weights)) or np.any(self.weights < 0):
            raise RuntimeError("WeightedRandomSampler: invalid weights (every weight must be "
                               "finite and >= 0)")
        if np.count_nonzero(self.weights) < (1 if replacement else num_samples):
            raise RuntimeError(f"WeightedRandomSampler: {np.count_nonzero(self.weights)} "
                               f"positive weights, too few to draw {num_samples} samples "
                               f"(replacement={replacement})")
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def __iter__(self):
        rng = numpy_generator(self.generator)
        p = self.weights / self.weights.sum()
        yield from rng.choice(len(p), size=self.num_samples, replace=self.replacement,
                              p=p).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; the last one shorter unless
    ``drop_last``."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        _check_positive_int("BatchSampler", "batch_size", batch_size)
        _check_bool("BatchSampler", "drop_last", drop_last, ValueError)
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
