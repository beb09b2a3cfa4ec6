"""The proposal's comparisons as a grid of training runs, with honest uncertainty.

A study file (TOML) holds the base condition (``[base.model]``, ``[base.train]``), the
study settings (``[study]``: ``folds``, ``seeds``, ``proposal_split``, ``workers``) and the
factors, one at a time around the base (``[[factor]]`` tables with a ``name``, the ``key``
it changes, e.g. ``train.batch_size``, and its ``values``). Every condition runs on K
stratified patient-grouped folds for every seed, plus, when asked, the proposal's own split
(the last 20 patients) once.

Runs execute in a local process pool; each writes ``OUT/runs/<condition>/<split>/record.json``
atomically through ``train.train_run``, and a rerun of the study skips every run whose
record exists (and resumes a killed run from its checkpoint). A run that diverges is recorded
as such and the study goes on. ``compare`` sets each condition against the base with a paired
Wilcoxon signed-rank test over the same (fold, seed) splits.
"""
from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import re
import tomllib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np

from .metrics import SCALARS
from .train import RunConfig, config_from_dict

METRICS = ("qwk",) + tuple(m for m in SCALARS if m != "qwk")  # the study's measure first


@dataclass(frozen=True)
class Factor:
    name: str
    key: str  # 'model.<field>' or 'train.<field>'
    values: tuple


@dataclass(frozen=True)
class Study:
    base: dict
    factors: tuple[Factor, ...] = ()
    folds: int = 5
    seeds: tuple[int, ...] = (0,)
    proposal_split: bool = True
    workers: int = 1
    name: str = "study"

    def conditions(self) -> list[tuple[str, str, RunConfig]]:
        """``(factor name, condition label, config)``; the base first, then each factor's
        values other than the base's own."""
        out = [("base", "base", config_from_dict(self.base, "the study's base"))]
        for factor in self.factors:
            section, _, key = factor.key.partition(".")
            current = self.base.get(section, {}).get(key, getattr(getattr(out[0][2], section), key))
            for value in factor.values:
                if _same(value, current):
                    continue
                values = json.loads(json.dumps(self.base))
                values.setdefault(section, {})[key] = value
                out.append((factor.name, f"{factor.name} = {_text(value)}",
                            config_from_dict(values, f"factor {factor.name!r}")))
        return out

    def splits(self) -> list[str]:
        """'fold<k>-seed<s>' for every fold and seed, then 'proposal' when asked."""
        names = [f"fold{k}-seed{s}" for s in self.seeds for k in range(1, self.folds + 1)]
        return names + (["proposal"] if self.proposal_split else [])


def _same(a, b) -> bool:
    return json.dumps(a) == json.dumps(list(b) if isinstance(b, tuple) else b)


def _text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-").lower()


def load_study(path: str) -> Study:
    with open(path, "rb") as f:
        values = tomllib.load(f)
    settings = dict(values.get("study", {}))
    known = {f.name for f in dataclasses.fields(Study)} - {"base", "factors"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown} in [study]; known: {sorted(known)}")
    factors = []
    for entry in values.get("factor", []):
        missing = {"name", "key", "values"} - set(entry)
        if missing:
            raise ValueError(f"{path}: a [[factor]] lacks {sorted(missing)}")
        if entry["key"].partition(".")[0] not in ("model", "train"):
            raise ValueError(f"{path}: factor {entry['name']!r}: key must start with 'model.' or 'train.'")
        factors.append(Factor(entry["name"], entry["key"], tuple(entry["values"])))
    if "seeds" in settings:
        settings["seeds"] = tuple(settings["seeds"])
    study = Study(base=values.get("base", {}), factors=tuple(factors), **settings)
    study.conditions()  # every condition must be a valid configuration: fail before running
    return study


# ---- running ----------------------------------------------------------------------------

def _split(name: str, labels, patients, folds: int):
    from .dataset import grouped_folds, proposal_holdout
    if name == "proposal":
        return proposal_holdout(patients)
    fold, seed = (int(v) for v in re.match(r"fold(\d+)-seed(\d+)", name).groups())
    return grouped_folds(labels, patients, folds, seed)[fold - 1]


