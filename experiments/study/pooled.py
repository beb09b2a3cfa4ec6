"""Out-of-fold predictions pooled per seed, and patient-bootstrap intervals on them.

In one seed's k-fold cross-validation every knee is predicted exactly once, by the fold
model that did not see its patient. Pooling the k test sides gives one prediction per knee;
a metric of the pooled predictions estimates the condition's performance on the whole data
set, and its uncertainty from sampling patients is estimated by the patient bootstrap:
``B`` rounds draw the patients with replacement (each with all of its knees), the same
draw for every seed, and each round's value is the mean over seeds of the metric on the
drawn knees. The 95% interval is the percentile interval of those ``B`` values (so it never
leaves the metric's range: each value is a mean of values inside it).

A paired difference between two conditions uses the same draws for both (the same knees
are predicted under both), so patients that are hard for both cancel out.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..training.metrics import (
    SCALARS,
    confusion_matrices,
    patient_bootstrap_weights,
    percentile_interval,
    weighted_scalars,
)

BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Pooled:
    """One seed's out-of-fold predictions, sorted by knee (index in the crops archive)."""

    index: np.ndarray  # (K,) int
    patients: np.ndarray  # (K,) the records' patient keys
    labels: np.ndarray  # (K,) int
    probabilities: np.ndarray  # (K, 5)


def pool_folds(records: list[dict]) -> Pooled | None:
    """The pooled test predictions of one seed's fold ``records``; None unless every record
    finished and holds its per-knee ``test_predictions`` (older records do not)."""
    if not records or any(r.get("status") != "finished" or "test_predictions" not in r
                          for r in records):
        return None
    parts = [r["test_predictions"] for r in records]
    index = np.concatenate([np.asarray(p["index"], dtype=np.int64) for p in parts])
    order = np.argsort(index, kind="stable")
    return Pooled(index[order],
                  np.concatenate([np.asarray(p["patients"]) for p in parts])[order],
                  np.concatenate([np.asarray(p["labels"], dtype=np.int64) for p in parts])[order],
                  np.concatenate([np.asarray(p["probabilities"], float) for p in parts])[order])


def _nanmean(values):
    """The mean over seeds, ignoring seeds where the metric is undefined (NaN if all are)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=0)


def _common(pooled: list[Pooled]) -> list[Pooled]:
    """The same knees, in the same order, in every pooled set (all of them when complete)."""
    common = pooled[0].index
    for p in pooled[1:]:
        common = np.intersect1d(common, p.index)
    return [Pooled(*(field[np.isin(p.index, common)] for field in
                     (p.index, p.patients, p.labels, p.probabilities))) for p in pooled]


def seed_mean_intervals(pooled: list[Pooled], rounds: int, level: float = 0.95) -> dict:
    """``{metric: {"estimate", "low", "high"}}`` for every name in ``SCALARS`` and
    ``recall_per_grade`` (lists of 5), plus ``confusion``: the 5 x 5 counts summed over seeds
    (each knee counted once per seed) and ``seeds``, ``knees``, ``patients``, ``rounds``."""
    pooled = _common(pooled)
    weights = patient_bootstrap_weights(pooled[0].patients, rounds, BOOTSTRAP_SEED)
    ones = np.ones((1, len(pooled[0].labels)))
    point = [weighted_scalars(p.labels, p.probabilities, ones) for p in pooled]
    draws = [weighted_scalars(p.labels, p.probabilities, weights) for p in pooled]
    out = {"seeds": len(pooled), "knees": int(len(pooled[0].labels)), "rounds": rounds,
           "patients": int(len(np.unique(pooled[0].patients)))}
    for name in SCALARS + ("recall_per_grade",):
        estimate = _nanmean([v[name][0] for v in point])
        samples = _nanmean([v[name] for v in draws])
        if name == "recall_per_grade":
            bounds = [percentile_interval(samples[:, g], level) for g in range(samples.shape[1])]
            out[name] = {"estimate": estimate.tolist(), "low": [b[0] for b in bounds],
                         "high": [b[1] for b in bounds]}
        else:
            low, high = percentile_interval(samples, level)
            out[name] = {"estimate": float(estimate), "low": low, "high": high}
    out["confusion"] = sum(confusion_matrices(p.labels, p.probabilities.argmax(1), ones)[0]
                           for p in pooled).astype(int).tolist()
    return out


def paired_difference(base: list[Pooled], other: list[Pooled], rounds: int, metric: str = "qwk",
                      level: float = 0.95) -> dict:
    """``{"estimate", "low", "high"}`` of the seed-mean ``metric`` of ``other`` minus that of
    ``base`` (the same seeds, in the same order), with a paired patient bootstrap."""
    both = _common(list(base) + list(other))
    base, other = both[:len(base)], both[len(base):]
    weights = patient_bootstrap_weights(base[0].patients, rounds, BOOTSTRAP_SEED)
    ones = np.ones((1, len(base[0].labels)))

    def seed_mean(sets, w):
        return _nanmean([weighted_scalars(p.labels, p.probabilities, w)[metric] for p in sets])
    low, high = percentile_interval(seed_mean(other, weights) - seed_mean(base, weights), level)
    return {"estimate": float(seed_mean(other, ones)[0] - seed_mean(base, ones)[0]),
            "low": low, "high": high}
