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
NaN alone would miss most divergences). Configurations (:mod:`.config`) are TOML files with
a ``[model]`` and a ``[train]`` table.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

import minicnn
from minicnn import nn

from ..atomic import write_json
from ..splits import validation_split
from .augment import augment
from .config import RunConfig, TrainConfig
from .inference import predict
from .metrics import bootstrap_intervals, grade_metrics
from .models import build_model
from .optimizers import make_optimizer

DIVERGED_LOSS = 1e4  # a cross-entropy this large means logits thousands apart: the run blew up


class TrainingDiverged(RuntimeError):
    """The loss became NaN, infinite or absurdly large."""


def class_weights(labels: np.ndarray, classes: int) -> np.ndarray:
    """``n / (classes * count_c)``: each grade weighs as much in the loss (0 for absent grades)."""
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (classes * np.maximum(counts, 1)), 0.0)
    return weights.astype(np.float32)


def _scores(labels, probabilities) -> tuple[float, float]:
    if len(labels) == 0:
        return float("nan"), float("nan")
    result = grade_metrics(labels, probabilities)
    return result["accuracy"], result["qwk"]


@dataclass
class _Training:
    """What a run carries from epoch to epoch (and keeps in its checkpoint)."""

    model: nn.Module
    optimizer: object
    criterion: nn.Module
    rng: np.random.Generator
    history: list
    best: dict  # epoch, score (validation QWK) and the test probabilities at the best epoch
    epoch: int = 0  # epochs done


def _start(config: RunConfig, fit_labels: np.ndarray, tests: int, device: str) -> _Training:
    """A fresh model, optimizer and loss, seeded by the configuration's seed."""
    cfg = config.train
    minicnn.manual_seed(cfg.seed)
    model = build_model(config.model).to(device)
    optimizer = make_optimizer(cfg, model.parameters())
    weight = class_weights(fit_labels, config.model.classes) if cfg.class_weights else None
    criterion = nn.CrossEntropyLoss(
        weight=None if weight is None else minicnn.tensor(weight).to(device))
    best = {"epoch": -1, "score": -math.inf,
            "test_probabilities": np.zeros((tests, config.model.classes))}
    return _Training(model, optimizer, criterion, np.random.default_rng(cfg.seed), [], best)


def _resume(state: _Training, checkpoint_path: str, settings: dict) -> None:
    """Continue from ``checkpoint_path`` when it exists (it must hold the same settings)."""
    if not os.path.exists(checkpoint_path):
        return
    saved = minicnn.load(checkpoint_path)
    if saved["config"] != settings:
        raise ValueError(f"{checkpoint_path} belongs to another configuration; remove it or use "
                         f"another output folder")
    state.model.load_state_dict(saved["model"])
    state.optimizer.load_state_dict(saved["optimizer"])
    state.rng.bit_generator.state = saved["rng"]
    state.history, state.best, state.epoch = saved["history"], saved["best"], saved["epoch"]


def _train_epoch(state: _Training, cfg: TrainConfig, images, labels, fit, scales, device: str,
                 on_batch) -> tuple[float, float]:
    """One pass over the ``fit`` knees in a shuffled order; ``(mean loss, accuracy)``.
    TrainingDiverged when a batch's loss is not below ``DIVERGED_LOSS``."""
    state.model.train()
    order = state.rng.permutation(fit)
    total_loss, correct = 0.0, 0
    for batch, start in enumerate(range(0, len(order), cfg.batch_size)):
        index = order[start:start + cfg.batch_size]
        x = images[index]
        if cfg.augment:
            x = augment(x, state.rng, cfg, None if scales is None else scales[index])
        y = minicnn.from_numpy(labels[index]).to(device)
        state.optimizer.zero_grad()
        logits = state.model(minicnn.from_numpy(np.ascontiguousarray(x)).to(device))
        loss = state.criterion(logits, y)
        value = loss.item()
        if not value < DIVERGED_LOSS:  # also catches NaN
            raise TrainingDiverged(f"the loss became {value:.3g} at epoch {state.epoch + 1}, "
                                   f"batch {batch + 1} (optimizer {cfg.optimizer}, lr {cfg.lr}): "
                                   f"lower the learning rate")
        loss.backward()
        state.optimizer.step()
        total_loss += value * len(index)
        correct += int((logits.argmax(1).cpu().numpy() == labels[index]).sum())
        if on_batch is not None:
            on_batch(state.epoch, batch)
    return total_loss / len(order), correct / len(order)