def train_job(job: dict, data, out: str) -> dict:
    """Train one job's run on ``data`` (a KneeDataset) into ``out``; returns the record."""
    from .train import train_run
    train, test = _split(job["split"], data.labels, data.patients, job["folds"])
    config = config_from_dict(job["config"])
    if job["split"] != "proposal":  # each seed of the study seeds the run too
        seed = int(job["split"].rsplit("seed", 1)[1])
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, seed=seed))
    return train_run(config, data.images, data.labels, data.patients, train, test, out,
                     progress=False, device=job["device"], scales=data.scales,
                     key_fingerprint=data.key_fingerprint)


def _start_worker() -> None:
    """Pool worker start-up: a private Numba cache (see backend.use_private_kernel_cache)."""
    import minicnn
    minicnn.backend.use_private_kernel_cache()


def _run_one(job: dict) -> dict:
    """One run in a pool worker (its own process): set its threads, load the crops, train."""
    import minicnn
    minicnn.backend.set_num_threads(job["threads"])
    return _run_here(job)


def _run_here(job: dict) -> dict:
    from .dataset import load_dataset
    record = train_job(job, load_dataset(job["crops"]), job["out"])
    return {"out": job["out"], "status": record["status"], "message": record["message"]}


def pending_jobs(study: Study, crops: str, out: str, threads: int, device: str = "cpu") -> list[dict]:
    """One job per (condition, split) without a record in ``OUT/runs``."""
    jobs = []
    for factor, label, config in study.conditions():
        for split in study.splits():
            run_dir = os.path.join(out, "runs", slug(label), split)
            if os.path.exists(os.path.join(run_dir, "record.json")):
                continue
            jobs.append({"factor": factor, "label": label, "config": config.to_dict(), "split": split,
                         "out": run_dir, "crops": os.path.abspath(crops), "folds": study.folds,
                         "threads": threads, "device": device})
    return jobs


def run_study(study: Study, crops: str, out: str, workers: int | None = None, progress: bool = True,
              device: str = "cpu") -> list:
    """Run every (condition, split) that has no record yet; return the list of jobs run.
    One worker runs in this process; more run in a pool of spawned processes, each with
    ``cores // workers`` threads."""
    from tqdm import tqdm

    workers = workers or study.workers
    jobs = pending_jobs(study, crops, out, max(1, (os.cpu_count() or 1) // workers), device)
    done = []
    bar = tqdm(total=len(jobs), desc="study", unit="run", disable=not progress)
    if workers == 1:
        for job in jobs:
            done.append(_run_here(job))
            bar.update()
    else:
        # spawn, not fork: OpenMP thread pools (Numba's) do not survive a fork
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_worker) as pool:
            for future in as_completed([pool.submit(_run_one, job) for job in jobs]):
                done.append(future.result())
                bar.update()
    bar.close()
    return done


# ---- collecting and comparing -----------------------------------------------------------

@dataclass
class ConditionResult:
    factor: str
    label: str
    runs: dict = field(default_factory=dict)  # split -> record

    def values(self, metric: str, splits=None) -> np.ndarray:
        """The test metric of every finished fold run (not the proposal's split), by split."""
        keys = [s for s in (splits or sorted(self.runs)) if s != "proposal"]
        return np.array([self.runs[s]["test"][metric] if self.runs.get(s, {}).get("status") == "finished"
                         else np.nan for s in keys])


def collect(study: Study, out: str) -> list[ConditionResult]:
    results = []
    for factor, label, _ in study.conditions():
        result = ConditionResult(factor, label)
        for split in study.splits():
            path = os.path.join(out, "runs", slug(label), split, "record.json")
            if os.path.exists(path):
                with open(path) as f:
                    result.runs[split] = json.load(f)
        results.append(result)
    return results


def compare(base: ConditionResult, other: ConditionResult, metric: str = "qwk") -> dict:
    """Paired over the fold splits both finished: mean difference (other - base) and the
    Wilcoxon signed-rank p-value; ``significant`` at 0.05."""
    from scipy.stats import wilcoxon

    splits = sorted(s for s in set(base.runs) & set(other.runs) if s != "proposal")
    a, b = base.values(metric, splits), other.values(metric, splits)
    keep = np.isfinite(a) & np.isfinite(b)
    diff = b[keep] - a[keep]
    if len(diff) < 2 or np.all(diff == 0):
        return {"pairs": int(len(diff)), "mean_difference": float(diff.mean()) if len(diff) else float("nan"),
                "p_value": float("nan"), "significant": False}
    p = float(wilcoxon(diff).pvalue)
    return {"pairs": int(len(diff)), "mean_difference": float(diff.mean()), "p_value": p,
            "significant": p < 0.05}
