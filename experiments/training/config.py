"""The configuration of one training run: ``[model]`` (:class:`.models.ModelConfig`) and
``[train]`` (:class:`TrainConfig`) tables of a TOML file, every value checked on creation."""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import asdict, dataclass, field

from ..config_checks import BadValue, boolean, choice, integer, number, read_toml
from .models import ModelConfig
from .optimizers import OPTIMIZERS


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (the ``[train]`` table); the defaults are the proposal's base (batch
    32, 100 epochs, SGD, lr 1e-3)."""

    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 0.0
    class_weights: bool = False
    augment: bool = True
    max_shift: int = 4
    rotate_degrees: float = 5.0
    thin_to: float = 0.5
    intensity_jitter: float = 0.1
    validation_fraction: float = 0.15
    seed: int = 0
    bootstrap_rounds: int = 200

    def __post_init__(self):
        integer("epochs", self.epochs, 1, 100_000)
        integer("batch_size", self.batch_size, 1, 65_536)
        number("lr", self.lr, 0, math.inf, low_open=True)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        number("momentum", self.momentum, 0, 1, high_open=True)
        number("weight_decay", self.weight_decay, 0, math.inf)
        for key in ("class_weights", "augment"):
            boolean(key, getattr(self, key))
        integer("max_shift", self.max_shift, 0, 64)
        number("rotate_degrees", self.rotate_degrees, 0, 180)
        number("thin_to", self.thin_to, 0, 1, low_open=True)
        number("intensity_jitter", self.intensity_jitter, 0, 1, high_open=True)
        number("validation_fraction", self.validation_fraction, 0, 1, high_open=True)
        integer("seed", self.seed, 0, 2 ** 32 - 1)
        integer("bootstrap_rounds", self.bootstrap_rounds, 1, 1_000_000)


@dataclass(frozen=True)
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self)))  # tuples -> lists: the form saved and compared


def config_from_dict(values: dict, where: str = "configuration", prefix: str = "") -> RunConfig:
    """A RunConfig from ``{'model': {...}, 'train': {...}}``. Unknown keys and every value
    outside its range are ValueErrors naming ``where`` (the file), the table
    (``[<prefix>model]``) and the key."""
    parts = {}
    extra = sorted(set(values) - {"model", "train"})
    if extra:
        raise ValueError(f"{where}: unknown table(s) {extra}; expected [{prefix}model] and "
                         f"[{prefix}train]")
    for section, kind in (("model", ModelConfig), ("train", TrainConfig)):
        given = values.get(section, {})
        if not isinstance(given, dict):
            raise ValueError(f"{where}: {prefix}{section} must be a table [{prefix}{section}]")
        given = dict(given)
        known = {f.name for f in dataclasses.fields(kind)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown} in [{prefix}{section}]; "
                             f"known: {sorted(known)}")
        if "channels" in given:
            if not isinstance(given["channels"], (list, tuple)):
                raise ValueError(f"{where}: [{prefix}model] "
                                 f"{BadValue('channels', given['channels'], 'must be a list')}")
            given["channels"] = tuple(given["channels"])
        try:
            parts[section] = kind(**given)
        except BadValue as err:
            raise ValueError(f"{where}: [{prefix}{section}] {err}") from None
    return RunConfig(**parts)


def load_config(path: str) -> RunConfig:
    return config_from_dict(read_toml(path), where=path)
