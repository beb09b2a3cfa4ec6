"""The one seeded random generator behind every random draw in minicnn.

``minicnn.manual_seed(s)`` makes ``randn``, ``rand``, weight initialisation, dropout
masks and DataLoader shuffling reproducible, as ``torch.manual_seed`` does (the
streams differ from torch's: the same seed gives different numbers in the two).
"""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator with ``seed`` and return it."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator() -> np.random.Generator:
    """The global NumPy ``Generator``."""
    return _generator
