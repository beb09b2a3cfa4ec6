"""A study's records collected per condition, and each condition compared with the base."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from ..splits import PROPOSAL
from ..training.metrics import SCALARS
from .grid import Study, slug
from .stats import corrected_t_test

METRICS = ("qwk",) + tuple(m for m in SCALARS if m != "qwk")  # the study's measure first


@dataclass
class ConditionResult:
    factor: str
    label: str
    runs: dict = field(default_factory=dict)  # split -> record

    def values(self, metric: str, splits=None) -> np.ndarray:
        """The test metric of every finished fold run (not the proposal's split), by split."""
        keys = [s for s in (splits or sorted(self.runs)) if s != PROPOSAL]
        return np.array([self.runs[s]["test"][metric]
                         if self.runs.get(s, {}).get("status") == "finished" else np.nan
                         for s in keys])

    def test_to_train(self) -> float:
        """Mean over the fold runs of test patients / training patients (validation included:
        the training side of the split): the ``n_test / n_train`` of the corrected t-test."""
        sides = [r["patients"] for s, r in self.runs.items() if s != PROPOSAL and "patients" in r]
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
    splits = sorted(s for s in set(base.runs) & set(other.runs) if s != PROPOSAL)
    diff = other.values(metric, splits) - base.values(metric, splits)
    ratio = base.test_to_train()
    result = corrected_t_test(diff, ratio)
    return {"pairs": result["runs"], "mean_difference": result["mean"], "sd": result["sd"],
            "df": result["df"], "p_value": result["p"], "test_to_train": ratio}
