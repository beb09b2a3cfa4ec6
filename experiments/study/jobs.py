"""A study's jobs: one per (condition, split) without a record, and how a job is run.

A job is a small dict (it crosses process and network boundaries as it is): ``factor``,
``label`` (the condition), ``config`` (:meth:`RunConfig.to_dict`), ``split`` (a name of
:mod:`..splits`), ``out`` (the run folder ``OUT/runs/<condition>/<split>``), ``crops`` (the
archive's absolute path), ``folds``, ``threads`` and ``device``. Every executor ends in
:func:`run_job`.
"""
from __future__ import annotations

import dataclasses
import os

from ..splits import PROPOSAL, named_split, parse_fold_name
from ..training.config import config_from_dict
from .grid import Study, slug


def pending_jobs(study: Study, crops: str, out: str, threads: int,
                 device: str = "cpu") -> list[dict]:
    """One job per (condition, split) without a record in ``OUT/runs``."""
    jobs = []
    for factor, label, config in study.conditions():
        for split in study.splits():
            run_dir = os.path.join(out, "runs", slug(label), split)
            if os.path.exists(os.path.join(run_dir, "record.json")):
                continue
            jobs.append({"factor": factor, "label": label, "config": config.to_dict(),
                         "split": split, "out": run_dir, "crops": os.path.abspath(crops),
                         "folds": study.folds, "threads": threads, "device": device})
    return jobs


def run_job(job: dict, data, out: str) -> dict:
    """Train one job's run on ``data`` (a :class:`..crops.archive.KneeDataset`) into ``out``;
    returns the run's record. A fold split's seed seeds the run too (each seed of the study
    is a new draw of folds and of the training's randomness)."""
    from ..training.run import train_run
    train, test = named_split(job["split"], data.labels, data.patients, job["folds"])
    config = config_from_dict(job["config"])
    if job["split"] != PROPOSAL:
        _, seed = parse_fold_name(job["split"])
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, seed=seed))
    return train_run(config, data.images, data.labels, data.patients, train, test, out,
                     progress=False, device=job["device"], scales=data.scales,
                     key_fingerprint=data.key_fingerprint)


def job_outcome(job: dict, record: dict) -> dict:
    """What an executor returns per job run: ``out``, ``status`` and ``message``."""
    return {"out": job["out"], "status": record["status"], "message": record["message"]}
