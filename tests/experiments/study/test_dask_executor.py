"""The Dask executor on a real scheduler with worker processes on loopback: the local
executor's records metric for metric, a killed worker, an interrupted client."""
import json

from experiments.study.dask_executor import run_study_dask
from experiments.study.grid import Factor, Study
from experiments.study.local_executor import run_study
from tests.experiments.study.toy_study import BASE, toy_crops


def records(out, study):
    from experiments.study.results import collect
    return {r.label: {s: (run["status"], run["history"], json.dumps(run.get("test")))
                      for s, run in r.runs.items()}
            for r in collect(study, str(out))}


def test_a_dask_study_equals_the_local_one_and_resumes(tmp_path):
    """A scheduler and two worker processes on loopback, reached by address (--scheduler)."""
    crops = toy_crops(tmp_path)
    study = Study(base=BASE, factors=(Factor("lr", "train.lr", (0.05, 0.02)),), folds=2, seeds=(0,),
                  proposal_split=False)
    from distributed import LocalCluster
    local = run_study(study, crops, str(tmp_path / "local"), workers=2, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        remote = run_study_dask(study, crops, str(tmp_path / "dask"),
                                scheduler=cluster.scheduler_address, threads=1, progress=False)
        assert len(local) == len(remote) == 4
        assert records(tmp_path / "local", study) == records(tmp_path / "dask", study)
        assert run_study_dask(study, crops, str(tmp_path / "dask"),
                              scheduler=cluster.scheduler_address, progress=False) == []


def count_records(out):
    return sorted(str(p.relative_to(out)) for p in out.rglob("record.json"))


def test_a_killed_worker_costs_nothing_but_a_retry(tmp_path):
    import os
    import signal
    import threading
    import time

    from distributed import Client, LocalCluster
    crops = toy_crops(tmp_path)
    study = Study(base=BASE, factors=(Factor("lr", "train.lr", (0.05, 0.02, 0.01)),), folds=2,
                  seeds=(0,), proposal_split=False)
    out = tmp_path / "dask"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        with Client(cluster) as client:  # closed first: one client in the process at a time
            victim = sorted(client.run(os.getpid).values())[0]

        def kill_when_started():
            deadline = time.time() + 120
            while not count_records(out) and time.time() < deadline:
                time.sleep(0.05)
            os.kill(victim, signal.SIGKILL)
        killer = threading.Thread(target=kill_when_started)
        killer.start()
        done = run_study_dask(study, crops, str(out), scheduler=cluster.scheduler_address,
                              progress=False)
        killer.join()
    assert len(done) == 6 and len(count_records(out)) == 6
    assert all(job["status"] == "finished" for job in done)


def test_an_interrupted_client_stops_promptly_and_resumes_without_redoing_runs(tmp_path):
    """Ctrl-C (SIGINT) on a client that runs its own LocalCluster: the client exits promptly
    although a run is in progress, the records of the runs done before stay, and a new client
    runs only the others. The worker holds every run after the first two until the test opens
    a gate (a file) after the client has exited, so exactly two runs are done at the SIGINT."""
    import os
    import signal
    import subprocess
    import sys
    import time
    crops = toy_crops(tmp_path)
    out = tmp_path / "dask"
    gate = tmp_path / "gate"
    script = ("import faulthandler, signal\n"  # SIGUSR1: every thread's stack, if it hangs
              "faulthandler.register(signal.SIGUSR1, all_threads=True)\n"
              # Ctrl-C at a terminal raises KeyboardInterrupt; a client started under a
              # background job would inherit SIGINT ignored and never see it
              "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
              f"import sys; sys.path.insert(0, {str(tmp_path.parent)!r}); sys.path.insert(0, '.')\n"
              "from experiments.study.dask_executor import run_study_dask\n"
              "from experiments.study.grid import Factor, Study\n"
              "from tests.experiments.study.toy_study import BASE\n"
              "study = Study(base=BASE, factors=(Factor('lr', 'train.lr', (0.05, 0.02, 0.01)),), "
              "folds=3, seeds=(0,), proposal_split=False)\n"
              f"run_study_dask(study, {crops!r}, {str(out)!r}, workers=1, progress=False)\n")
    preload = os.path.join(os.path.dirname(__file__), "gated_worker.py")
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__PRELOAD=repr([preload]),
               GATE_FILE=str(gate), GATE_OPEN_RUNS="2")
    client = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while len(count_records(out)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(count_records(out)) == 2, "the first two runs never finished"
        interrupted = time.monotonic()
        client.send_signal(signal.SIGINT)
        try:
            _, stderr = client.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # show where the client hangs, then fail
            client.send_signal(signal.SIGUSR1)
            time.sleep(2)  # failing already: a moment for the handler's dump before the kill
            client.kill()
            print("the client's stderr:", client.stderr.read().decode()[-8000:])
            raise
        stopped = time.monotonic() - interrupted
    finally:
        gate.touch()
        client.kill()
    assert client.returncode != 0 and b"KeyboardInterrupt" in stderr
    print(f"the client stopped {stopped:.1f} s after SIGINT")
    assert stopped < 30, f"the client took {stopped:.1f} s to stop after SIGINT"
    assert len(count_records(out)) == 2
    study = Study(base=BASE, factors=(Factor("lr", "train.lr", (0.05, 0.02, 0.01)),), folds=3,
                  seeds=(0,), proposal_split=False)
    again = run_study_dask(study, crops, str(out), workers=2, progress=False)
    assert len(again) == 7 and len(count_records(out)) == 9
