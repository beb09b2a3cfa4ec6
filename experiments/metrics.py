"""Metrics for knee grading (Kellgren-Lawrence 0..4), with patient-level bootstrap intervals.

``grade_metrics(labels, probabilities)`` gives, for ``K`` knees and 5 grades:

- ``accuracy``, ``balanced_accuracy`` (mean per-grade recall over the grades present),
  ``macro_f1``;
- ``qwk``: Cohen's kappa with quadratic weights, ``1 - sum w O / sum w E`` with
  ``w_ij = (i - j)^2 / 16``, the field's headline agreement measure;
- ``mae``: mean absolute error in grades;
- ``auc_djd``: ROC AUC of "mild DJD or worse" (grade >= 2) against the rest, scored by
  ``P(grade >= 2)``;
- ``confusion`` (5 x 5, rows true, columns predicted) and ``recall_per_grade``.

``bootstrap_intervals`` resamples *patients* (both knees together) with replacement, so the
intervals respect that a patient's knees are not independent.
"""
from __future__ import annotations

import numpy as np
from sklearn import metrics as sk

GRADES = 5
DJD_FROM = 2
SCALARS = ("accuracy", "balanced_accuracy", "macro_f1", "qwk", "mae", "auc_djd")


def _safe(fn, *args, **kwargs) -> float:
    """The metric, or NaN where it is undefined (e.g. AUC with one class present)."""
    try:
        value = float(fn(*args, **kwargs))
    except ValueError:
        return float("nan")
    return value


def grade_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Every metric above for true grades ``labels`` (K,) and predicted probabilities (K, 5)."""
    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities)
    if probabilities.shape != (len(labels), GRADES):
        raise ValueError(f"grade_metrics: probabilities of shape ({len(labels)}, {GRADES}) expected, "
                         f"got {probabilities.shape}")
    predicted = probabilities.argmax(axis=1)
    grades = np.arange(GRADES)
    confusion = sk.confusion_matrix(labels, predicted, labels=grades)
    present = confusion.sum(axis=1) > 0
    recall = np.divide(np.diag(confusion), confusion.sum(axis=1), out=np.full(GRADES, np.nan),
                       where=present)
    djd = labels >= DJD_FROM
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "balanced_accuracy": float(np.nanmean(recall)) if present.any() else float("nan"),
        "macro_f1": _safe(sk.f1_score, labels, predicted, labels=grades[present], average="macro",
                          zero_division=0),
        "qwk": _safe(sk.cohen_kappa_score, labels, predicted, labels=grades, weights="quadratic"),
        "mae": float(np.mean(np.abs(predicted - labels))),
        "auc_djd": _safe(sk.roc_auc_score, djd, probabilities[:, DJD_FROM:].sum(axis=1))
        if 0 < djd.sum() < len(djd) else float("nan"),
        "confusion": confusion.tolist(),
        "recall_per_grade": recall.tolist(),
    }


def bootstrap_intervals(labels, probabilities, patients, rounds: int = 1000, seed: int = 0,
                        level: float = 0.95) -> dict:
    """``{metric: (low, high)}``: percentile intervals over ``rounds`` patient resamples."""
    labels, probabilities, patients = np.asarray(labels), np.asarray(probabilities), np.asarray(patients)
    ids, index = np.unique(patients, return_inverse=True)
    members = [np.flatnonzero(index == k) for k in range(len(ids))]
    rng = np.random.default_rng(seed)
    samples = {name: [] for name in SCALARS}
    for _ in range(rounds):
        chosen = np.concatenate([members[k] for k in rng.integers(0, len(ids), len(ids))])
        result = grade_metrics(labels[chosen], probabilities[chosen])
        for name in SCALARS:
            samples[name].append(result[name])
    tail = (1 - level) / 2 * 100
    return {name: tuple(float(v) for v in np.nanpercentile(values, [tail, 100 - tail]))
            if np.isfinite(values).any() else (float("nan"), float("nan"))
            for name, values in ((n, np.array(v)) for n, v in samples.items())}
