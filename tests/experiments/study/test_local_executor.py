"""The local executor: resumable runs, recorded failures, a process pool with the same
records, and the study command end to end."""
import json
import os

import numpy as np

from experiments import cli
from experiments.study.grid import Factor, Study
from experiments.study.local_executor import run_study
from experiments.study.results import collect, compare
from tests.experiments.study.toy_study import BASE, toy_crops


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


def test_study_command_writes_the_report(tmp_path, capsys):
    scans, out, config = tmp_path / "scans", tmp_path / "out", tmp_path / "study.toml"
    assert cli.main(["phantom", "--out", str(scans), "--patients", "16", "--quiet"]) == 0
    config.write_text("[study]\nfolds = 2\nseeds = [0]\nproposal_split = false\n"
                      "[base.model]\nblocks = 2\nchannels = [4, 8]\n"
                      "[base.train]\nepochs = 2\noptimizer = 'adam'\nlr = 0.01\n"
                      "bootstrap_rounds = 10\n"
                      "[[factor]]\nname = 'pooling'\nkey = 'model.pooling'\n"
                      "values = ['max', 'avg']\n")
    assert cli.main(["study", "--config", str(config), "--data", str(scans), "--out", str(out),
                     "--quiet"]) == 0
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
