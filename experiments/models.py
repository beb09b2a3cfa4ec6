"""The study's networks.

``proposal_simple_cnn(nn)`` is the proposal's SimpleCNN, written against an ``nn``
namespace so that the same lines build it in minicnn (``minicnn.nn``) and, for the tests
and benchmarks that compare engines, in PyTorch (``torch.nn``)::

    (N, 1, 128, 128) -> [Conv2d(3x3, pad 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)] x 3
                     (1 -> 16 -> 32 -> 64 channels)  -> (N, 64, 16, 16)
                     -> flatten -> Linear(16384, 5) -> logits (N, 5)

The proposal put a ReLU after the Linear layer, which clips the logits fed to the loss;
``final_relu=True`` reproduces that defect, the default leaves it out.
"""
from __future__ import annotations


def proposal_simple_cnn(nn, final_relu: bool = False):
    """A new SimpleCNN module built from ``nn``'s layers."""

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
                *([nn.ReLU()] if final_relu else []))

        def forward(self, x):
            x = self.conv_layer1(x)
            x = self.conv_layer2(x)
            x = self.conv_layer3(x)
            x = x.view(x.size(0), -1)
            return self.fc_layers(x)

    return SimpleCNN()
