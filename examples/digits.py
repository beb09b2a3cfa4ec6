"""Train a small CNN with minicnn on scikit-learn's handwritten digits and report test accuracy.

The data set ships inside scikit-learn: 1,797 grey 8x8 images of the digits 0-9, pixel
values 0..16. Split: stratified 80/20 with a fixed seed. Network::

    (N,1,8,8) -> Conv2d(1,16,3,p=1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)    -> (N,16,4,4)
              -> Conv2d(16,32,3,p=1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)   -> (N,32,2,2)
              -> Flatten -> Linear(128, 10)                                   -> logits (N,10)

Run: ``python -m examples.digits [--epochs 15] [--seed 0]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import minicnn
from minicnn import nn, optim
from minicnn.data import DataLoader, TensorDataset


def digits_split(seed: int = 0):
    """``(x_train, x_test, y_train, y_test)``: images (N, 1, 8, 8) float32 scaled to [0, 1],
    int64 labels; stratified 80/20."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    return train_test_split(images, digits.target.astype(np.int64), test_size=0.2,
                            stratify=digits.target, random_state=seed)


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` whose arg-max logit equals the label (evaluation mode)."""
    model.eval()
    with minicnn.no_grad():
        _, predicted = minicnn.max(model(minicnn.from_numpy(images)), 1)
    model.train()
    return float((predicted.numpy() == labels).mean())


def train(epochs: int = 15, seed: int = 0, batch_size: int = 32, lr: float = 1e-2,
          progress: bool = True) -> dict:
    """Train from a fixed seed; returns the final train and test accuracy and the loss history."""
    minicnn.manual_seed(seed)
    x_train, x_test, y_train, y_test = digits_split(seed)
    model = build_model()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True)
    history = []
    bar = tqdm(range(epochs), desc="digits", unit="epoch", disable=not progress)
    for _ in bar:
        total = 0.0
        for inputs, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        history.append(total / len(y_train))
        bar.set_postfix(loss=f"{history[-1]:.4f}")
    return {"train_accuracy": accuracy(model, x_train, y_train),
            "test_accuracy": accuracy(model, x_test, y_test), "loss_history": history,
            "n_train": len(y_train), "n_test": len(y_test)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = train(args.epochs, args.seed)
    print(f"digits: {result['n_train']} train / {result['n_test']} test images, "
          f"{args.epochs} epochs, {time.perf_counter() - start:.1f} s")
    print(f"train accuracy {100 * result['train_accuracy']:.2f}%")
    print(f"test accuracy {100 * result['test_accuracy']:.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