def _evaluate(state: _Training, classes: int, images, labels, validation, test,
              device: str) -> dict:
    """The validation and test scores after an epoch; keeps the best epoch by validation QWK
    (every epoch is the best when there is no validation set)."""
    val_probabilities = predict(state.model, images[validation], classes, device=device)
    test_probabilities = predict(state.model, images[test], classes, device=device)
    val_acc, val_qwk = _scores(labels[validation], val_probabilities)
    test_acc, test_qwk = _scores(labels[test], test_probabilities)
    score = val_qwk if np.isfinite(val_qwk) else -math.inf
    if len(validation) == 0 or score > state.best["score"]:
        state.best = {"epoch": state.epoch, "score": score,
                      "test_probabilities": test_probabilities}
    return {"val_accuracy": val_acc, "val_qwk": val_qwk, "test_accuracy": test_acc,
            "test_qwk": test_qwk}


def _save_checkpoint(state: _Training, path: str, settings: dict) -> None:
    minicnn.save({"config": settings, "model": state.model.state_dict(),
                  "optimizer": state.optimizer.state_dict(), "rng": state.rng.bit_generator.state,
                  "history": state.history, "best": state.best, "epoch": state.epoch}, path)


def _record(state: _Training, settings: dict, status: str, message: str, seconds: float,
            labels, patients, fit, validation, test, cfg: TrainConfig,
            key_fingerprint: str | None) -> dict:
    """The run's record (see the module docstring)."""
    record = {"config": settings, "status": status, "message": message,
              "epochs_done": len(state.history), "history": state.history,
              "best_epoch": state.best["epoch"], "seconds": seconds,
              "pseudonym_key": key_fingerprint,
              "patients": {"train": sorted(set(patients[fit].tolist())),
                           "validation": sorted(set(patients[validation].tolist())),
                           "test": sorted(set(patients[test].tolist()))}}
    if status == "finished" and len(test):
        probabilities = np.asarray(state.best["test_probabilities"])
        record["test"] = grade_metrics(labels[test], probabilities)
        record["test_intervals"] = bootstrap_intervals(labels[test], probabilities, patients[test],
                                                       rounds=cfg.bootstrap_rounds, seed=cfg.seed)
        record["test_predictions"] = {  # per knee, for pooling the folds' out-of-fold predictions
            "index": test.tolist(), "patients": patients[test].tolist(),
            "labels": labels[test].tolist(), "probabilities": np.round(probabilities, 6).tolist()}
    return record


def train_run(config: RunConfig, images: np.ndarray, labels: np.ndarray, patients: np.ndarray,
              train: np.ndarray, test: np.ndarray, out: str, progress: bool = True,
              on_batch=None, device: str = "cpu", scales: np.ndarray | None = None,
              key_fingerprint: str | None = None) -> dict:
    """Train ``config`` on knees ``train``, evaluate on ``test``; see the module docstring.

    ``images`` (N, C, H, W) float32, ``labels`` (N,) grades, ``patients`` (N,) pseudonyms;
    ``train`` and ``test`` index them. ``device`` is 'cpu' (Numba kernels) or 'cuda' (CuPy);
    ``scales`` (N, C), the data set's counts per unit, enables count thinning in the
    augmentation; ``key_fingerprint``, the pseudonym key's (the crops archive's), goes into
    the record. ``on_batch(epoch, batch)`` is called after every optimizer step (tests use it
    to kill a run). Returns the record that is also written to ``OUT/record.json``.
    """
    from tqdm import tqdm

    if set(patients[train]) & set(patients[test]):
        raise ValueError("train_run: a patient is on both the training and the test side")
    os.makedirs(out, exist_ok=True)
    record_path = os.path.join(out, "record.json")
    checkpoint_path = os.path.join(out, "checkpoint.npz")
    settings = config.to_dict()
    cfg = config.train
    fit, validation = validation_split(patients, train, cfg.validation_fraction, cfg.seed)
    state = _start(config, labels[fit], len(test), device)
    _resume(state, checkpoint_path, settings)

    status, message, started = "finished", "", time.perf_counter()
    bar = tqdm(range(state.epoch, cfg.epochs), desc=os.path.basename(out) or "run", unit="epoch",
               disable=not progress, initial=state.epoch, total=cfg.epochs)
    try:
        for _ in bar:
            loss, accuracy = _train_epoch(state, cfg, images, labels, fit, scales, device,
                                          on_batch)
            state.epoch += 1
            scores = _evaluate(state, config.model.classes, images, labels, validation, test,
                               device)
            state.history.append({"epoch": state.epoch, "train_loss": loss,
                                  "train_accuracy": accuracy, **scores})
            _save_checkpoint(state, checkpoint_path, settings)
            bar.set_postfix(loss=f"{loss:.3f}", acc=f"{accuracy:.2f}",
                            val_qwk=f"{scores['val_qwk']:.2f}")
    except TrainingDiverged as err:
        status, message = "diverged", str(err)
    record = _record(state, settings, status, message, time.perf_counter() - started, labels,
                     patients, fit, validation, test, cfg, key_fingerprint)
    write_json(record_path, record)
    return record
