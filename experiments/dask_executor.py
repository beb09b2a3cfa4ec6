"""Run a study's pending runs on a Dask cluster (``minicnn-knee study --executor dask``).

With ``scheduler`` (``tcp://HOST:PORT``) the runs go to that existing cluster; without one a
``LocalCluster`` of ``workers`` processes starts here. What goes over the network: the crops
archive once (scattered to every worker with its SHA-256, checked on arrival and loaded
once per worker process), then per task a small job description; back comes each run's
record, which is written here, atomically, in the same layout as local runs
(``OUT/runs/<condition>/<split>/record.json``), so ``report`` does not care where runs ran.

Each worker process compiles the Numba kernels into its own temporary cache (several
processes writing one Numba cache at once can corrupt it).

Faults: a task whose worker dies is rerun elsewhere (up to ``retries`` times); a run that
fails for its own reasons (divergence) returns a ``diverged`` record and is not retried;
rerunning the command skips every run that has a record. Runs train in a temporary folder
on the worker (their per-epoch checkpoints stay there). A job with ``device = "auto"`` takes
the worker's GPU when it has one; GPU runs ask for one unit of the worker resource ``GPU``,
so a worker started with ``--resources GPU=1`` runs one at a time.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile

_LOADED: dict = {}  # per worker process: SHA-256 -> KneeDataset


def _dataset(payload: tuple[str, bytes]):
    digest, data = payload
    if digest not in _LOADED:
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("the crops archive arrived damaged (SHA-256 mismatch)")
        from .dataset import load_dataset
        _LOADED.clear()
        _LOADED[digest] = load_dataset(io.BytesIO(data))
    return _LOADED[digest]


def dask_task(job: dict, payload: tuple[str, bytes]) -> dict:
    """Train one run on a worker; returns its record."""
    import minicnn
    from .study import train_job
    minicnn.backend.use_private_kernel_cache()  # a no-op after this worker's first task
    minicnn.backend.set_num_threads(job["threads"])
    if job["device"] == "auto":
        job = dict(job, device="cuda" if minicnn.cuda.is_available() else "cpu")
    with tempfile.TemporaryDirectory(prefix="minicnn-run-") as folder:
        return train_job(job, _dataset(payload), folder)


def run_study_dask(study, crops: str, out: str, scheduler: str | None = None, workers: int = 2,
                   threads: int = 1, device: str = "cpu", retries: int = 2, progress: bool = True) -> list:
    """Submit every pending run; write each record as it comes back; return the jobs run."""
    from distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    from .atomic import write_json
    from .study import pending_jobs, slug

    jobs = pending_jobs(study, crops, out, threads, device)
    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                  dashboard_address=":0")
    client = Client(scheduler or cluster)
    try:
        print(f"Dask dashboard: {client.dashboard_link}")
        with open(crops, "rb") as f:
            data = f.read()
        payload = client.scatter((hashlib.sha256(data).hexdigest(), data), broadcast=True)
        futures = {}
        for job in jobs:
            resources = {"GPU": 1} if job["device"] == "cuda" else None
            key = f"minicnn-run-{slug(job['label'])}-{job['split']}-{os.urandom(4).hex()}"
            futures[client.submit(dask_task, job, payload, retries=retries, key=key, pure=False,
                                  resources=resources)] = job
        done = []
        bar = tqdm(total=len(jobs), desc="study (dask)", unit="run", disable=not progress)
        for future in as_completed(futures):
            job, record = futures[future], future.result()
            write_json(os.path.join(job["out"], "record.json"), record)
            done.append({"out": job["out"], "status": record["status"], "message": record["message"]})
            bar.update()
        bar.close()
        return done
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
