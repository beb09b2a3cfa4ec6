"""One training run: a seeded, resumable run of one configuration on one patient-level split.

``train_run`` trains on the training patients minus a validation share (patients again),
evaluates validation and test knees after every epoch, and keeps in ``OUT/``:

- ``checkpoint.npz`` after every epoch (model, optimizer, history, the shuffling and
  augmentation generator's state, the best epoch so far), written atomically: a run that is
  killed resumes from its last finished epoch and ends exactly where an uninterrupted run
  with the same seed ends;
- ``record.json`` when the run ends: configuration, status (``finished`` or ``diverged``
  with its message), per-epoch history, the best epoch by validation quadratic-weighted
  kappa (test patients never choose anything), the test metrics at that epoch with
  patient-bootstrap 95% intervals, the test knees' predictions (their index in the crops
  archive, patient pseudonym, grade and predicted probabilities: a study pools them over
  folds), the patients (pseudonyms) of each side and the pseudonym key's fingerprint
  (``pseudonym_key``).

A loss that turns NaN, infinite or larger than ``DIVERGED_LOSS`` stops the run with a clear
message, recorded as ``diverged`` (batch norm keeps a blown-up network's loss finite, so
NaN alone would miss most divergences). Configurations are TOML files with a ``[model]`` and a ``[train]`` table.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage

import minicnn
from minicnn import nn, optim

from ..atomic import write_json
from ..config_checks import BadValue, boolean, choice, integer, number, read_toml
from .metrics import bootstrap_intervals, grade_metrics
from .models import ModelConfig, build_model

OPTIMIZERS = ("sgd", "momentum", "adagrad", "adam")
DIVERGED_LOSS = 1e4  # a cross-entropy this large means logits thousands apart: the run blew up


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; the defaults are the proposal's base (batch 32, 100 epochs, SGD, lr 1e-3)."""

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


class TrainingDiverged(RuntimeError):
    """The loss became NaN, infinite or absurdly large."""


def make_optimizer(config: TrainConfig, parameters):
    params = list(parameters)
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "momentum":
        return optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    if config.optimizer == "adagrad":
        return optim.Adagrad(params, lr=config.lr, weight_decay=config.weight_decay)
    return optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


def validation_split(patients: np.ndarray, train: np.ndarray, fraction: float, seed: int):
    """Split the training indices by patient into (fit, validation)."""
    ids = np.unique(patients[train])
    count = int(round(fraction * len(ids)))
    if count == 0:
        return train, train[:0]
    held = np.random.default_rng(seed).choice(ids, size=count, replace=False)
    inside = np.isin(patients[train], held)
    return train[~inside], train[inside]


def class_weights(labels: np.ndarray, classes: int = 5) -> np.ndarray:
    """``n / (classes * count_c)``: each grade weighs as much in the loss (0 for absent grades)."""
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    return np.where(counts > 0, len(labels) / (classes * np.maximum(counts, 1)), 0.0).astype(np.float32)


def augment(batch: np.ndarray, rng: np.random.Generator, config: TrainConfig,
            scales: np.ndarray | None = None) -> np.ndarray:
    """Per image: Poisson count thinning (when ``scales``, the counts per unit of each
    channel, are known: keep each count with probability ``p ~ U(thin_to, 1)`` and divide by
    ``p``, i.e. the same scan at a lower dose), a rotation of up to ``rotate_degrees``, a
    whole-pixel shift of up to ``max_shift`` (zero fill), and a scaling by ``1 +- intensity_jitter``.

    No left-right flip: the crops are mirrored so that every knee shows its medial side at
    the same edge, and medial disease is commoner; a flip would blur that."""
    out = np.zeros_like(batch)
    s = config.max_shift
    h, w = batch.shape[-2:]
    for k, image in enumerate(batch):
        if scales is not None and config.thin_to < 1:
            keep = rng.uniform(config.thin_to, 1.0)
            counts = np.rint(image * scales[k][:, None, None]).astype(np.int64)
            image = (rng.binomial(counts, keep) / (keep * scales[k][:, None, None])).astype(batch.dtype)
        if config.rotate_degrees:
            angle = rng.uniform(-config.rotate_degrees, config.rotate_degrees)
            image = ndimage.rotate(image, angle, axes=(1, 2), reshape=False, order=1, mode="constant")
        dy, dx = rng.integers(-s, s + 1, size=2)
        ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
        xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
        out[k, :, yd, xd] = image[:, ys, xs]
    scale = 1 + rng.uniform(-config.intensity_jitter, config.intensity_jitter, size=(len(batch), 1, 1, 1))
    return (out * scale).astype(batch.dtype)


