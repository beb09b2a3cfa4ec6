"""Grading metrics against hand-computed values and scikit-learn, bootstrap intervals."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.training.metrics import bootstrap_intervals, grade_metrics


def one_hot(grades):
    out = np.full((len(grades), 5), 0.01)
    out[np.arange(len(grades)), grades] = 0.96
    return out


def test_metrics_on_a_small_hand_computed_case():
    labels = np.array([0, 0, 1, 2, 3, 4])
    predicted = np.array([0, 1, 1, 2, 4, 4])
    result = grade_metrics(labels, one_hot(predicted))
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["mae"] == pytest.approx(2 / 6)
    assert result["balanced_accuracy"] == pytest.approx((0.5 + 1 + 1 + 0 + 1) / 5)
    assert result["confusion"][0] == [1, 1, 0, 0, 0] and result["confusion"][3] == [0, 0, 0, 0, 1]
    # quadratic kappa 1 - sum w O / sum w E, w_ij = (i - j)^2, by hand: the two misses (0->1,
    # 3->4) give sum w O = 2; rows (2, 1, 1, 1, 1) and columns (1, 2, 1, 0, 2) of the 6 knees
    # give sum w E = (2*38 + 20 + 14 + 20 + 38) / 6 = 28, so QWK = 1 - 2/28 = 13/14
    assert result["qwk"] == pytest.approx(13 / 14)
    from sklearn.metrics import cohen_kappa_score
    assert result["qwk"] == pytest.approx(cohen_kappa_score(labels, predicted, weights="quadratic"))
    assert result["auc_djd"] == pytest.approx(1.0)  # P(grade >= 2) ranks every DJD knee first


def test_a_perfect_and_a_constant_predictor():
    labels = np.array([0, 1, 2, 3, 4, 2])
    assert grade_metrics(labels, one_hot(labels))["qwk"] == pytest.approx(1.0)
    constant = grade_metrics(labels, one_hot(np.zeros(6, int)))
    assert constant["qwk"] == pytest.approx(0.0) and constant["accuracy"] == pytest.approx(1 / 6)


def test_bootstrap_intervals_resample_patients_and_contain_the_estimate():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 200)
    predicted = np.where(rng.random(200) < 0.7, labels, rng.integers(0, 5, 200))
    patients = np.repeat(np.arange(100), 2)
    intervals = bootstrap_intervals(labels, one_hot(predicted), patients, rounds=200)
    estimate = grade_metrics(labels, one_hot(predicted))
    for name in ("accuracy", "qwk", "mae"):
        low, high = intervals[name]
        assert low < estimate[name] < high and high - low < 0.3


def _sklearn_reference(labels, probabilities):
    """The metrics as scikit-learn computes them (an independent implementation)."""
    import warnings

    from sklearn import metrics as sk
    predicted, present = probabilities.argmax(1), np.unique(labels)
    djd = labels >= 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about grades absent from the labels
        return {"accuracy": sk.accuracy_score(labels, predicted),
                "balanced_accuracy": sk.balanced_accuracy_score(labels, predicted),
                "macro_f1": sk.f1_score(labels, predicted, labels=present, average="macro",
                                        zero_division=0),
                "qwk": sk.cohen_kappa_score(labels, predicted, labels=np.arange(5),
                                            weights="quadratic"),
                "mae": np.mean(np.abs(predicted - labels)),
                "auc_djd": sk.roc_auc_score(djd, probabilities[:, 2:].sum(1))
                if 0 < djd.sum() < len(djd) else np.nan}


def test_metrics_and_weighted_metrics_agree_with_sklearn():
    """A weighting counts a knee as often as its weight: the same as repeating it."""
    from experiments.training.metrics import SCALARS, weighted_scalars
    rng = np.random.default_rng(3)
    for trial in range(60):
        n = int(rng.integers(2, 30))
        labels = rng.integers(0, int(rng.integers(1, 6)), n)
        probabilities = rng.dirichlet(np.ones(5), n)
        if trial % 2:
            probabilities = np.round(probabilities, 1)  # ties in the AUC's score
        result = grade_metrics(labels, probabilities)
        weights = rng.integers(0, 4, n)
        if not weights.any():
            continue
        weighted = weighted_scalars(labels, probabilities, weights[None].astype(float))
        repeated = np.repeat(np.arange(n), weights)
        for name, (value, reference) in ((name, (result[name], v)) for name, v in
                                         _sklearn_reference(labels, probabilities).items()):
            assert value == pytest.approx(reference, nan_ok=True), name
        reference = _sklearn_reference(labels[repeated], probabilities[repeated])
        for name in SCALARS:
            assert weighted[name][0] == pytest.approx(reference[name], nan_ok=True), name


@st.composite
def predictions(draw):
    patients = draw(st.integers(1, 12))
    knees = np.repeat(np.arange(patients), 2)
    labels = np.array(draw(st.lists(st.integers(0, 4), min_size=len(knees), max_size=len(knees))))
    raw = draw(st.lists(st.floats(0, 1), min_size=5 * len(knees), max_size=5 * len(knees)))
    probabilities = np.array(raw).reshape(-1, 5) + 1e-6
    return labels, probabilities / probabilities.sum(1, keepdims=True), knees


@settings(max_examples=60, deadline=None)
@given(predictions(), st.integers(0, 3))
def test_no_interval_leaves_its_metrics_range(case, seeds):
    """Per run (bootstrap_intervals) and pooled over seeds (seed_mean_intervals)."""
    from experiments.study.pooled import Pooled, seed_mean_intervals
    from experiments.training.metrics import RANGES
    labels, probabilities, patients = case
    intervals = bootstrap_intervals(labels, probabilities, patients, rounds=50, seed=seeds)
    rng = np.random.default_rng(seeds)
    pooled = [Pooled(np.arange(len(labels)), patients.astype(str), labels,
                     rng.permutation(probabilities)) for _ in range(seeds + 1)]
    summary = seed_mean_intervals(pooled, rounds=50)
    for name, (low, high) in RANGES.items():
        for a, b in (intervals[name], (summary[name]["low"], summary[name]["high"])):
            if np.isfinite(a):
                assert low <= a <= b <= high, (name, a, b)
    for g in range(5):
        a, b = summary["recall_per_grade"]["low"][g], summary["recall_per_grade"]["high"][g]
        assert not np.isfinite(a) or 0 <= a <= b <= 1
