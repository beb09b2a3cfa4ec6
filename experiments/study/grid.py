"""The proposal's comparisons as a grid of training runs, with honest uncertainty.

A study file (TOML) holds the base condition (``[base.model]``, ``[base.train]``), the
study settings (``[study]``: ``folds``, ``seeds``, ``proposal_split``, ``workers``, ``name``
and ``bootstrap_rounds``, the rounds of the report's patient bootstrap) and the factors, one
at a time around the base (``[[factor]]`` tables with a ``name``, the ``key`` it changes,
e.g. ``train.batch_size``, and its ``values``). Every condition runs on K
stratified patient-grouped folds for every seed, plus, when asked, the proposal's own split
(the last 20 patients) once.

Runs execute in a local process pool; each writes ``OUT/runs/<condition>/<split>/record.json``
atomically through ``train.train_run``, and a rerun of the study skips every run whose
record exists (and resumes a killed run from its checkpoint). A run that diverges is recorded
as such and the study goes on. ``compare`` sets each condition against the base with the
corrected resampled t-test (``stats``) over the same (fold, seed) splits.

Every value of a study file is checked by ``load_study`` (each condition is built, so its
model and training values and the shapes its network allows are checked too) before any scan
is read.
"""
from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np

from ..config_checks import BadValue, boolean, integer, read_toml
from ..training.metrics import SCALARS
from ..training.models import ModelConfig
from .stats import corrected_t_test
from ..training.run import RunConfig, TrainConfig, config_from_dict

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
    bootstrap_rounds: int = 2000  # the report's patient bootstrap of pooled predictions

    def conditions(self) -> list[tuple[str, str, RunConfig]]:
        """``(factor name, condition label, config)``; the base first, then each factor's
        values other than the base's own."""
        out = [("base", "base", config_from_dict(self.base, "the study's base", "base."))]
        for factor in self.factors:
            section, _, key = factor.key.partition(".")
            current = self.base.get(section, {}).get(key, getattr(getattr(out[0][2], section), key))
            for value in factor.values:
                if _same(value, current):
                    continue
                values = json.loads(json.dumps(self.base))
                values.setdefault(section, {})[key] = value
                out.append((factor.name, f"{factor.name} = {_text(value)}",
                            config_from_dict(values, f"factor {factor.name!r} value "
                                             f"{_text(value)} ({factor.key})")))
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


SECTIONS = {"model": ModelConfig, "train": TrainConfig}
STUDY_KEYS = ("folds", "seeds", "proposal_split", "workers", "name", "bootstrap_rounds")  # [study]


def _check_settings(given: dict) -> None:
    settings = {f.name: f.default for f in dataclasses.fields(Study) if f.name in STUDY_KEYS}
    settings.update(given)
    integer("folds", settings["folds"], 2, 100)
    seeds = list(settings["seeds"]) if isinstance(settings["seeds"], tuple) else settings["seeds"]
    if not isinstance(seeds, list) or not seeds or len(set(map(repr, seeds))) < len(seeds):
        raise BadValue("seeds", seeds, "must be a non-empty list of distinct integers")
    for k, seed in enumerate(seeds):
        integer(f"seeds[{k}]", seed, 0, 2 ** 32 - 1)
    boolean("proposal_split", settings["proposal_split"])
    integer("workers", settings["workers"], 1, 1024)
    integer("bootstrap_rounds", settings["bootstrap_rounds"], 100, 1_000_000)
    if not isinstance(settings["name"], str):
        raise BadValue("name", settings["name"], "must be a string")


