"""Seeded random generators: ``minicnn.Generator`` and the global one behind every draw.

``minicnn.manual_seed(s)`` makes ``randn``, ``rand``, weight initialisation, dropout
masks and DataLoader shuffling reproducible, as ``torch.manual_seed`` does. A
``Generator`` is a stream of its own (``DataLoader(..., generator=Generator().manual_seed(0))``,
``random_split(..., generator=...)``), a thin class around a NumPy ``Generator``.

The streams differ from torch's: the same seed gives different numbers in the two (NumPy's
PCG64 against torch's Mersenne Twister), but the same seed always gives the same numbers.
"""
from __future__ import annotations

import copy
import os

import numpy as np

_TORCH_DEFAULT_SEED = 67280421310721  # torch.Generator().initial_seed()


class Generator:
    """``torch.Generator``: ``manual_seed(seed)`` (returns self), ``seed()``,
    ``initial_seed()``, ``get_state()`` / ``set_state(state)``.

    ``device`` is kept for torch's signature; draws are made on the CPU either way.
    ``get_state()`` returns the NumPy bit generator's state (a dict), not a ByteTensor.
    """

    def __init__(self, device="cpu"):
        kind = str(device).split(":")[0]
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"Generator: unknown device {device!r}; use 'cpu' or 'cuda'")
        self.device = kind
        self.manual_seed(_TORCH_DEFAULT_SEED)

    def manual_seed(self, seed) -> Generator:
        """Restart the stream from ``seed``, an int in [-2**63, 2**64) (a negative seed is
        read modulo 2**64, as torch does); returns the generator."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise RuntimeError(f"Generator.manual_seed: expected an int seed, got "
                               f"{type(seed).__name__} {seed!r}")
        seed = int(seed)
        if not -2 ** 63 <= seed < 2 ** 64:
            raise ValueError(f"Generator.manual_seed: seed {seed} is outside [-2**63, 2**64)")
        self._initial_seed = seed % 2 ** 64
        self._rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self._initial_seed

    def get_state(self) -> dict:
        return copy.deepcopy(self._rng.bit_generator.state)

    def set_state(self, new_state: dict) -> Generator:
        self._rng.bit_generator.state = copy.deepcopy(new_state)
        return self

    def __repr__(self) -> str:
        return f"<minicnn.Generator device={self.device!r} initial_seed={self._initial_seed}>"


default_generator = Generator().manual_seed(0)


def manual_seed(seed) -> Generator:
    """Reseed the global generator with ``int(seed)`` and return it (as torch does)."""
    return default_generator.manual_seed(int(seed))


def generator() -> np.random.Generator:
    """The global NumPy ``Generator`` behind ``minicnn.manual_seed``."""
    return default_generator._rng


def check_generator(owner: str, generator) -> None:
    """TypeError unless ``generator`` is a :class:`Generator` or None."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{owner}: generator must be a minicnn.Generator or None, got "
                        f"{type(generator).__name__}")


def numpy_generator(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator of ``generator``, or the global one when None."""
    return (generator or default_generator)._rng
