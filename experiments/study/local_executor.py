"""Run a study's pending jobs here: in this process (one worker) or in a pool of spawned
processes (``minicnn-knee study --executor local``, the default).

Each run writes ``OUT/runs/<condition>/<split>/record.json`` atomically through
:func:`..training.run.train_run`, and a rerun of the study skips every run whose record exists
(and resumes a killed run from its checkpoint). A run that diverges is recorded as such and
the study goes on.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from .grid import Study
from .jobs import job_outcome, pending_jobs, run_job


def _start_pool_worker() -> None:
    """Pool worker start-up: a private Numba cache (see backend.use_private_kernel_cache)."""
    import minicnn
    minicnn.backend.use_private_kernel_cache()


def run_job_from_archive(job: dict) -> dict:
    """Load the job's crops archive and run the job into its folder; returns its outcome."""
    from ..crops.archive import load_dataset
    record = run_job(job, load_dataset(job["crops"]), job["out"])
    return job_outcome(job, record)


def run_job_in_pool_worker(job: dict) -> dict:
    """:func:`run_job_from_archive` in a pool worker (its own process), with the job's
    number of threads."""
    import minicnn
    minicnn.backend.set_num_threads(job["threads"])
    return run_job_from_archive(job)


def run_study(study: Study, crops: str, out: str, workers: int | None = None,
              progress: bool = True, device: str = "cpu") -> list:
    """Run every (condition, split) that has no record yet; return the outcomes of the jobs
    run. One worker runs in this process; more run in a pool of spawned processes, each with
    ``cores // workers`` threads."""
    from tqdm import tqdm

    workers = workers or study.workers
    jobs = pending_jobs(study, crops, out, max(1, (os.cpu_count() or 1) // workers), device)
    done = []
    bar = tqdm(total=len(jobs), desc="study", unit="run", disable=not progress)
    if workers == 1:
        for job in jobs:
            done.append(run_job_from_archive(job))
            bar.update()
    else:
        # spawn, not fork: OpenMP thread pools (Numba's) do not survive a fork
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_pool_worker) as pool:
            futures = [pool.submit(run_job_in_pool_worker, job) for job in jobs]
            for future in as_completed(futures):
                done.append(future.result())
                bar.update()
    bar.close()
    return done
