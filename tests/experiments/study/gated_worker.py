"""A Dask worker preload (``DASK_DISTRIBUTED__WORKER__PRELOAD``) for the interruption test: on
this worker only the first ``GATE_OPEN_RUNS`` jobs run at once; every later job waits until
the file ``GATE_FILE`` exists (the test creates it after it has interrupted the client)."""
import os
import time

import experiments.study.jobs as jobs

_run_job = jobs.run_job
_started = []


def _gated_run_job(job, data, out):
    _started.append(job["out"])
    if len(_started) > int(os.environ["GATE_OPEN_RUNS"]):
        deadline = time.monotonic() + 300  # never outlive a forgotten test
        while not os.path.exists(os.environ["GATE_FILE"]) and time.monotonic() < deadline:
            time.sleep(0.05)
    return _run_job(job, data, out)


def dask_setup(worker):
    jobs.run_job = _gated_run_job
