"""The study's comparisons: the corrected resampled t-test, its minimum detectable difference,
and Holm's step-down adjustment.

Differences ``d_j`` of a metric between two conditions on the same ``J = k r`` splits of
``r``-times repeated ``k``-fold cross-validation are not independent: the training sets of
any two splits overlap, and so do the test sets of different repetitions. The corrected
resampled t-test (Nadeau & Bengio 2003, "Inference for the generalization error", Machine
Learning 52:239-281), in the form Bouckaert & Frank (2004, "Evaluating the replicability of
significance tests for comparing learning algorithms", PAKDD, LNCS 3056:3-12) give for
repeated k-fold cross-validation, inflates the variance of the mean difference::

    t = mean(d) / sqrt((1 / J + n_test / n_train) * s^2),   s^2 = var(d, ddof=1),

with ``J - 1`` degrees of freedom, ``n_test / n_train`` the ratio of test to training
patients of a split (``1 / (k - 1)`` for k folds).

The smallest difference the same design detects with probability ``power`` at two-sided
level ``alpha``, given the observed ``s``, is
``(t_{1 - alpha/2, J-1} + t_{power, J-1}) * sqrt((1 / J + n_test / n_train) * s^2)``.

Holm (1979, "A simple sequentially rejective multiple test procedure", Scand. J. Statist.
6:65-70): with the ``m`` p-values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted value of
``p_(i)`` is ``max_{j <= i} min(1, (m - j + 1) p_(j))``; it controls the family-wise error
rate at ``alpha`` when the adjusted values are compared with ``alpha``.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

TEST_NAME = ("corrected resampled t-test (Nadeau & Bengio 2003), with the variance correction "
             "1/(k r) + n_test/n_train for k-fold cross-validation repeated r times "
             "(Bouckaert & Frank 2004)")
HOLM_NAME = "Holm's step-down correction (Holm 1979)"


def corrected_variance_factor(runs: int, test_to_train: float) -> float:
    """``1 / J + n_test / n_train``: what multiplies ``s^2`` for the variance of the mean."""
    return 1.0 / runs + test_to_train


def corrected_t_test(differences, test_to_train: float) -> dict:
    """The corrected resampled t-test of ``mean(differences) = 0`` (two-sided).

    ``differences`` (J,): one per (fold, seed) split; ``test_to_train``: n_test / n_train.
    Returns ``runs``, ``mean``, ``sd``, ``t``, ``df`` and ``p`` (NaN when ``J < 2`` or every
    difference is the same)."""
    d = np.asarray(differences, dtype=np.float64)
    d = d[np.isfinite(d)]
    out = {"runs": int(len(d)), "mean": float(d.mean()) if len(d) else math.nan,
           "sd": float(d.std(ddof=1)) if len(d) > 1 else math.nan, "t": math.nan,
           "df": len(d) - 1, "p": math.nan}
    if len(d) < 2 or not out["sd"] > 0:
        return out
    se = math.sqrt(corrected_variance_factor(len(d), test_to_train)) * out["sd"]
    out["t"] = out["mean"] / se
    out["p"] = float(2 * stats.t.sf(abs(out["t"]), len(d) - 1))
    return out


def minimum_detectable_difference(sd: float, runs: int, test_to_train: float,
                                  alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest true mean difference the corrected t-test over ``runs`` splits finds with
    probability ``power`` at two-sided level ``alpha`` when the differences spread by ``sd``
    (NaN below 2 runs or without a spread)."""
    if runs < 2 or not np.isfinite(sd) or not sd > 0:
        return math.nan
    df = runs - 1
    se = math.sqrt(corrected_variance_factor(runs, test_to_train)) * sd
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se)


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values, in the input's order; NaN entries stay NaN and do not count
    among the ``m`` comparisons."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m, running = len(order), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted
