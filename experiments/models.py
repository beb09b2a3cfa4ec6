"""The study's networks.

``proposal_simple_cnn(nn)`` is the proposal's SimpleCNN, written against an ``nn``
namespace so that the same lines build it in minicnn (``minicnn.nn``) and, for the tests
and benchmarks that compare engines, in PyTorch (``torch.nn``)::

    (N, 1, 128, 128) -> [Conv2d(3x3, pad 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)] x 3
                     (1 -> 16 -> 32 -> 64 channels)  -> (N, 64, 16, 16)
                     -> flatten -> Linear(16384, 5) -> logits (N, 5)

The proposal put a ReLU after the Linear layer, which clips the logits fed to the loss;
``final_relu=True`` reproduces that defect, the default leaves it out.

``build_model(ModelConfig(...))`` builds the family the study compares (1-3 or more blocks,
channels, kernel, stride, padding, max or average pooling); its default is SimpleCNN's
architecture, 105,445 parameters.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


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


@dataclass(frozen=True)
class ModelConfig:
    """The proposal's CNN family: ``blocks`` x [Conv2d(kernel, stride, padding) -> BatchNorm2d
    -> ReLU -> max or average pool(pool_size)], then Linear to ``classes`` with nothing after
    it. The defaults are SimpleCNN."""

    blocks: int = 3
    channels: tuple[int, ...] = (16, 32, 64)
    kernel: int = 3
    stride: int = 1
    padding: int = 1
    pooling: str = "max"
    pool_size: int = 2
    input_size: int = 128
    in_channels: int = 1
    classes: int = 5

    def feature_size(self) -> int:
        """Side of the last block's output; ValueError when a block would shrink it to nothing."""
        size = self.input_size
        for block in range(self.blocks):
            size = (size + 2 * self.padding - self.kernel) // self.stride + 1
            size //= self.pool_size
            if size < 1:
                raise ValueError(f"ModelConfig: block {block + 1} leaves no pixels of a "
                                 f"{self.input_size} x {self.input_size} input ({self})")
        return size


def build_model(config: ModelConfig = ModelConfig(), nn=None):
    """A ``Sequential`` of named blocks (``block1``, ...), ``flatten`` and ``fc``."""
    if nn is None:
        from minicnn import nn
    if config.pooling not in ("max", "avg"):
        raise ValueError(f"ModelConfig: pooling must be 'max' or 'avg', got {config.pooling!r}")
    if len(config.channels) < config.blocks:
        raise ValueError(f"ModelConfig: {config.blocks} blocks need {config.blocks} channel counts, "
                         f"got {config.channels}")
    pool = nn.MaxPool2d if config.pooling == "max" else nn.AvgPool2d
    layers, channels = OrderedDict(), config.in_channels
    for block in range(config.blocks):
        out = config.channels[block]
        layers[f"block{block + 1}"] = nn.Sequential(
            nn.Conv2d(channels, out, kernel_size=config.kernel, stride=config.stride, padding=config.padding),
            nn.BatchNorm2d(out), nn.ReLU(), pool(config.pool_size))
        channels = out
    layers["flatten"] = nn.Flatten()
    layers["fc"] = nn.Linear(channels * config.feature_size() ** 2, config.classes)
    return nn.Sequential(layers)
