"""Grade the two knees of one scan with a trained run, and show where the network looked.

``predict_scan`` reads the scan (``bonescan.read_scan``), finds the knee window, cuts the two
crops as the data set does (anterior view, second knee mirrored, per-scan scaling), runs the
run's model in evaluation mode and returns each knee's grade and probabilities.

Grad-CAM (Selvaraju et al. 2017) on the last conv block: with ``A`` the block's ReLU output
``(C, h, w)`` and ``y`` the predicted class's logit, the weights are ``a_c = mean_{h,w} dy/dA_c``
and the map is ``ReLU(sum_c a_c A_c)``, scaled to [0, 1] and resized to the 128 x 128 crop.
"""
from __future__ import annotations

import os

import numpy as np
from scipy import ndimage

import minicnn

from ..crops.knee import cut_crops, locate_knees
from ..grades import NAMES
from ..scans.bonescan import read_scan
from ..training.config import config_from_dict
from ..training.models import build_model


def load_run(checkpoint: str):
    """The model of a training run's ``checkpoint.npz``, in evaluation mode, and its config."""
    saved = minicnn.load(checkpoint)
    if not isinstance(saved, dict) or "model" not in saved or "config" not in saved:
        raise ValueError(f"{checkpoint} is not a training run's checkpoint (no model and config)")
    config = config_from_dict(saved["config"], checkpoint)
    model = build_model(config.model)
    model.load_state_dict(saved["model"])
    return model.eval(), config


def conv_blocks(model) -> list:
    """The model's conv blocks (children named ``block1``, ``block2``, ...), in order."""
    return [m for name, m in model.named_children() if name.startswith("block")]


def knee_crops(record, input_size: int):
    """The knee window of a scan and its two crops ``(2, views, size, size)`` at the
    model's input size, cut as the data set cuts them."""
    window = locate_knees(record.counts[0])
    crops = cut_crops(record.counts, window.start)
    if crops.shape[-1] != input_size:
        zoom = (1, 1, input_size / crops.shape[-2], input_size / crops.shape[-1])
        crops = ndimage.zoom(crops, zoom, order=1)
    return window, crops


def grad_cam(model, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities (K, 5), maps (K, H, W))`` for crops ``(K, C, H, W)``; see the module doc."""
    blocks = conv_blocks(model)
    x = minicnn.from_numpy(np.ascontiguousarray(crops, dtype=np.float32))
    with minicnn.no_grad():
        for block in blocks[:-1]:
            x = block(x)
        *features, pool = list(blocks[-1])
        for layer in features:
            x = layer(x)
    activations = minicnn.Tensor(x.array, requires_grad=True)
    logits = model.fc(model.flatten(pool(activations)))
    probabilities = minicnn.softmax(logits.detach(), 1).numpy()
    chosen = probabilities.argmax(axis=1)
    logits[np.arange(len(chosen)), chosen].sum().backward()
    weights = activations.grad.numpy().mean(axis=(2, 3), keepdims=True)
    maps = np.maximum((weights * activations.array).sum(axis=1), 0)
    maps /= np.maximum(maps.max(axis=(1, 2), keepdims=True), 1e-12)
    size = crops.shape[-2:]
    resized = np.stack([ndimage.zoom(m, (size[0] / m.shape[0], size[1] / m.shape[1]), order=1)
                        for m in maps])
    return probabilities, np.clip(resized, 0, 1)


def predict_scan(checkpoint: str, scan: str, out_png: str | None = None, pseudonyms=None) -> dict:
    """Grades and probabilities of both knees; with ``out_png`` also the Grad-CAM overlay.
    With ``pseudonyms`` the scan is named by its file pseudonym. A bad scan raises
    ``bonescan.ScanError`` with the reader's reason."""
    model, config = load_run(checkpoint)
    record = read_scan(scan, pseudonyms, hide_file_name=pseudonyms is not None)
    return predict_record(model, config, record, out_png)


def predict_record(model, config, record, out_png: str | None = None) -> dict:
    """:func:`predict_scan` for a loaded run and a scan already read."""
    window, crops = knee_crops(record, config.model.input_size)
    probabilities, maps = grad_cam(model, crops)
    knees = [{"side": side, "columns": "0-127" if side == 0 else "128-255",
              "grade": int(p.argmax()), "probabilities": p.round(4).tolist(),
              "label": None if record.labels[side] < 0 else record.labels[side]}
             for side, p in enumerate(probabilities)]
    if out_png:
        _draw(record, window, crops, maps, knees, out_png)
    return {"file": record.file, "window_start": window.start, "confidence": window.confidence,
            "knees": knees}


def _draw(record, window, crops, maps, knees, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig = plt.figure(figsize=(9, 6))
    grid = fig.add_gridspec(2, 3, width_ratios=[1, 1.4, 1.4])
    scan = fig.add_subplot(grid[:, 0])
    scan.imshow(np.sqrt(record.counts[0]), cmap="gray_r", aspect="auto")
    scan.add_patch(Rectangle((-0.5, window.start - 0.5), 256, 128, fill=False, color="red"))
    scan.set_title(record.file, fontsize=9)
    scan.axis("off")
    for side, knee in enumerate(knees):
        for row, (title, overlay) in enumerate((("crop", False), ("Grad-CAM", True))):
            ax = fig.add_subplot(grid[row, 1 + side])
            ax.imshow(crops[side, 0], cmap="gray_r")
            if overlay:
                ax.imshow(maps[side], cmap="jet", alpha=0.45, vmin=0, vmax=1)
            truth = "" if knee["label"] is None else f", labelled KL{knee['label']}"
            ax.set_title(f"knee {side + 1} ({knee['columns']}) {title}\n"
                         f"predicted KL{knee['grade']} {NAMES[knee['grade']]} "
                         f"({max(knee['probabilities']):.0%}){truth}", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
