"""Shared fixtures: a fresh seed per test, a fixed pseudonym key that is not the real home's,
and helpers to compare with PyTorch."""
import hashlib
import os

import numpy as np
import pytest

import minicnn


@pytest.fixture(autouse=True, scope="session")
def _private_key_folder(tmp_path_factory):
    """The pseudonym key and lookup table of the whole session live in a temporary folder
    (never in the real ~/.config); tests that need their own key set MINICNN_PSEUDONYM_KEY.

    The key is the same in every session: pseudonyms decide the patient-grouped folds, so a
    random key would give every session other splits and other trained models. It is
    written here, not by ``experiments.scans.pseudonyms``, so that the engine's tests load no
    study code."""
    secret = tmp_path_factory.mktemp("keys") / "secret"
    secret.mkdir(mode=0o700)
    key = secret / "pseudonym.key"
    descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as f:
        f.write(hashlib.sha256(b"minicnn test sessions").hexdigest() + "\n")
    before = os.environ.get("MINICNN_PSEUDONYM_KEY")
    os.environ["MINICNN_PSEUDONYM_KEY"] = str(key)
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
