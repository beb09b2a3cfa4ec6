"""The study grid: conditions, resumable runs, recorded failures, patient-level honesty, report."""
import json
import os

import numpy as np
import pytest

from experiments import cli
from experiments.study.grid import Factor, Study, load_study
from experiments.study.local_executor import run_study
from experiments.study.results import collect, compare
from tests.experiments.training.test_run import toy_data

BASE = {"model": {"blocks": 2, "channels": [4, 8], "input_size": 16},
        "train": {"epochs": 2, "batch_size": 8, "lr": 0.05, "optimizer": "adam", "bootstrap_rounds": 10}}


def toy_crops(tmp_path):
    """A crops archive of the toy data, as the study reads it."""
    from experiments.crops.archive import KneeDataset, Summary, save_dataset
    images, labels, ids, _, _ = toy_data(patients=30)
    path = str(tmp_path / "crops.npz")
    save_dataset(KneeDataset(images, labels, ids, ids, labels * 0, labels * 0, Summary()), path)
    return path


def test_conditions_are_the_base_and_one_change_at_a_time():
    study = Study(base=BASE, factors=(Factor("lr", "train.lr", (0.05, 0.1)),
                                      Factor("blocks", "model.blocks", (1, 2))))
    labels = [label for _, label, _ in study.conditions()]
    assert labels == ["base", "lr = 0.1", "blocks = 1"]
    assert study.conditions()[1][2].train.lr == 0.1 and study.conditions()[1][2].model.blocks == 2
    assert study.splits() == ["fold1-seed0", "fold2-seed0", "fold3-seed0", "fold4-seed0", "fold5-seed0",
                              "proposal"]


def test_a_study_runs_resumes_and_records_failures(tmp_path):
    crops = toy_crops(tmp_path)
    study = Study(base=BASE, factors=(Factor("lr", "train.lr", (0.05, 1e4)),), folds=3, seeds=(0,),
                  proposal_split=False)
    out = str(tmp_path / "out")
    done = run_study(study, crops, out, progress=False)
    assert len(done) == 6
    statuses = {job["out"].split(os.sep)[-2]: job["status"] for job in done}
    assert statuses == {"base": "finished", "lr-10000-0": "diverged"}
    assert run_study(study, crops, out, progress=False) == []  # nothing redone
    results = collect(study, out)
    for result in results:
        for run in result.runs.values():
            sides = run["patients"]
            assert not set(sides["train"]) & set(sides["test"])
            assert not set(sides["validation"]) & set(sides["test"])
    base, other = results
    assert np.isfinite(base.values("qwk")).all() and not np.isfinite(other.values("qwk")).any()
    assert compare(base, other)["pairs"] == 0


def test_compare_runs_the_corrected_t_test_over_the_same_splits():
    from experiments.study.results import ConditionResult
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


def test_study_files_are_checked(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[study]\nfolds = 2\nbogus = 1\n")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['bogus'\]"):
        load_study(str(path))
    path.write_text("[[factor]]\nname = 'x'\nkey = 'optim.lr'\nvalues = [1]\n")
    with pytest.raises(ValueError, match="must start with 'model.' or 'train.'"):
        load_study(str(path))
    path.write_text("[[factor]]\nname = 'x'\nkey = 'train.optimizer'\nvalues = ['lbfgs']\n")
    with pytest.raises(ValueError, match="optimizer = 'lbfgs': must be one of"):
        load_study(str(path))


def test_the_shipped_study_files_load():
    for name in ("demo", "proposal"):
        study = load_study(os.path.join("experiments", "configs", f"{name}.toml"))
        assert study.conditions()[0][1] == "base" and len(study.conditions()) > 3


def test_study_command_writes_the_report(tmp_path, capsys):
    scans, out, config = tmp_path / "scans", tmp_path / "out", tmp_path / "study.toml"
    assert cli.main(["phantom", "--out", str(scans), "--patients", "16", "--quiet"]) == 0
    config.write_text("[study]\nfolds = 2\nseeds = [0]\nproposal_split = false\n[base.model]\nblocks = 2\nchannels = [4, 8]\n"
                      "[base.train]\nepochs = 2\noptimizer = 'adam'\nlr = 0.01\nbootstrap_rounds = 10\n"
                      "[[factor]]\nname = 'pooling'\nkey = 'model.pooling'\nvalues = ['max', 'avg']\n")
    assert cli.main(["study", "--config", str(config), "--data", str(scans), "--out", str(out), "--quiet"]) == 0
    assert "4 runs done now (4 in the study)" in capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert "## pooling" in report and "pooling = avg" in report
    assert "Nadeau & Bengio 2003" in report and "Holm" in report and "Quadratic" not in report
    assert "too small to find any difference" in report and "verdict" not in report
    assert "| condition | runs | QWK | Accuracy |" in report
    page = (out / "report.html").read_text()
    # the forest plot, the factor's bars and curves, the best condition's confusion heatmap
    assert page.count("data:image/png;base64,") == 4 and "<table>" in page
    assert 'class="beside"' in page
    assert cli.main(["report", str(out)]) == 0
    summary = json.loads((out / "study.json").read_text())
    assert set(summary) == {"base", "pooling = avg"}


def test_runs_in_a_process_pool_give_the_same_records(tmp_path):
    crops = toy_crops(tmp_path)
    study = Study(base=BASE, folds=2, seeds=(0,), proposal_split=False)
    run_study(study, crops, str(tmp_path / "one"), workers=1, progress=False)
    run_study(study, crops, str(tmp_path / "two"), workers=2, progress=False)
    for split in study.splits():
        one, two = (json.loads((tmp_path / d / "runs" / "base" / split / "record.json").read_text())
                    for d in ("one", "two"))
        assert one["status"] == two["status"] == "finished"
        assert one["patients"] == two["patients"]


def _fake_records(out, study, accuracy_of, rng):
    """Records of 5-fold x 3-seed runs on 60 patients (2 knees each) without training: each
    condition predicts a knee's grade right with probability ``accuracy_of[label]``."""
    from experiments.atomic import write_json
    from experiments.training.metrics import grade_metrics
    from experiments.study.grid import slug
    patients = np.repeat([f"p{i:02d}" for i in range(60)], 2)
    labels = rng.integers(0, 5, len(patients))
    for _, label, _ in study.conditions():
        for seed in study.seeds:
            order = np.random.default_rng(seed).permutation(60)
            for k in range(study.folds):
                test = np.flatnonzero(np.isin(patients, [f"p{i:02d}" for i in order[k::study.folds]]))
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
    assert [summary[label]["comparison"]["p_holm"] for label in given] == pytest.approx([0.06, 0.06])
    assert open(md_path).read().count("not shown to differ") == 2
