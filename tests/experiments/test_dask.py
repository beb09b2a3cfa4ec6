"""The Dask executor: a real scheduler and worker processes on loopback give the local
executor's records, metric for metric."""
import json


from experiments.dask_executor import run_study_dask
from experiments.study import Factor, Study, run_study
from tests.experiments.test_study import BASE, toy_crops



def records(out, study):
    from experiments.study import collect
    return {r.label: {s: (run["status"], run["history"], json.dumps(run.get("test"))) for s, run in r.runs.items()}
            for r in collect(study, str(out))}


def test_a_dask_study_equals_the_local_one_and_resumes(tmp_path):
    crops = toy_crops(tmp_path)
    study = Study(base=BASE, factors=(Factor("lr", "train.lr", (0.05, 0.02)),), folds=2, seeds=(0,),
                  proposal_split=False)
    local = run_study(study, crops, str(tmp_path / "local"), workers=2, progress=False)
    remote = run_study_dask(study, crops, str(tmp_path / "dask"), workers=2, threads=1, progress=False)
    assert len(local) == len(remote) == 4
    assert records(tmp_path / "local", study) == records(tmp_path / "dask", study)
    assert run_study_dask(study, crops, str(tmp_path / "dask"), workers=2, progress=False) == []
