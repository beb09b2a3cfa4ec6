"""A fully connected classifier as the Learn-the-Basics quickstart trains one (nn.Flatten,
nn.Sequential, ``train(dataloader, model, loss_fn, optimizer)``, ``.type(torch.float)``), on
scikit-learn's 8x8 digits in place of FashionMNIST. Written against torch; the compat test
runs it as it is and with its imports rewritten."""
import os

import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

digits = load_digits()
pixels = torch.tensor(digits.images, dtype=torch.float32) / 16.0
targets = torch.tensor(digits.target, dtype=torch.long)
train_set = TensorDataset(pixels[:1500], targets[:1500])
held_out = TensorDataset(pixels[1500:], targets[1500:])
train_loader = DataLoader(train_set, batch_size=64)
test_loader = DataLoader(held_out, batch_size=64)
device = "cuda" if torch.cuda.is_available() else "cpu"


class NeuralNetwork(nn.Module):
    """8x8 image -> 64 inputs -> two hidden layers of 128 with ReLU -> ten class scores."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(8 * 8, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
            nn.Linear(128, 10))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


def train(loader, model, loss_fn, optimizer):
    """One pass of SGD over ``loader``; returns the last batch's loss."""
    model.train()
    for step, (inputs, labels) in enumerate(loader):
        inputs, labels = inputs.to(device), labels.to(device)
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % 10 == 0:
            print(f"batch {step:3d}: loss {loss.item():.6f}")
    return loss.item()


def test(loader, model, loss_fn):
    """The mean batch loss and the share of right answers over ``loader``."""
    model.eval()
    loss_sum, right = 0.0, 0.0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            scores = model(inputs)
            loss_sum += loss_fn(scores, labels).item()
            right += (scores.argmax(1) == labels).type(torch.float).sum().item()
    mean_loss, share = loss_sum / len(loader), right / len(loader.dataset)
    print(f"held out: {100 * share:.1f}% right, mean loss {mean_loss:.6f}")
    return mean_loss, share


def main():
    model = NeuralNetwork().to(device)
    print(model)
    if os.environ.get("COMPAT_INIT_WEIGHTS"):
        model.load_state_dict(torch.load(os.environ["COMPAT_INIT_WEIGHTS"], weights_only=True))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)
    for epoch in range(5):
        print(f"epoch {epoch + 1}")
        train_loss = train(train_loader, model, loss_fn, optimizer)
        test_loss, accuracy = test(test_loader, model, loss_fn)

    torch.save(model.state_dict(), "digits_mlp.pth")
    model = NeuralNetwork().to(device)
    model.load_state_dict(torch.load("digits_mlp.pth", weights_only=True))
    model.eval()
    image, label = held_out[0]
    with torch.no_grad():
        guess = model(image.to(device).unsqueeze(0))[0].argmax(0)
    print(f"first held-out digit: predicted {guess}, labelled {label}")
    _, reloaded_accuracy = test(test_loader, model, loss_fn)
    return {"train_loss": train_loss, "test_loss": test_loss, "accuracy": accuracy,
            "reloaded_accuracy": reloaded_accuracy, "first_prediction": int(guess)}


if __name__ == "__main__":
    main()
