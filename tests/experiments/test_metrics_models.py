"""Grading metrics against hand-computed values, bootstrap intervals, and the model family."""
import numpy as np
import pytest

import minicnn
from experiments.metrics import bootstrap_intervals, grade_metrics
from experiments.models import ModelConfig, build_model, proposal_simple_cnn


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
    # quadratic kappa by its definition: 1 - sum(w*O) / sum(w*E), w_ij = (i-j)^2/16
    observed = np.array(result["confusion"], float)
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    w = (np.subtract.outer(np.arange(5), np.arange(5)) ** 2) / 16
    assert result["qwk"] == pytest.approx(1 - (w * observed).sum() / (w * expected).sum())
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


def test_the_default_family_member_is_simplecnn():
    ours = build_model()
    assert sum(p.numel() for p in ours.parameters()) == 105_445
    assert sum(p.numel() for p in proposal_simple_cnn(minicnn.nn).parameters()) == 105_445
    assert ours(minicnn.zeros(2, 1, 128, 128)).shape == (2, 5)


@pytest.mark.parametrize("config,features", [
    (ModelConfig(blocks=1), 16 * 64 * 64),
    (ModelConfig(blocks=2, kernel=5, padding=2, pooling="avg"), 32 * 32 * 32),
    (ModelConfig(blocks=3, stride=2, padding=1), 64 * 2 * 2),
])
def test_family_members_have_the_right_linear_size(config, features):
    model = build_model(config)
    assert model.fc.in_features == features
    assert model(minicnn.zeros(1, 1, 128, 128)).shape == (1, 5)


def test_impossible_configurations_are_refused():
    with pytest.raises(ValueError, match="leaves no pixels"):
        build_model(ModelConfig(blocks=3, kernel=7, stride=3, padding=0, input_size=32))
    with pytest.raises(ValueError, match="pooling"):
        build_model(ModelConfig(pooling="median"))
