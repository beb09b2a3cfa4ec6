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
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc_dropout = 0.5
        self.fc1 = nn.Linear(576, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = F.dropout(x, p=self.fc_dropout, training=self.training)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args["log_interval"] == 0:
            print("Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
    return loss.item()


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    print("\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))
    return test_loss, correct / len(test_loader.dataset)


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
    args = {"batch_size": 64, "test_batch_size": 200, "epochs": 3, "lr": 1.0, "gamma": 0.7,
            "log_interval": 10, "save_model": True}
    torch.manual_seed(1)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    x, y = digits_like_mnist()
    train_kwargs = {"batch_size": args["batch_size"]}
    test_kwargs = {"batch_size": args["test_batch_size"]}
    dataset1 = TensorDataset(x[:1400], y[:1400])
    dataset2 = TensorDataset(x[1400:], y[1400:])
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    if os.environ.get("COMPAT_INIT_WEIGHTS"):
        model.load_state_dict(torch.load(os.environ["COMPAT_INIT_WEIGHTS"]))
    if os.environ.get("COMPAT_NO_DROPOUT"):
        model.dropout1.p = model.fc_dropout = 0.0
    optimizer = optim.Adadelta(model.parameters(), lr=args["lr"])

    scheduler = StepLR(optimizer, step_size=1, gamma=args["gamma"])
    for epoch in range(1, args["epochs"] + 1):
        last_loss = train(args, model, device, train_loader, optimizer, epoch)
        test_loss, accuracy = test(model, device, test_loader)
        scheduler.step()

    if args["save_model"]:
        torch.save(model.state_dict(), "mnist_cnn.pt")
    reloaded = Net().to(device)
    reloaded.load_state_dict(torch.load("mnist_cnn.pt"))
    reloaded_loss, reloaded_accuracy = test(reloaded, device, test_loader)
    return {"train_loss": last_loss, "test_loss": test_loss, "accuracy": accuracy,
            "reloaded_accuracy": reloaded_accuracy, "lr": scheduler.get_last_lr()[0]}


if __name__ == "__main__":
    main()
