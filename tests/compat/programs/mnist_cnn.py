"""An MNIST-style convolutional network trained with Adadelta and StepLR, on scikit-learn's
8x8 digits scaled up to 16x16 in place of MNIST. Written against torch; the compat test runs it
as it is and with its imports rewritten to minicnn."""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    """Two 3x3 convolutions, one 2x2 pooling, two dense layers; log-probabilities out."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc_dropout = 0.5
        self.fc1 = nn.Linear(576, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        features = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        hidden = F.relu(self.fc1(torch.flatten(self.dropout1(features), 1)))
        hidden = F.dropout(hidden, p=self.fc_dropout, training=self.training)
        return F.log_softmax(self.fc2(hidden), dim=1)


def train(settings, model, device, loader, optimizer, epoch):
    """One epoch of Adadelta steps; returns the last batch's loss."""
    model.train()
    for step, (images, labels) in enumerate(loader):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        if step % settings["log_every"] == 0:
            seen = step * len(images)
            print(f"epoch {epoch}: {seen}/{len(loader.dataset)} images, loss {loss.item():.6f}")
    return loss.item()


def test(model, device, loader):
    """Mean loss per image and the share classified right, over ``loader``."""
    model.eval()
    total_loss, right = 0.0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            log_probs = model(images)
            total_loss += F.nll_loss(log_probs, labels, reduction="sum").item()
            guess = log_probs.argmax(dim=1, keepdim=True)
            right += guess.eq(labels.view_as(guess)).sum().item()
    count = len(loader.dataset)
    print(f"held-out digits: mean loss {total_loss / count:.4f}, {right}/{count} right")
    return total_loss / count, right / count


def digits_like_mnist():
    """Digits as (N, 1, 16, 16) float images normalised as MNIST's transform does, and labels."""
    digits = load_digits()
    images = np.kron(digits.images / 16.0, np.ones((2, 2)))
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1)
    x = (x - 0.1307) / 0.3081
    y = torch.tensor(digits.target)
    return x, y


def main():
    # The dropouts stay in the model as written; the compat test runs with p=0 in training
    # (COMPAT_NO_DROPOUT) because torch's and minicnn's random streams differ.
    settings = {"batch": 64, "test_batch": 200, "epochs": 3, "lr": 1.0, "decay": 0.7,
                "log_every": 10}
    torch.manual_seed(1)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    x, y = digits_like_mnist()
    train_loader = DataLoader(TensorDataset(x[:1400], y[:1400]), batch_size=settings["batch"])
    test_loader = DataLoader(TensorDataset(x[1400:], y[1400:]),
                             batch_size=settings["test_batch"])

    model = Net().to(device)
    if os.environ.get("COMPAT_INIT_WEIGHTS"):
        model.load_state_dict(torch.load(os.environ["COMPAT_INIT_WEIGHTS"]))
    if os.environ.get("COMPAT_NO_DROPOUT"):
        model.dropout1.p = model.fc_dropout = 0.0
    optimizer = optim.Adadelta(model.parameters(), lr=settings["lr"])
    scheduler = StepLR(optimizer, step_size=1, gamma=settings["decay"])
    for epoch in range(1, settings["epochs"] + 1):
        last_loss = train(settings, model, device, train_loader, optimizer, epoch)
        test_loss, accuracy = test(model, device, test_loader)
        scheduler.step()

    torch.save(model.state_dict(), "digits_cnn.pt")
    reloaded = Net().to(device)
    reloaded.load_state_dict(torch.load("digits_cnn.pt"))
    _, reloaded_accuracy = test(reloaded, device, test_loader)
    return {"train_loss": last_loss, "test_loss": test_loss, "accuracy": accuracy,
            "reloaded_accuracy": reloaded_accuracy, "lr": scheduler.get_last_lr()[0]}


if __name__ == "__main__":
    main()
