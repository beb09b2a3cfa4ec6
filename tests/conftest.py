"""Shared fixtures: a fresh seed per test, and helpers to compare with PyTorch."""
import numpy as np
import pytest

import minicnn


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global generator state (no order dependence)."""
    minicnn.manual_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
