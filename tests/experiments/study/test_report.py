"""The report: Holm over every comparison, verdicts and pooled intervals, on fake records."""
import json
import os

import numpy as np
import pytest

from experiments.study.grid import Factor, Study
from tests.experiments.study.toy_study import BASE


def _fake_records(out, study, accuracy_of, rng):
    """Records of 5-fold x 3-seed runs on 60 patients (2 knees each) without training: each
    condition predicts a knee's grade right with probability ``accuracy_of[label]``."""
    from experiments.atomic import write_json
    from experiments.study.grid import slug
    from experiments.training.metrics import grade_metrics
    patients = np.repeat([f"p{i:02d}" for i in range(60)], 2)
    labels = rng.integers(0, 5, len(patients))
    for _, label, _ in study.conditions():
        for seed in study.seeds:
            order = np.random.default_rng(seed).permutation(60)
            for k in range(study.folds):
                held = [f"p{i:02d}" for i in order[k::study.folds]]
                test = np.flatnonzero(np.isin(patients, held))
                right = rng.random(len(test)) < accuracy_of[label]
                grades = np.where(right, labels[test], rng.integers(0, 5, len(test)))
                probabilities = np.full((len(test), 5), 0.05)
                probabilities[np.arange(len(test)), grades] = 0.8
                train = sorted(set(patients) - set(patients[test]))
                write_json(os.path.join(out, "runs", slug(label), f"fold{k + 1}-seed{seed}",
                                        "record.json"),
                           {"status": "finished", "message": "", "history": [{"val_qwk": 0.5}],
                            "test": grade_metrics(labels[test], probabilities),
                            "patients": {"train": train[6:], "validation": train[:6],
                                         "test": sorted(set(patients[test]))},
                            "test_predictions": {"index": test.tolist(),
                                                 "patients": patients[test].tolist(),
                                                 "labels": labels[test].tolist(),
                                                 "probabilities": probabilities.tolist()}})


def test_a_report_with_enough_runs_tests_with_holm_and_finds_a_large_difference(tmp_path):
    from experiments.study.report import write_report
    study = Study(base=BASE, factors=(Factor("lr", "train.lr", (0.05, 0.1, 0.2)),), folds=5,
                  seeds=(0, 1, 2), proposal_split=False, bootstrap_rounds=200)
    out = str(tmp_path)
    _fake_records(out, study, {"base": 0.4, "lr = 0.1": 0.95, "lr = 0.2": 0.4},
                  np.random.default_rng(0))
    md_path, _ = write_report(study, out)
    report = open(md_path).read()
    assert "too small" not in report and "| p (Holm) | verdict |" in report
    rows = {line.split(" | ")[0].strip("| "): line for line in report.splitlines()
            if line.startswith("| lr = ")}
    assert "better than base" in rows["lr = 0.1"]
    assert "not shown to differ" in rows["lr = 0.2"]
    summary = json.loads((tmp_path / "study.json").read_text())
    big, same = summary["lr = 0.1"]["comparison"], summary["lr = 0.2"]["comparison"]
    assert big["delta"]["low"] > 0.3 and same["delta"]["low"] < 0 < same["delta"]["high"]
    assert summary["base"]["pooled"]["knees"] == 120 and summary["base"]["pooled"]["seeds"] == 3


def test_the_report_adjusts_every_comparison_of_the_study_with_holm(tmp_path, monkeypatch):
    """p-values 0.03 and 0.04 by hand: Holm gives 0.03 x 2 = 0.06 and max(0.06, 0.04 x 1) =
    0.06, so neither difference is shown at alpha 0.05 although both raw p are below it."""
    from experiments.study import report
    study = Study(base=BASE, factors=(Factor("lr", "train.lr", (0.05, 0.1, 0.2)),), folds=5,
                  seeds=(0, 1, 2), proposal_split=False, bootstrap_rounds=200)
    _fake_records(str(tmp_path), study, {"base": 0.4, "lr = 0.1": 0.95, "lr = 0.2": 0.4},
                  np.random.default_rng(0))
    given = {"lr = 0.1": 0.03, "lr = 0.2": 0.04}
    real_compare = report.compare
    monkeypatch.setattr(report, "compare",
                        lambda base, other: {**real_compare(base, other),
                                             "p_value": given[other.label]})
    md_path, _ = report.write_report(study, str(tmp_path))
    summary = json.loads((tmp_path / "study.json").read_text())
    p_holm = [summary[label]["comparison"]["p_holm"] for label in given]
    assert p_holm == pytest.approx([0.06, 0.06])
    assert open(md_path).read().count("not shown to differ") == 2
