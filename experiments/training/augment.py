"""Augmentation of a batch of knee crops during training."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from .config import TrainConfig


def augment(batch: np.ndarray, rng: np.random.Generator, config: TrainConfig,
            scales: np.ndarray | None = None) -> np.ndarray:
    """Per image: Poisson count thinning (when ``scales``, the counts per unit of each
    channel, are known: keep each count with probability ``p ~ U(thin_to, 1)`` and divide by
    ``p``, i.e. the same scan at a lower dose), a rotation of up to ``rotate_degrees``, a
    whole-pixel shift of up to ``max_shift`` (zero fill), and a scaling by
    ``1 +- intensity_jitter``. ``batch`` (N, C, H, W), ``scales`` (N, C); returns a new batch.

    No left-right flip: the crops are mirrored so that every knee shows its medial side at
    the same edge, and medial disease is commoner; a flip would blur that."""
    out = np.zeros_like(batch)
    s = config.max_shift
    h, w = batch.shape[-2:]
    for k, image in enumerate(batch):
        if scales is not None and config.thin_to < 1:
            keep = rng.uniform(config.thin_to, 1.0)
            counts = np.rint(image * scales[k][:, None, None]).astype(np.int64)
            thinned = rng.binomial(counts, keep) / (keep * scales[k][:, None, None])
            image = thinned.astype(batch.dtype)
        if config.rotate_degrees:
            angle = rng.uniform(-config.rotate_degrees, config.rotate_degrees)
            image = ndimage.rotate(image, angle, axes=(1, 2), reshape=False, order=1,
                                   mode="constant")
        dy, dx = rng.integers(-s, s + 1, size=2)
        ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
        xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
        out[k, :, yd, xd] = image[:, ys, xs]
    scale = 1 + rng.uniform(-config.intensity_jitter, config.intensity_jitter,
                            size=(len(batch), 1, 1, 1))
    return (out * scale).astype(batch.dtype)