def predict(model: nn.Module, images: np.ndarray, batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    """Class probabilities (K, classes) in evaluation mode."""
    model.eval()
    parts = []
    with minicnn.no_grad():
        for start in range(0, len(images), batch_size):
            batch = minicnn.from_numpy(np.ascontiguousarray(images[start:start + batch_size])).to(device)
            parts.append(minicnn.softmax(model(batch), 1).cpu().numpy().astype(np.float64))
    model.train()
    return np.concatenate(parts) if parts else np.zeros((0, 5))


def _scores(labels, probabilities) -> tuple[float, float]:
    if len(labels) == 0:
        return float("nan"), float("nan")
    result = grade_metrics(labels, probabilities)
    return result["accuracy"], result["qwk"]


def train_run(config: RunConfig, images: np.ndarray, labels: np.ndarray, patients: np.ndarray,
              train: np.ndarray, test: np.ndarray, out: str, progress: bool = True,
              on_batch=None, device: str = "cpu", scales: np.ndarray | None = None,
              key_fingerprint: str | None = None) -> dict:
    """Train ``config`` on knees ``train``, evaluate on ``test``; see the module docstring.

    ``device`` is 'cpu' (Numba kernels) or 'cuda' (CuPy); ``scales`` (K, C), the data set's
    counts per unit, enables count thinning in the augmentation; ``key_fingerprint``, the
    pseudonym key's (the crops archive's), goes into the record. ``on_batch(epoch, batch)`` is
    called after every optimizer step (tests use it to kill a run). Returns the record that is
    also written to ``OUT/record.json``.
    """
    from tqdm import tqdm

    if set(patients[train]) & set(patients[test]):
        raise ValueError("train_run: a patient is on both the training and the test side")
    os.makedirs(out, exist_ok=True)
    record_path, checkpoint_path = os.path.join(out, "record.json"), os.path.join(out, "checkpoint.npz")
    settings = config.to_dict()
    cfg = config.train
    fit, validation = validation_split(patients, train, cfg.validation_fraction, cfg.seed)

    minicnn.manual_seed(cfg.seed)
    model = build_model(config.model).to(device)
    optimizer = make_optimizer(cfg, model.parameters())
    weight = class_weights(labels[fit]) if cfg.class_weights else None
    criterion = nn.CrossEntropyLoss(weight=None if weight is None else minicnn.tensor(weight).to(device))
    rng = np.random.default_rng(cfg.seed)
    history, best = [], {"epoch": -1, "score": -math.inf, "test_probabilities": np.zeros((len(test), 5))}
    start_epoch = 0
    if os.path.exists(checkpoint_path):
        saved = minicnn.load(checkpoint_path)
        if saved["config"] != settings:
            raise ValueError(f"{checkpoint_path} belongs to another configuration; remove it or use "
                             f"another output folder")
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        rng.bit_generator.state = saved["rng"]
        history, best, start_epoch = saved["history"], saved["best"], saved["epoch"]

    status, message, started = "finished", "", time.perf_counter()
    bar = tqdm(range(start_epoch, cfg.epochs), desc=os.path.basename(out) or "run", unit="epoch",
               disable=not progress, initial=start_epoch, total=cfg.epochs)
    try:
        for epoch in bar:
            model.train()
            order = rng.permutation(fit)
            total_loss, correct = 0.0, 0
            for batch, start in enumerate(range(0, len(order), cfg.batch_size)):
                index = order[start:start + cfg.batch_size]
                x = images[index]
                if cfg.augment:
                    x = augment(x, rng, cfg, None if scales is None else scales[index])
                y = minicnn.from_numpy(labels[index]).to(device)
                optimizer.zero_grad()
                logits = model(minicnn.from_numpy(np.ascontiguousarray(x)).to(device))
                loss = criterion(logits, y)
                value = loss.item()
                if not value < DIVERGED_LOSS:  # also catches NaN
                    raise TrainingDiverged(f"the loss became {value:.3g} at epoch {epoch + 1}, batch {batch + 1} "
                                           f"(optimizer {cfg.optimizer}, lr {cfg.lr}): lower the learning rate")
                loss.backward()
                optimizer.step()
                total_loss += value * len(index)
                correct += int((logits.argmax(1).cpu().numpy() == labels[index]).sum())
                if on_batch is not None:
                    on_batch(epoch, batch)
            val_probabilities = predict(model, images[validation], device=device)
            test_probabilities = predict(model, images[test], device=device)
            val_acc, val_qwk = _scores(labels[validation], val_probabilities)
            test_acc, test_qwk = _scores(labels[test], test_probabilities)
            history.append({"epoch": epoch + 1, "train_loss": total_loss / len(order),
                            "train_accuracy": correct / len(order), "val_accuracy": val_acc,
                            "val_qwk": val_qwk, "test_accuracy": test_acc, "test_qwk": test_qwk})
            score = val_qwk if np.isfinite(val_qwk) else -math.inf
            if len(validation) == 0 or score > best["score"]:
                best = {"epoch": epoch + 1, "score": score, "test_probabilities": test_probabilities}
            minicnn.save({"config": settings, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                          "rng": rng.bit_generator.state, "history": history, "best": best,
                          "epoch": epoch + 1}, checkpoint_path)
            bar.set_postfix(loss=f"{history[-1]['train_loss']:.3f}", acc=f"{history[-1]['train_accuracy']:.2f}",
                            val_qwk=f"{val_qwk:.2f}")
    except TrainingDiverged as err:
        status, message = "diverged", str(err)
    record = {"config": settings, "status": status, "message": message, "epochs_done": len(history),
              "history": history, "best_epoch": best["epoch"], "seconds": time.perf_counter() - started,
              "pseudonym_key": key_fingerprint,
              "patients": {"train": sorted(set(patients[fit].tolist())),
                           "validation": sorted(set(patients[validation].tolist())),
                           "test": sorted(set(patients[test].tolist()))}}
    if status == "finished" and len(test):
        probabilities = np.asarray(best["test_probabilities"])
        record["test"] = grade_metrics(labels[test], probabilities)
        record["test_intervals"] = bootstrap_intervals(labels[test], probabilities, patients[test],
                                                       rounds=cfg.bootstrap_rounds, seed=cfg.seed)
        record["test_predictions"] = {  # per knee, for pooling the folds' out-of-fold predictions
            "index": test.tolist(), "patients": patients[test].tolist(),
            "labels": labels[test].tolist(), "probabilities": np.round(probabilities, 6).tolist()}
    write_json(record_path, record)
    return record
