"""Metrics for knee grading (Kellgren-Lawrence 0..4), with patient-level bootstrap intervals.

``grade_metrics(labels, probabilities)`` gives, for ``K`` knees and 5 grades:

- ``accuracy``, ``balanced_accuracy`` (mean per-grade recall over the grades present),
  ``macro_f1`` (mean over the grades present of ``2 TP / (2 TP + FP + FN)``);
- ``qwk``: Cohen's kappa with quadratic weights, ``1 - sum w O / sum w E`` with
  ``w_ij = (i - j)^2``, ``O`` the confusion matrix and ``E`` the outer product of its
  margins over its total: the field's headline agreement measure, in [-1, 1];
- ``mae``: mean absolute error in grades;
- ``auc_djd``: ROC AUC of "mild DJD or worse" (grade >= 2) against the rest, scored by
  ``P(grade >= 2)`` (ties count one half);
- ``confusion`` (5 x 5, rows true, columns predicted) and ``recall_per_grade``.

All of them come from ``weighted_scalars``, which scores ``B`` weightings of the same knees
at once: a bootstrap resample is a weighting (how often each knee was drawn), so
``bootstrap_intervals`` resamples *patients* (both knees together) as ``B`` weight rows and
takes percentile intervals, which never leave a metric's range.
"""
from __future__ import annotations

import numpy as np

from ..grades import COUNT, DJD_FROM

SCALARS = ("accuracy", "balanced_accuracy", "macro_f1", "qwk", "mae", "auc_djd")
RANGES = {"accuracy": (0.0, 1.0), "balanced_accuracy": (0.0, 1.0), "macro_f1": (0.0, 1.0),
          "qwk": (-1.0, 1.0), "mae": (0.0, COUNT - 1.0), "auc_djd": (0.0, 1.0)}


def _check(labels, probabilities) -> tuple[np.ndarray, np.ndarray]:
    labels, probabilities = np.asarray(labels), np.asarray(probabilities, dtype=np.float64)
    if probabilities.shape != (len(labels), COUNT):
        raise ValueError(f"grade_metrics: probabilities of shape ({len(labels)}, {COUNT}) "
                         f"expected, got {probabilities.shape}")
    return labels.astype(np.int64), probabilities


def confusion_matrices(labels, predicted, weights: np.ndarray) -> np.ndarray:
    """(B, 5, 5): ``C[b, i, j]`` = summed weight of the knees of true grade i predicted j,
    for ``weights`` (B, K)."""
    cells = np.zeros((len(labels), COUNT * COUNT))
    cells[np.arange(len(labels)), labels * COUNT + predicted] = 1.0
    return (weights @ cells).reshape(-1, COUNT, COUNT)


def _auc(labels, probabilities, weights: np.ndarray) -> np.ndarray:
    """(B,): the weighted Mann-Whitney AUC of P(grade >= 2) for DJD knees against the rest."""
    score = probabilities[:, DJD_FROM:].sum(axis=1)
    order = np.argsort(score, kind="stable")
    score, djd, w = score[order], labels[order] >= DJD_FROM, weights[:, order]
    starts = np.flatnonzero(np.r_[True, np.diff(score) != 0])  # groups of tied scores
    positive = np.add.reduceat(w * djd, starts, axis=1)
    negative = np.add.reduceat(w * ~djd, starts, axis=1)
    below = np.cumsum(negative, axis=1) - negative  # negative weight strictly below each group
    pairs = positive.sum(1) * negative.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, (positive * (below + 0.5 * negative)).sum(1) / pairs, np.nan)


def weighted_scalars(labels, probabilities, weights: np.ndarray) -> dict:
    """``{metric: (B,)}`` for every name in ``SCALARS`` and ``recall_per_grade`` (B, 5), each
    computed on the knees weighted by a row of ``weights`` (B, K); NaN where undefined."""
    labels, probabilities = _check(labels, probabilities)
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    c = confusion_matrices(labels, probabilities.argmax(axis=1), weights)
    grades = np.arange(COUNT)
    rows, cols, hits = c.sum(2), c.sum(1), np.diagonal(c, axis1=1, axis2=2)
    total = rows.sum(1)
    present = rows > 0
    distance = np.abs(np.subtract.outer(grades, grades)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(present, hits / rows, np.nan)
        f1 = np.where(present, 2 * hits / (rows + cols), np.nan)
        expected = rows[:, :, None] * cols[:, None, :] / total[:, None, None]
        disagreement = (distance ** 2 * expected).sum((1, 2))
        qwk = np.where(disagreement > 0, 1 - (distance ** 2 * c).sum((1, 2)) / disagreement, np.nan)
        some = present.any(1)
        return {"accuracy": hits.sum(1) / total,
                "balanced_accuracy": np.where(some, np.nansum(recall, 1) / present.sum(1), np.nan),
                "macro_f1": np.where(some, np.nansum(f1, 1) / present.sum(1), np.nan),
                "qwk": qwk, "mae": (distance * c).sum((1, 2)) / total,
                "auc_djd": _auc(labels, probabilities, weights), "recall_per_grade": recall}


def grade_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Every metric above for true grades ``labels`` (K,) and predicted probabilities (K, 5)."""
    labels, probabilities = _check(labels, probabilities)
    values = weighted_scalars(labels, probabilities, np.ones((1, len(labels))))
    confusion = confusion_matrices(labels, probabilities.argmax(axis=1), np.ones((1, len(labels))))
    out = {name: float(values[name][0]) for name in SCALARS}
    out["confusion"] = confusion[0].astype(int).tolist()
    out["recall_per_grade"] = values["recall_per_grade"][0].tolist()
    return out


def patient_bootstrap_weights(patients, rounds: int, seed: int = 0) -> np.ndarray:
    """(rounds, K): how often each knee is drawn when ``len(unique(patients))`` patients are
    drawn with replacement, every patient with all of its knees (a patient cluster bootstrap)."""
    _, index = np.unique(np.asarray(patients), return_inverse=True)
    count = index.max() + 1 if len(index) else 0
    draws = np.random.default_rng(seed).multinomial(count, np.full(count, 1.0 / max(count, 1)),
                                                    size=rounds)
    return draws[:, index].astype(np.float64)


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap ``samples`` (NaN samples ignored)."""
    samples = np.asarray(samples, dtype=np.float64)
    if not np.isfinite(samples).any():
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_intervals(labels, probabilities, patients, rounds: int = 1000, seed: int = 0,
                        level: float = 0.95) -> dict:
    """``{metric: (low, high)}``: percentile intervals over ``rounds`` patient resamples."""
    weights = patient_bootstrap_weights(patients, rounds, seed)
    samples = weighted_scalars(labels, probabilities, weights)
    return {name: percentile_interval(samples[name], level) for name in SCALARS}
