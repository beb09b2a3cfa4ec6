"""A CIFAR-10-style classifier as the 60-minute blitz trains one (SGD with momentum,
CrossEntropyLoss, ``torch.max(outputs.data, 1)``, per-class accuracy), with a OneCycleLR
schedule, on scikit-learn's digits made into 3-channel 20x20 images in place of CIFAR-10.
Written against torch; the compat test runs it as it is and with its imports rewritten."""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

classes = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


class Net(nn.Module):
    """Two 5x5 convolutions, each followed by ReLU and 2x2 max pooling, then three dense
    layers down to ten class scores."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 2 * 2, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        for conv in (self.conv1, self.conv2):
            x = self.pool(F.relu(conv(x)))
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def colour_digits():
    """Digits as (N, 3, 20, 20) images: each 8x8 scan doubled, padded by 2 and tinted a
    little differently in each channel, normalised to [-1, 1] as the tutorial's transform."""
    digits = load_digits()
    images = np.pad(np.kron(digits.images / 16.0, np.ones((2, 2))), ((0, 0), (2, 2), (2, 2)))
    tint = np.array([1.0, 0.8, 0.6]).reshape(1, 3, 1, 1)
    x = torch.tensor(images[:, None] * tint, dtype=torch.float32)
    x = (x - 0.5) / 0.5
    return x, torch.tensor(digits.target)


def main():
    torch.manual_seed(0)
    x, y = colour_digits()
    train_loader = DataLoader(TensorDataset(x[:1200], y[:1200]), batch_size=16, shuffle=False)
    test_loader = DataLoader(TensorDataset(x[1200:], y[1200:]), batch_size=16, shuffle=False)

    net = Net()
    if os.environ.get("COMPAT_INIT_WEIGHTS"):
        net.load_state_dict(torch.load(os.environ["COMPAT_INIT_WEIGHTS"], weights_only=True))

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    epochs, report_every = 2, 25
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, epochs=epochs,
                                              steps_per_epoch=len(train_loader))
    for epoch in range(epochs):
        window = 0.0  # summed loss of the last `report_every` batches
        for step, (images, labels) in enumerate(train_loader, 1):
            optimizer.zero_grad()
            loss = criterion(net(images), labels)
            loss.backward()
            optimizer.step()
            scheduler.step()
            window += loss.item()
            if step % report_every == 0:
                last_window_loss = window / report_every
                print(f"epoch {epoch + 1} batch {step}: mean loss {last_window_loss:.3f}")
                window = 0.0

    torch.save(net.state_dict(), "./digits_net.pth")
    net = Net()
    net.load_state_dict(torch.load("./digits_net.pth", weights_only=True))

    right = seen = 0
    with torch.no_grad():
        for images, labels in test_loader:
            _, predicted = torch.max(net(images).data, 1)
            seen += labels.size(0)
            right += (predicted == labels).sum().item()
    print(f"{right} of {seen} held-out images right ({100 * right // seen} %)")

    hits = {name: 0 for name in classes}
    counts = {name: 0 for name in classes}
    with torch.set_grad_enabled(False):
        for images, labels in test_loader:
            _, predicted = torch.max(net(images), 1)
            for label, guess in zip(labels, predicted):
                counts[classes[label]] += 1
                hits[classes[label]] += int(label == guess)
    per_class = {name: hits[name] / counts[name] for name in classes}
    for name, share in per_class.items():
        print(f"class {name:5s}: {100 * share:.1f} %")
    return {"train_loss": last_window_loss, "accuracy": right / seen,
            "worst_class_accuracy": min(per_class.values()), "lr": scheduler.get_last_lr()[0]}


if __name__ == "__main__":
    main()
