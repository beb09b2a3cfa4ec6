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

from ..config_checks import BadValue, choice, integer
from ..grades import COUNT


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
                nn.Linear(16 * 16 * 64, COUNT),
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
    classes: int = COUNT

    def __post_init__(self):
        integer("blocks", self.blocks, 1, 10)
        for key in ("kernel", "stride", "pool_size", "input_size", "in_channels"):
            integer(key, getattr(self, key), 1)
        integer("padding", self.padding, 0)
        integer("classes", self.classes, 2)
        choice("pooling", self.pooling, ("max", "avg"))
        channels = list(self.channels)
        if len(channels) < self.blocks:
            raise BadValue("channels", channels, f"{self.blocks} blocks need at least "
                           f"{self.blocks} channel counts")
        for k, value in enumerate(channels):
            integer(f"channels[{k}]", value, 1)
        self.feature_size()

    def feature_size(self) -> int:
        """Side of the last block's output, ``s -> ((s + 2 padding - kernel) // stride + 1)
        // pool_size`` per block; BadValue naming the block when the convolution's window
        does not fit or a block leaves no pixels."""
        size = self.input_size
        for block in range(self.blocks):
            convolved = (size + 2 * self.padding - self.kernel) // self.stride + 1
            if size + 2 * self.padding < self.kernel:
                raise BadValue("kernel", self.kernel, f"must be at most {size + 2 * self.padding} "
                               f"in block {block + 1}, whose input is {size} x {size} (padding "
                               f"{self.padding}) for a {self.input_size} x {self.input_size} image")
            size = convolved // self.pool_size
            if size < 1:
                raise BadValue("blocks", self.blocks, f"block {block + 1} leaves no pixels of a "
                               f"{self.input_size} x {self.input_size} input (kernel "
                               f"{self.kernel}, stride {self.stride}, padding {self.padding}, "
                               f"pool {self.pool_size}: {convolved} pixels before pooling); use "
                               f"at most {block} blocks or a smaller stride/pool")
        return size


def build_model(config: ModelConfig = ModelConfig(), nn=None):
    """A ``Sequential`` of named blocks (``block1``, ...), ``flatten`` and ``fc``."""
    if nn is None:
        from minicnn import nn
    pool = nn.MaxPool2d if config.pooling == "max" else nn.AvgPool2d
    layers, channels = OrderedDict(), config.in_channels
    for block in range(config.blocks):
        out = config.channels[block]
        layers[f"block{block + 1}"] = nn.Sequential(
            nn.Conv2d(channels, out, kernel_size=config.kernel, stride=config.stride,
                      padding=config.padding),
            nn.BatchNorm2d(out), nn.ReLU(), pool(config.pool_size))
        channels = out
    layers["flatten"] = nn.Flatten()
    layers["fc"] = nn.Linear(channels * config.feature_size() ** 2, config.classes)
    return nn.Sequential(layers)
