"""The study's comparison test, its detectable difference and Holm's correction."""
import math

import numpy as np
import pytest

from experiments.study.fold_simulation import simulate_differences
from experiments.study.stats import corrected_t_test, holm, minimum_detectable_difference

REALISTIC = dict(patients=205, folds=5, seeds=3, test_sd=0.05, train_sd=0.03, run_sd=0.05)


def test_holm_against_a_hand_worked_case():
    # sorted p: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> 0.06
    # by monotonicity); input order 0.03, 0.01, 0.04, 0.02, and a NaN that does not count
    adjusted = holm([0.03, 0.01, 0.04, math.nan, 0.02])
    assert adjusted[:3] == pytest.approx([0.06, 0.04, 0.06]) and adjusted[4] == pytest.approx(0.06)
    assert math.isnan(adjusted[3])
    assert holm([0.5, 0.4]) == pytest.approx([0.8, 0.8])  # 0.4 x 2, then max(0.8, 0.5 x 1)
    assert holm([0.9, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_corrected_t_by_hand():
    d = [0.2, 0.22, 0.19, 0.25, 0.21, 0.21]
    # mean 0.21333, sample SD 0.020656; variance factor 1/6 + 1/2
    result = corrected_t_test(d, 0.5)
    assert result["t"] == pytest.approx(0.213333 / (math.sqrt(1 / 6 + 0.5) * 0.020656), rel=1e-4)
    assert result["df"] == 5 and result["p"] < 0.001  # t(5) two-sided 0.1% point: 8.610
    assert math.isnan(corrected_t_test([0.1], 0.25)["p"])


def _rejections(delta: float, studies: int = 2000, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    d = simulate_differences(studies, delta=delta, rng=rng, **REALISTIC)
    ratio = 1 / (REALISTIC["folds"] - 1)
    return float(np.mean([corrected_t_test(x, ratio)["p"] < 0.05 for x in d]))


def test_the_corrected_test_holds_its_level_when_nothing_differs():
    rate = _rejections(0.0)
    assert 0.025 < rate < 0.08  # 2000 studies: binomial SE 0.5 points around 5%


def test_the_plain_t_test_would_not_hold_it():
    """What the correction is for: the same differences, variance factor 1/J (a plain paired
    t-test), reject far more often than 5% under no difference."""
    rng = np.random.default_rng(1)
    d = simulate_differences(2000, delta=0.0, rng=rng, **REALISTIC)
    plain = [corrected_t_test(x, 0.0)["p"] < 0.05 for x in d]
    assert np.mean(plain) > 0.15


def test_the_corrected_test_finds_a_large_difference():
    assert _rejections(0.3, studies=300) > 0.99


def test_minimum_detectable_difference_by_hand():
    # t(14) 0.975 point 2.1448, 0.8 point 0.8681; variance factor 1/15 + 1/4
    assert minimum_detectable_difference(0.07, 15, 0.25) == pytest.approx(
        (2.1448 + 0.8681) * math.sqrt(1 / 15 + 0.25) * 0.07, rel=1e-3)
    assert math.isnan(minimum_detectable_difference(0.07, 1, 1.0))
