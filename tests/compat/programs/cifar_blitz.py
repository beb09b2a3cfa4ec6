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
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 2 * 2, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


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
    batch_size = 16
    x, y = colour_digits()
    trainset = TensorDataset(x[:1200], y[:1200])
    testset = TensorDataset(x[1200:], y[1200:])
    trainloader = DataLoader(trainset, batch_size=batch_size, shuffle=False)
    testloader = DataLoader(testset, batch_size=batch_size, shuffle=False)

    net = Net()
    if os.environ.get("COMPAT_INIT_WEIGHTS"):
        net.load_state_dict(torch.load(os.environ["COMPAT_INIT_WEIGHTS"], weights_only=True))

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    epochs = 2
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, epochs=epochs,
                                              steps_per_epoch=len(trainloader))

    for epoch in range(epochs):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            # get the inputs; data is a list of [inputs, labels]
            inputs, labels = data

            # zero the parameter gradients
            optimizer.zero_grad()

            # forward + backward + optimize
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            scheduler.step()

            # print statistics
            running_loss += loss.item()
            if i % 25 == 24:
                print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 25:.3f}")
                last_running_loss = running_loss / 25
                running_loss = 0.0
    print("Finished Training")

    PATH = "./cifar_net.pth"
    torch.save(net.state_dict(), PATH)
    net = Net()
    net.load_state_dict(torch.load(PATH, weights_only=True))

    correct = 0
    total = 0
    # since we're not training, we don't need to calculate the gradients for our outputs
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            # calculate outputs by running images through the network
            outputs = net(images)
            # the class with the highest energy is what we choose as prediction
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")

    # prepare to count predictions for each class
    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.set_grad_enabled(False):
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predictions = torch.max(outputs, 1)
            # collect the correct predictions for each class
            for label, prediction in zip(labels, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1

    worst = 100.0
    for classname, correct_count in correct_pred.items():
        accuracy = 100 * float(correct_count) / total_pred[classname]
        worst = min(worst, accuracy)
        print(f"Accuracy for class: {classname:5s} is {accuracy:.1f} %")
    return {"train_loss": last_running_loss, "accuracy": correct / total,
            "worst_class_accuracy": worst / 100, "lr": scheduler.get_last_lr()[0]}


if __name__ == "__main__":
    main()
