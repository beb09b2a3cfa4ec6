"""Pictures of what a trained run computes on one scan: ``minicnn-knee explain``.

Writes into ``OUT/``: ``gradcam.png`` (the knee window and each knee's Grad-CAM, as
``predict`` draws it), ``filters-block1.png`` (the first conv layer's filters, one small
image per output channel and input channel), and ``features-block<k>.png`` for every block
(the first knee's feature maps after Conv -> BatchNorm -> ReLU -> pool, up to 16 channels).
"""
from __future__ import annotations

import os

import numpy as np

import minicnn

from ..scans.bonescan import read_scan
from .predict import conv_blocks, knee_crops, load_run, predict_record


def _grid(images: np.ndarray, titles: list[str], path: str, suptitle: str, cmap: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    columns = min(8, len(images))
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.7 * rows + 0.4),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, title in zip(axes.ravel(), images, titles):
        limit = np.abs(image).max() or 1.0
        ax.imshow(image, cmap=cmap, vmin=-limit if cmap == "RdBu_r" else 0, vmax=limit)
        ax.set_title(title, fontsize=7)
    fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def explain(checkpoint: str, scan: str, out: str, pseudonyms=None) -> list[str]:
    """Write the pictures described above; returns their paths. With ``pseudonyms`` the
    scan is named by its file pseudonym."""
    os.makedirs(out, exist_ok=True)
    written = [os.path.join(out, "gradcam.png")]
    model, config = load_run(checkpoint)
    record = read_scan(scan, pseudonyms, pseudonyms is not None)
    predict_record(model, config, record, written[0])
    blocks = conv_blocks(model)
    weights = blocks[0][0].weight.detach().numpy()  # (F, C, kh, kw)
    path = os.path.join(out, "filters-block1.png")
    titles = [f"filter {f} ch {c}" for f in range(weights.shape[0])
              for c in range(weights.shape[1])]
    _grid(weights.reshape(-1, *weights.shape[2:]), titles,
          path, "first conv layer's filters (red +, blue -)", "RdBu_r")
    written.append(path)
    x = minicnn.from_numpy(np.ascontiguousarray(knee_crops(record, config.model.input_size)[1][:1]))
    with minicnn.no_grad():
        for k, block in enumerate(blocks, 1):
            x = block(x)
            maps = x.numpy()[0][:16]
            path = os.path.join(out, f"features-block{k}.png")
            _grid(maps, [f"channel {c}" for c in range(len(maps))], path,
                  f"{record.file}, knee 1: feature maps after block {k} {tuple(x.shape[1:])}",
                  "magma")
            written.append(path)
    return written
