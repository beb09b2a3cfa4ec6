"""Patient-level splits of the knee crops: a patient's knees are always on one side.

- ``proposal_holdout``: the proposal's split, the last 20 patients (in file order) are the
  test set;
- ``grouped_folds``: K stratified folds, every patient's knees in one fold, shuffled by a
  seed;
- ``validation_split``: inside a training side, a share of its patients held out to choose
  the best epoch.

Splits have names: ``'proposal'`` and ``'fold<k>-seed<s>'`` (fold k, counted from 1, of the
folds shuffled with seed s) name a study's runs (``OUT/runs/<condition>/<split>``); the
``train`` command's ``--split`` takes ``'proposal'`` or ``'fold:K:N'`` (fold K of N).
Index arrays index the crops archive's knees.
"""
from __future__ import annotations

import re

import numpy as np

from .grades import COUNT

PROPOSAL = "proposal"
PROPOSAL_TEST_PATIENTS = 20  # the proposal's 40 knee images
FOLD_NAME = re.compile(r"fold(\d+)-seed(\d+)")


def proposal_holdout(patients: np.ndarray, test_patients: int = PROPOSAL_TEST_PATIENTS
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` indices: the last ``test_patients`` patients (in file order) are the
    test set."""
    order = list(dict.fromkeys(patients.tolist()))
    if not 0 < test_patients < len(order):
        raise ValueError(f"proposal_holdout: {test_patients} test patients out of {len(order)}")
    test = np.isin(patients, order[-test_patients:])
    return np.flatnonzero(~test), np.flatnonzero(test)


def grouped_folds(labels: np.ndarray, patients: np.ndarray, folds: int = 5, seed: int = 0):
    """Stratified K-fold with every patient's knees in one fold (scikit-learn's
    ``StratifiedGroupKFold``, shuffled with ``seed``); a list of (train, test) index arrays."""
    from sklearn.model_selection import StratifiedGroupKFold

    if len(set(patients.tolist())) < folds or np.bincount(labels).max(initial=0) < folds:
        raise ValueError(f"grouped_folds: {folds} folds need at least {folds} patients and some "
                         f"grade with {folds} knees; got {len(set(patients.tolist()))} patients, "
                         f"knees per grade {np.bincount(labels, minlength=COUNT).tolist()}")
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [(train, test)
            for train, test in splitter.split(np.zeros(len(labels)), labels, patients)]


def validation_split(patients: np.ndarray, train: np.ndarray, fraction: float, seed: int):
    """Split the training indices by patient into ``(fit, validation)``: ``round(fraction *
    patients)`` of the training side's patients, drawn with ``seed``, are the validation set."""
    ids = np.unique(patients[train])
    count = int(round(fraction * len(ids)))
    if count == 0:
        return train, train[:0]
    held = np.random.default_rng(seed).choice(ids, size=count, replace=False)
    inside = np.isin(patients[train], held)
    return train[~inside], train[inside]


def fold_name(fold: int, seed: int) -> str:
    """The name of fold ``fold`` (from 1) of the folds shuffled with ``seed``."""
    return f"fold{fold}-seed{seed}"


def parse_fold_name(name: str) -> tuple[int, int]:
    """``(fold, seed)`` of a name made by :func:`fold_name`; ValueError for any other name."""
    match = FOLD_NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"split {name!r}: expected {PROPOSAL!r} or 'fold<k>-seed<s>'")
    return int(match[1]), int(match[2])


def named_split(name: str, labels: np.ndarray, patients: np.ndarray, folds: int):
    """The ``(train, test)`` indices of a study's split ``'proposal'`` or ``'fold<k>-seed<s>'``
    (of ``folds`` folds)."""
    if name == PROPOSAL:
        return proposal_holdout(patients)
    fold, seed = parse_fold_name(name)
    return grouped_folds(labels, patients, folds, seed)[fold - 1]


def split_option(spec: str, labels: np.ndarray, patients: np.ndarray, seed: int):
    """The ``(train, test)`` indices of the ``--split`` option: ``'proposal'``, or ``'fold:K:N'``
    (fold K of N folds shuffled with ``seed``, K counted from 1)."""
    if spec == PROPOSAL:
        return proposal_holdout(patients)
    parts = spec.split(":")
    if len(parts) != 3 or parts[0] != "fold" or not all(p.isdigit() for p in parts[1:]):
        raise ValueError(f"--split must be 'proposal' or 'fold:K:N', got {spec!r}")
    k, n = int(parts[1]), int(parts[2])
    if not 1 <= k <= n:
        raise ValueError(f"--split fold:{k}:{n}: K must be between 1 and {n}")
    return grouped_folds(labels, patients, n, seed)[k - 1]
