"""A cheap generative model of a study's fold results, for checking the comparison test.

No network is trained: the difference in test QWK between two conditions on one split of
``N`` patients into ``k`` folds (repeated for ``r`` seeds, each seed its own random
partition) is modelled as ::

    d = delta + mean_{i in test} b_i + mean_{i in train} c_i + e,

with per-patient effects drawn once per simulated data set, ``b_i ~ N(0, test_sd^2 n_test)``
(how much better one condition grades patient i when testing on it) and ``c_i ~ N(0,
train_sd^2 n_train)`` (how much patient i in the training set helps one condition more than
the other), and ``e ~ N(0, run_sd^2)`` per run (initialisation and shuffling). So one split's
test and training parts have SDs ``test_sd`` and ``train_sd``; the splits share patients the
way cross-validation does (training sets overlap, a seed's test sets partition the
patients), which correlates the differences exactly as the corrected t-test assumes a real
study's are.
"""
from __future__ import annotations

import numpy as np


def simulate_differences(studies: int, patients: int, folds: int, seeds: int, delta: float,
                         test_sd: float, train_sd: float, run_sd: float,
                         rng: np.random.Generator) -> np.ndarray:
    """(studies, seeds * folds) simulated differences ``d`` of the model above."""
    n_test = patients / folds
    b = rng.normal(0, test_sd * np.sqrt(n_test), (studies, patients))
    c = rng.normal(0, train_sd * np.sqrt(patients - n_test), (studies, patients))
    rank = np.argsort(rng.random((studies, seeds, patients)), axis=2).argsort(axis=2)
    fold = rank * folds // patients  # (studies, seeds, patients): each seed's random partition
    # (studies, seeds, patients, folds): 1 where the patient is in that fold's test side
    member = (fold[..., None] == np.arange(folds)).astype(np.float64)
    size = member.sum(axis=2)  # (studies, seeds, folds)
    test_b = np.einsum("srpf,sp->srf", member, b)
    in_c = np.einsum("srpf,sp->srf", member, c)
    train_c = (c.sum(axis=1)[:, None, None] - in_c) / (patients - size)
    noise = rng.normal(0, run_sd, (studies, seeds, folds))
    return (delta + test_b / size + train_c + noise).reshape(studies, seeds * folds)
