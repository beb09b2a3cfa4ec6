"""The proposal's notebook runs on minicnn with only its imports changed, and its epoch loss
and accuracy are torch's on the same batches from the same weights."""
import numpy as np
import pytest
import torch as real_torch

# The notebook's imports, changed to minicnn; everything below them is the notebook's code.
import minicnn as torch
import minicnn.nn as nn
import minicnn.nn.functional as F  # noqa: F401 - imported by the notebook
import minicnn.optim as optim
from minicnn.data import DataLoader, TensorDataset


class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_layer1 = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=16, kernel_size=3, padding=1),
            nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2))
        self.conv_layer2 = nn.Sequential(
            nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.conv_layer3 = nn.Sequential(
            nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
        self.fc_layers = nn.Sequential(
            nn.Linear(16 * 16 * 64, 5),
            nn.ReLU(),            # the defect: drop this line
        )

    def forward(self, x):
        x = self.conv_layer1(x)
        x = self.conv_layer2(x)
        x = self.conv_layer3(x)
        x = x.view(x.size(0), -1)  # flatten
        x = self.fc_layers(x)
        return x


def torch_epoch(weights: dict, batches: list) -> tuple:
    """The notebook's epoch in torch: its SimpleCNN (with the final ReLU) from ``weights``,
    SGD(lr 1e-3, momentum 0.9) over ``batches`` of (float32 inputs, labels) in that order;
    the epoch's mean loss and accuracy in percent."""
    from tests.engine.simple_cnn import simple_cnn
    model = simple_cnn(nn=real_torch.nn)
    model.fc_layers.append(real_torch.nn.ReLU())
    model.load_state_dict({k: real_torch.tensor(v) for k, v in weights.items()})
    optimizer = real_torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    total_loss, correct, count = 0.0, 0, 0
    for inputs, labels in batches:
        optimizer.zero_grad()
        outputs = model(real_torch.tensor(inputs))
        loss = real_torch.nn.functional.cross_entropy(outputs, real_torch.tensor(labels))
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(inputs)
        correct += int((outputs.argmax(1).numpy() == labels).sum())
        count += len(inputs)
    return total_loss / count, correct / count * 100.0


@pytest.mark.oracle
def test_the_notebook_trains_an_epoch_as_torch():
    rng = np.random.default_rng(0)
    images = rng.poisson(20, size=(24, 1, 128, 128)).astype(np.int64)  # counts, as 'long' scans
    labels = rng.integers(0, 5, size=24)
    data_set_t = TensorDataset(images, labels)
    train_dataloader = DataLoader(data_set_t, batch_size=8, shuffle=True)

    learning_rate = 0.001
    num_epochs = 1
    if torch.cuda.is_available():
        device = torch.device('cuda')
    else:
        device = torch.device('cpu')
    model = SimpleCNN().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    batches = []  # what the notebook's loop feeds the model, replayed in torch below
    model.register_forward_pre_hook(lambda m, args: batches.append([args[0].numpy().copy()]))
    criterion.register_forward_pre_hook(lambda m, args: batches[-1].append(args[1].numpy()))

    model.train()
    for _epoch in range(num_epochs):
        running_loss = 0
        running_corrects = 0
        for inputs, labels in train_dataloader:
            inputs = inputs.to(device)
            labels = labels.to(device)
            optimizer.zero_grad()
            outputs = model(inputs.float())
            _, preds = torch.max(outputs, 1)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * inputs.size(0)
            running_corrects += torch.sum(preds == labels.data)
        epoch_loss = running_loss / len(data_set_t)
        epoch_acc = running_corrects / len(data_set_t) * 100.

    expected_loss, expected_acc = torch_epoch(before, batches)
    assert len(batches) == 3 and epoch_loss == pytest.approx(expected_loss, rel=1e-4)
    assert float(epoch_acc) == pytest.approx(expected_acc, abs=1e-4)  # float32; a sample: 4.2
    after = model.state_dict()
    assert not np.allclose(before["conv_layer1.0.weight"], after["conv_layer1.0.weight"].numpy())
    assert after["conv_layer1.1.num_batches_tracked"].item() == 3
