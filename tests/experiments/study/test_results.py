"""Comparing a condition with the base over the same splits."""
import pytest

from experiments.study.results import ConditionResult, compare


def test_compare_runs_the_corrected_t_test_over_the_same_splits():
    a, b = ConditionResult("base", "base"), ConditionResult("x", "x = 1")
    sides = {"train": ["p1", "p2", "p3"], "validation": ["p4"], "test": ["p5", "p6"]}  # 2 / 4
    pairs = [(0.5, 0.7), (0.4, 0.62), (0.6, 0.79), (0.55, 0.8), (0.45, 0.66), (0.5, 0.71),
             (0.5, 0.1)]
    for k, (qa, qb) in enumerate(pairs):
        a.runs[f"fold{k + 1}-seed0"] = {"status": "finished", "test": {"qwk": qa},
                                        "patients": sides}
        b.runs[f"fold{k + 1}-seed0"] = {"status": "diverged" if k == 6 else "finished",
                                        "test": {"qwk": qb}, "patients": sides}
    result = compare(a, b)  # the diverged split is left out of the pairs
    assert result["pairs"] == 6 and result["mean_difference"] == pytest.approx(0.2133, abs=1e-3)
    # differences 0.2, 0.22, 0.19, 0.25, 0.21, 0.21: SD 0.020656, variance factor 1/6 + 2/4
    assert result["test_to_train"] == pytest.approx(0.5)
    # t = 0.21333 / (sqrt(1/6 + 1/2) 0.020656) = 12.65 > 8.610, t(5)'s two-sided 0.1% point
    assert result["df"] == 5 and result["p_value"] < 0.001
