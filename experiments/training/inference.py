"""A model's class probabilities for many images, in batches, in evaluation mode."""
from __future__ import annotations

import numpy as np

import minicnn
from minicnn import nn


def predict(model: nn.Module, images: np.ndarray, classes: int, batch_size: int = 64,
            device: str = "cpu") -> np.ndarray:
    """Softmax probabilities ``(K, classes)`` float64 of ``images`` ``(K, C, H, W)``, in
    batches of ``batch_size`` on ``device``; the model is left in training mode."""
    model.eval()
    parts = []
    with minicnn.no_grad():
        for start in range(0, len(images), batch_size):
            batch = np.ascontiguousarray(images[start:start + batch_size])
            logits = model(minicnn.from_numpy(batch).to(device))
            parts.append(minicnn.softmax(logits, 1).cpu().numpy().astype(np.float64))
    model.train()
    return np.concatenate(parts) if parts else np.zeros((0, classes))