def _factor(entry, seen: set) -> Factor:
    """One ``[[factor]]`` table, checked (its values are checked as conditions)."""
    if not isinstance(entry, dict):
        raise ValueError("factor must be an array of tables [[factor]]")
    missing = {"name", "key", "values"} - set(entry)
    extra = set(entry) - {"name", "key", "values"}
    if missing or extra:
        raise ValueError(f"a [[factor]] needs exactly 'name', 'key' and 'values'; missing "
                         f"{sorted(missing)}, unknown {sorted(extra)}")
    name, key, values = entry["name"], entry["key"], entry["values"]
    if not isinstance(name, str) or not name.strip() or name in seen:
        raise BadValue("name", name, "a factor needs a non-empty name of its own (not 'base')")
    section, _, field_name = key.partition(".") if isinstance(key, str) else ("", "", "")
    known = ({f.name for f in dataclasses.fields(SECTIONS[section])} if section in SECTIONS
             else set())
    if field_name not in known:
        keys = ", ".join(sorted(known)) or "model.kernel, train.lr, ..."
        raise BadValue(f"factor {name!r}: key", key, "must start with 'model.' or 'train.' and "
                       f"name a known key ({keys})")
    if not isinstance(values, list) or not values:
        raise BadValue(f"factor {name!r}: values", values, "must be a non-empty list")
    seen.add(name)
    return Factor(name, key, tuple(values))


def load_study(path: str) -> Study:
    """The study file at ``path``, every value checked (ValueError naming the file, the table
    and the key with its allowed range); nothing is read but this file."""
    values = read_toml(path)
    try:
        extra = sorted(set(values) - {"study", "base", "factor"})
        if extra:
            raise ValueError(f"unknown table(s) {extra}; expected [study], [base.model], "
                             f"[base.train] and [[factor]]")
        settings = values.get("study", {})
        unknown = sorted(set(settings) - set(STUDY_KEYS))
        if unknown:
            raise ValueError(f"unknown key(s) {unknown} in [study]; known: {sorted(STUDY_KEYS)}")
        try:
            _check_settings(settings)
        except BadValue as err:
            raise ValueError(f"[study] {err}") from None
        seen = {"base"}  # the base condition's own name
        try:
            factors = tuple(_factor(entry, seen) for entry in values.get("factor", []))
        except BadValue as err:
            raise ValueError(f"[[factor]] {err}") from None
        settings = dict(settings)
        if "seeds" in settings:
            settings["seeds"] = tuple(settings["seeds"])
        study = Study(base=values.get("base", {}), factors=factors, **settings)
        study.conditions()  # every condition must be a valid configuration: fail before running
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return study


# ---- running ----------------------------------------------------------------------------

def _split(name: str, labels, patients, folds: int):
    from ..crops.archive import grouped_folds, proposal_holdout
    if name == "proposal":
        return proposal_holdout(patients)
    fold, seed = (int(v) for v in re.match(r"fold(\d+)-seed(\d+)", name).groups())
    return grouped_folds(labels, patients, folds, seed)[fold - 1]


def train_job(job: dict, data, out: str) -> dict:
    """Train one job's run on ``data`` (a KneeDataset) into ``out``; returns the record."""
    from ..training.run import train_run
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
    from ..crops.archive import load_dataset
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

    def test_to_train(self) -> float:
        """Mean over the fold runs of test patients / training patients (validation included:
        the training side of the split): the ``n_test / n_train`` of the corrected t-test."""
        sides = [r["patients"] for s, r in self.runs.items() if s != "proposal" and "patients" in r]
        ratios = [len(p["test"]) / (len(p["train"]) + len(p["validation"])) for p in sides]
        return float(np.mean(ratios)) if ratios else float("nan")


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
    """The corrected resampled t-test (``stats.corrected_t_test``) of the differences
    (other - base) over the fold splits both finished: ``pairs``, ``mean_difference``,
    ``sd``, ``df``, ``p_value`` and ``test_to_train``."""
    splits = sorted(s for s in set(base.runs) & set(other.runs) if s != "proposal")
    diff = other.values(metric, splits) - base.values(metric, splits)
    ratio = base.test_to_train()
    result = corrected_t_test(diff, ratio)
    return {"pairs": result["runs"], "mean_difference": result["mean"], "sd": result["sd"],
            "df": result["df"], "p_value": result["p"], "test_to_train": ratio}
