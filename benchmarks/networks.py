"""The networks of ``architectures.py``, each written once against a library (``torch`` or
``minicnn``: the same ``nn`` layers, and ``lib.cat`` for concatenation), from the structure
their papers give; our own text.

CIFAR-size (input ``(N, 3, 32, 32)``, 10 classes, float32):

- ``vgg11``: VGG configuration A (Simonyan & Zisserman 2014) with batch norm, for 32 x 32:
  eight 3x3 convolutions (64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M; M = 2x2 max
  pool), each conv (with bias) -> BatchNorm2d -> ReLU, then ``Linear(512, 10)`` on the
  1 x 1 map.
- ``resnet18``: ResNet-18 (He et al. 2015) with the CIFAR stem: 3x3 conv 3 -> 64 (stride 1,
  no max pool), BN, ReLU; four stages of two basic blocks (64, 128, 256, 512 channels; the
  first block of stages 2-4 strides 2), a block being ``relu(bn(conv3x3(relu(bn(conv3x3 x))))
  + shortcut(x))`` with a 1x1 strided conv + BN as the shortcut where the shape changes;
  global average pool, ``Linear(512, 10)``. Convolutions without bias.
- ``preact_resnet18``: the same stages with pre-activation blocks (He et al. 2016, "Identity
  mappings"): ``conv3x3(relu(bn(conv3x3(relu(bn x))))) + shortcut``, the projection (a 1x1
  strided conv, no BN) taking the pre-activated input; BN -> ReLU after the last block.
- ``mobilenet_v2``: MobileNetV2 (Sandler et al. 2018): 3x3 conv 3 -> 32, BN, ReLU6; inverted
  residual blocks (1x1 expansion by t -> BN -> ReLU6 -> 3x3 depthwise -> BN -> ReLU6 -> 1x1
  linear projection -> BN, added to the input where stride 1 and the channels agree) in the
  paper's (t, c, n, s) table; 1x1 conv 320 -> 1280, BN, ReLU6, global average pool,
  ``Linear(1280, 10)``. For 32 x 32 the stem and the 24-channel stage do not stride (total
  stride 8, 4 x 4 before pooling); no dropout.
- ``densenet_bc``: DenseNet-BC (Huang et al. 2017), the paper's CIFAR model with depth 100
  and growth rate k = 12: 3x3 conv 3 -> 2k; three dense blocks of 16 bottleneck layers
  (BN -> ReLU -> 1x1 conv to 4k -> BN -> ReLU -> 3x3 conv to k, the output concatenated to
  the input), transitions halving the channels (BN -> ReLU -> 1x1 conv -> 2x2 average pool);
  BN -> ReLU, global average pool, ``Linear(342, 10)``.

The study's SimpleCNN family (``experiments.training.models.build_model``; input
``(N, 1, 128, 128)``, 5 grades):

- ``simplecnn``: the proposal's base condition (3 blocks, 16/32/64 channels, 3x3, stride 1,
  padding 1, max pooling).
- ``grid_cheapest``: every factor of ``experiments/configs/proposal.toml`` at its cheapest
  value: 1 block, 16 channels, 3x3, stride 2, padding 0, average pooling.
- ``grid_costliest``: every factor at its costliest: 3 blocks, 32/64/128 channels, 7x7,
  stride 1, padding 1, max pooling.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from experiments.training.models import ModelConfig, build_model


@dataclass(frozen=True)
class Network:
    """A builder ``build(lib) -> Module`` and the input it takes: ``(channels, size, size)``
    images and ``classes`` labels."""

    build: Callable
    input_shape: tuple[int, int, int]
    classes: int


def _conv_bn(nn, cin, cout, kernel, stride=1, groups=1):
    """A bias-free ``kernel`` x ``kernel`` convolution that keeps the size at stride 1, and
    its batch norm."""
    return [nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups,
                      bias=False), nn.BatchNorm2d(cout)]


def _head(nn, channels, classes=10):
    """Global average pool and the classifier."""
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes)]


# ---- VGG ----------------------------------------------------------------------------------

VGG11_PLAN = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


def vgg11(lib):
    nn = lib.nn
    layers, width = [], 3
    for item in VGG11_PLAN:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(width, item, 3, padding=1), nn.BatchNorm2d(item), nn.ReLU()]
            width = item
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512, 10))


# ---- residual networks --------------------------------------------------------------------

RESNET18_STAGES = ((64, 2), (128, 2), (256, 2), (512, 2))


def _stages(block, cin=64):
    """The blocks of ``RESNET18_STAGES``; the first block of every stage after the first
    strides 2."""
    blocks = []
    for index, (width, count) in enumerate(RESNET18_STAGES):
        for position in range(count):
            blocks.append(block(cin, width, 2 if index > 0 and position == 0 else 1))
            cin = width
    return blocks


def resnet18(lib):
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1, self.bn1 = _conv_bn(nn, cin, cout, 3, stride)
            self.conv2, self.bn2 = _conv_bn(nn, cout, cout, 3)
            self.relu = nn.ReLU()
            self.shortcut = (nn.Sequential(*_conv_bn(nn, cin, cout, 1, stride))
                             if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

    return nn.Sequential(*_conv_bn(nn, 3, 64, 3), nn.ReLU(), *_stages(BasicBlock),
                         *_head(nn, 512))


def preact_resnet18(lib):
    nn = lib.nn

    class PreActBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.bn1, self.bn2, self.relu = nn.BatchNorm2d(cin), nn.BatchNorm2d(cout), nn.ReLU()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.projects = stride != 1 or cin != cout
            if self.projects:
                self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

        def forward(self, x):
            pre = self.relu(self.bn1(x))
            shortcut = self.shortcut(pre) if self.projects else x
            return self.conv2(self.relu(self.bn2(self.conv1(pre)))) + shortcut

    return nn.Sequential(nn.Conv2d(3, 64, 3, padding=1, bias=False), *_stages(PreActBlock),
                         nn.BatchNorm2d(512), nn.ReLU(), *_head(nn, 512))


# ---- MobileNetV2 --------------------------------------------------------------------------

# (expansion t, output channels c, blocks n, first block's stride s); the paper's table with
# the 24-channel stage's stride 2 -> 1 for 32 x 32 inputs.
MOBILENET_V2_PLAN = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                     (6, 160, 3, 2), (6, 320, 1, 1))


def mobilenet_v2(lib):
    nn = lib.nn

    class InvertedResidual(nn.Module):
        def __init__(self, cin, cout, expansion, stride):
            super().__init__()
            hidden = cin * expansion
            layers = [*_conv_bn(nn, cin, hidden, 1), nn.ReLU6()] if expansion != 1 else []
            layers += [*_conv_bn(nn, hidden, hidden, 3, stride, groups=hidden), nn.ReLU6(),
                       *_conv_bn(nn, hidden, cout, 1)]
            self.body = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            out = self.body(x)
            return out + x if self.residual else out

    blocks, cin = [], 32
    for expansion, cout, count, stride in MOBILENET_V2_PLAN:
        for position in range(count):
            blocks.append(InvertedResidual(cin, cout, expansion, stride if position == 0 else 1))
            cin = cout
    return nn.Sequential(*_conv_bn(nn, 3, 32, 3), nn.ReLU6(), *blocks,
                         *_conv_bn(nn, cin, 1280, 1), nn.ReLU6(), *_head(nn, 1280))


# ---- DenseNet-BC --------------------------------------------------------------------------

DENSENET_GROWTH, DENSENET_LAYERS_PER_BLOCK, DENSENET_BLOCKS = 12, 16, 3


def densenet_bc(lib):
    nn = lib.nn
    growth = DENSENET_GROWTH

    class DenseLayer(nn.Module):
        """``cat([x, conv3x3(relu(bn(conv1x1(relu(bn x)))))], channels)``: ``growth`` more."""

        def __init__(self, cin):
            super().__init__()
            self.body = nn.Sequential(
                nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, 4 * growth, 1, bias=False),
                nn.BatchNorm2d(4 * growth), nn.ReLU(),
                nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False))

        def forward(self, x):
            return lib.cat([x, self.body(x)], 1)

    layers, channels = [nn.Conv2d(3, 2 * growth, 3, padding=1, bias=False)], 2 * growth
    for block in range(DENSENET_BLOCKS):
        for _ in range(DENSENET_LAYERS_PER_BLOCK):
            layers.append(DenseLayer(channels))
            channels += growth
        if block < DENSENET_BLOCKS - 1:
            layers += [nn.BatchNorm2d(channels), nn.ReLU(),
                       nn.Conv2d(channels, channels // 2, 1, bias=False), nn.AvgPool2d(2)]
            channels //= 2
    return nn.Sequential(*layers, nn.BatchNorm2d(channels), nn.ReLU(), *_head(nn, channels))


# ---- the study's SimpleCNN family ---------------------------------------------------------

GRID_CHEAPEST = ModelConfig(blocks=1, channels=(16,), kernel=3, stride=2, padding=0,
                            pooling="avg")
GRID_COSTLIEST = ModelConfig(blocks=3, channels=(32, 64, 128), kernel=7, stride=1, padding=1,
                             pooling="max")


def _study(config: ModelConfig) -> Network:
    return Network(lambda lib: build_model(config, nn=lib.nn),
                   (config.in_channels, config.input_size, config.input_size), config.classes)


CIFAR = (3, 32, 32)
NETWORKS = {
    "vgg11": Network(vgg11, CIFAR, 10),
    "resnet18": Network(resnet18, CIFAR, 10),
    "preact_resnet18": Network(preact_resnet18, CIFAR, 10),
    "mobilenet_v2": Network(mobilenet_v2, CIFAR, 10),
    "densenet_bc": Network(densenet_bc, CIFAR, 10),
    "simplecnn": _study(ModelConfig()),
    "grid_cheapest": _study(GRID_CHEAPEST),
    "grid_costliest": _study(GRID_COSTLIEST),
}
