"""Shared fixtures: a fresh seed per test, a pseudonym key that is not the real home's, and
helpers to compare with PyTorch."""
import os

import numpy as np
import pytest

import minicnn


@pytest.fixture(autouse=True, scope="session")
def _private_key_folder(tmp_path_factory):
    """The pseudonym key and lookup table of the whole session live in a temporary folder
    (never in the real ~/.config); tests that need their own key set MINICNN_PSEUDONYM_KEY."""
    folder = tmp_path_factory.mktemp("keys")
    before = os.environ.get("MINICNN_PSEUDONYM_KEY")
    os.environ["MINICNN_PSEUDONYM_KEY"] = str(folder / "secret" / "pseudonym.key")
    yield
    if before is None:
        os.environ.pop("MINICNN_PSEUDONYM_KEY")
    else:
        os.environ["MINICNN_PSEUDONYM_KEY"] = before


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global generator state (no order dependence)."""
    minicnn.manual_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
