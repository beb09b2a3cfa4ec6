"""A study: the proposal's comparisons as a grid of training runs.

A study file (TOML) holds the base condition (``[base.model]``, ``[base.train]``), the
study settings (``[study]``: ``folds``, ``seeds``, ``proposal_split``, ``workers``, ``name``
and ``bootstrap_rounds``, the rounds of the report's patient bootstrap) and the factors, one
at a time around the base (``[[factor]]`` tables with a ``name``, the ``key`` it changes,
e.g. ``train.batch_size``, and its ``values``). Every condition runs on K
stratified patient-grouped folds for every seed, plus, when asked, the proposal's own split
(the last 20 patients) once.

Each (condition, split) is one job (:mod:`.jobs`), run by an executor (:mod:`.local_executor`
or :mod:`.dask_executor`) into ``OUT/runs/<condition>/<split>/record.json``; :mod:`.results`
collects the records and compares each condition with the base.

Every value of a study file is checked by ``load_study`` (each condition is built, so its
model and training values and the shapes its network allows are checked too) before any scan
is read.
"""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

from ..config_checks import BadValue, boolean, integer, read_toml
from ..splits import PROPOSAL, fold_name
from ..training.config import RunConfig, TrainConfig, config_from_dict
from ..training.models import ModelConfig


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
        names = [fold_name(k, s) for s in self.seeds for k in range(1, self.folds + 1)]
        return names + ([PROPOSAL] if self.proposal_split else [])


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
