"""Eight small image classifiers for 16x16 inputs, written in plain torch.nn (our own text):
a plain conv stack, residual nets (post-activation, pre-activation and gated by
squeeze-and-excitation), inverted residuals with depthwise convolutions, dense
concatenation, four-branch mixed blocks and grouped convolutions with channel shuffles.
The compat test builds each one with torch and, imports rewritten, with minicnn."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- building bricks --------------------------------------------------------------------

def conv(cin, cout, k, stride=1, groups=1, bias=False):
    """A k x k convolution that keeps the size at stride 1 (odd k)."""
    return nn.Conv2d(cin, cout, kernel_size=k, stride=stride, padding=k // 2, groups=groups,
                     bias=bias)


def conv_bn(cin, cout, k, stride=1, groups=1, bias=False):
    return nn.Sequential(conv(cin, cout, k, stride, groups, bias), nn.BatchNorm2d(cout))


def conv_bn_relu(cin, cout, k, stride=1, groups=1, bias=False):
    return nn.Sequential(conv(cin, cout, k, stride, groups, bias), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


def bn_relu_conv(cin, cout, k):
    """Normalise and rectify first, then convolve (dense and pre-activation style)."""
    return nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(inplace=True), conv(cin, cout, k))


def repeat_units(make, cin, cout, count, stride):
    """``count`` units from cin to cout; only the first one strides."""
    units = []
    for s in [stride] + [1] * (count - 1):
        units.append(make(cin, cout, s))
        cin = cout
    return nn.Sequential(*units)


# ---- plain stack ------------------------------------------------------------------------

STACK_PLANS = {"VGGtiny": {"layers": [8, "pool", 16, "pool", 16, 16, "pool"], "flat": 64}}


class VGG(nn.Module):
    """Convolutions and max pools read off a plan, then one linear layer."""

    def __init__(self, plan_name, classes=10):
        super().__init__()
        plan = STACK_PLANS[plan_name]
        parts, width = [], 3
        for item in plan["layers"]:
            if item == "pool":
                parts.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                parts.append(conv_bn_relu(width, item, 3, bias=True))
                width = item
        parts.append(nn.AvgPool2d(kernel_size=1, stride=1))   # a no-op pool, kept on purpose
        self.body = nn.Sequential(*parts)
        self.head = nn.Linear(plan["flat"], classes)

    def forward(self, x):
        h = self.body(x)
        h = h.view(h.size(0), -1)
        return self.head(h)


# ---- residual family --------------------------------------------------------------------

def projection(cin, cout, stride):
    """Identity when the shape is kept, else a strided 1x1 conv with batch norm."""
    if stride == 1 and cin == cout:
        return nn.Sequential()
    return conv_bn(cin, cout, 1, stride)


class ResidualUnit(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.branch = nn.Sequential(conv_bn_relu(cin, cout, 3, stride), conv_bn(cout, cout, 3))
        self.skip = projection(cin, cout, stride)

    def forward(self, x):
        y = self.branch(x)
        y += self.skip(x)
        return F.relu(y)


class GatedResidualUnit(ResidualUnit):
    """The residual branch is rescaled per channel by a gate computed from its own mean."""

    def __init__(self, cin, cout, stride=1, squeeze=4):
        super().__init__(cin, cout, stride)
        self.gate_down = nn.Conv2d(cout, cout // squeeze, kernel_size=1)
        self.gate_up = nn.Conv2d(cout // squeeze, cout, kernel_size=1)

    def forward(self, x):
        y = self.branch(x)
        s = F.adaptive_avg_pool2d(y, 1)
        s = torch.sigmoid(self.gate_up(F.relu(self.gate_down(s))))
        y = y * s
        y += self.skip(x)
        return F.relu(y)


class PreActUnit(nn.Module):
    """Batch norm and ReLU come before each conv; the skip taps the activated input."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.norm_a = nn.BatchNorm2d(cin)
        self.conv_a = conv(cin, cout, 3, stride)
        self.norm_b = nn.BatchNorm2d(cout)
        self.conv_b = conv(cout, cout, 3)
        if stride != 1 or cin != cout:                  # only then is there a projection
            self.proj = nn.Sequential(conv(cin, cout, 1, stride))

    def forward(self, x):
        a = F.relu(self.norm_a(x))
        skip = self.proj(a) if hasattr(self, "proj") else x
        y = self.conv_b(F.relu(self.norm_b(self.conv_a(a))))
        y += skip
        return y


RESIDUAL_PLANS = {
    "plain": {"unit": ResidualUnit, "depths": (2, 1), "widths": (8, 16)},
    "preact": {"unit": PreActUnit, "depths": (1, 2), "widths": (8, 16)},
    "gated": {"unit": GatedResidualUnit, "depths": (1, 1), "widths": (8, 16)},
}


class ResidualNet(nn.Module):
    def __init__(self, plan, classes=10):
        super().__init__()
        narrow, wide = plan["widths"]
        self.stem = conv(3, narrow, 3)
        self.stem_norm = nn.BatchNorm2d(narrow)
        self.stage1 = repeat_units(plan["unit"], narrow, narrow, plan["depths"][0], 1)
        self.stage2 = repeat_units(plan["unit"], narrow, wide, plan["depths"][1], 2)
        self.head = nn.Linear(wide, classes)

    def forward(self, x):
        h = F.relu(self.stem_norm(self.stem(x)))
        h = self.stage2(self.stage1(h))
        h = F.avg_pool2d(h, h.size(3))
        h = h.view(h.size(0), -1)
        return self.head(h)


class PreActNet(ResidualNet):
    """Skips the inherited stem norm (its parameters get no gradient) and ends in a ReLU."""

    def forward(self, x):
        h = self.stage2(self.stage1(self.stem(x)))
        h = F.avg_pool2d(F.relu(h), 8)
        h = h.view(h.size(0), -1)
        return self.head(h)


def ResNetTiny():
    return ResidualNet(RESIDUAL_PLANS["plain"])


def PreActResNetTiny():
    return PreActNet(RESIDUAL_PLANS["preact"])


def SENetTiny():
    return ResidualNet(RESIDUAL_PLANS["gated"])


# ---- inverted residuals -----------------------------------------------------------------

class SeparableConv(nn.Module):
    """A per-channel 3x3 conv, then a 1x1 conv that mixes channels."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.spatial = conv_bn(cin, cin, 3, stride, groups=cin)
        self.mix = conv_bn(cin, cout, 1)

    def forward(self, x):
        return F.relu(self.mix(F.relu(self.spatial(x))))


class InvertedUnit(nn.Module):
    """Widen by 1x1, filter per channel, narrow by 1x1; ReLU6 after the first two."""

    def __init__(self, cin, cout, widen, stride):
        super().__init__()
        self.stride = stride
        hidden = widen * cin
        self.widen = conv_bn(cin, hidden, 1)
        self.spatial = conv_bn(hidden, hidden, 3, stride, groups=hidden)
        self.narrow = conv_bn(hidden, cout, 1)
        self.skip = projection(cin, cout, 1) if stride == 1 else nn.Sequential()

    def forward(self, x):
        y = F.relu6(self.widen(x))
        y = F.relu6(self.spatial(y))
        y = self.narrow(y)
        y = y + self.skip(x) if self.stride == 1 else y
        return y


INVERTED_PLAN = {
    "stem": 8,
    "stages": [  # (width, repeats, first stride, widening factor)
        (8, 1, 1, 1),
        (12, 2, 2, 4),
        (16, 1, 1, 4),
    ],
    "last": 32,
}


class MobileNetV2(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        plan = INVERTED_PLAN
        width = plan["stem"]
        self.stem = conv_bn(3, width, 3)
        self.separable = SeparableConv(width, width)
        units = []
        for out_width, repeats, stride, widen in plan["stages"]:
            for s in [stride] + [1] * (repeats - 1):
                units.append(InvertedUnit(width, out_width, widen, s))
                width = out_width
        self.units = nn.Sequential(*units)
        self.last = conv_bn(width, plan["last"], 1)
        self.last_act = nn.ReLU6(inplace=True)
        self.head = nn.Linear(plan["last"], classes)

    def forward(self, x):
        h = self.separable(F.relu(self.stem(x)))
        h = self.last_act(self.last(self.units(h)))
        h = torch.flatten(F.adaptive_avg_pool2d(h, (1, 1)), 1)
        return self.head(h)


# ---- dense concatenation ----------------------------------------------------------------

class DenseLayer(nn.Module):
    """Adds ``grow`` new channels in front of the ones it was given."""

    def __init__(self, cin, grow):
        super().__init__()
        self.reduce = bn_relu_conv(cin, 4 * grow, 1)
        self.fresh = bn_relu_conv(4 * grow, grow, 3)

    def forward(self, x):
        return torch.cat([self.fresh(self.reduce(x)), x], 1)


class Squash(nn.Module):
    """Between dense blocks: fewer channels by 1x1, half the size by average pooling."""

    def __init__(self, cin, cout):
        super().__init__()
        self.norm = nn.BatchNorm2d(cin)
        self.mix = conv(cin, cout, 1)

    def forward(self, x):
        return F.avg_pool2d(self.mix(F.relu(self.norm(x))), 2)


DENSE_PLAN = {"blocks": (2, 2), "grow": 4, "keep": 0.5}


class DenseNet(nn.Module):
    def __init__(self, plan, classes=10):
        super().__init__()
        grow = plan["grow"]
        width = 2 * grow
        self.stem = conv(3, width, 3)
        blocks = []
        for index, count in enumerate(plan["blocks"]):
            if index:
                narrowed = int(width * plan["keep"])
                blocks.append(Squash(width, narrowed))
                width = narrowed
            layers = []
            for _ in range(count):
                layers.append(DenseLayer(width, grow))
                width += grow
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.Sequential(*blocks)
        self.final_norm = nn.BatchNorm2d(width)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        h = self.blocks(self.stem(x))
        h = F.avg_pool2d(F.relu(self.final_norm(h)), 8)
        h = h.view(h.size(0), -1)
        return self.head(h)


def DenseNetTiny():
    return DenseNet(DENSE_PLAN)


# ---- four-branch mixed blocks -----------------------------------------------------------

class MixedBlock(nn.Module):
    """Four parallel paths, stacked along channels: a 1x1; a 1x1 into a 3x3; a 1x1 into two
    3x3s (a 5x5's reach); a 3x3 max pool into a 1x1."""

    def __init__(self, cin, single, mid3, out3, mid5, out5, pooled):
        super().__init__()
        self.point = conv_bn_relu(cin, single, 1, bias=True)
        self.small = nn.Sequential(conv_bn_relu(cin, mid3, 1, bias=True),
                                   conv_bn_relu(mid3, out3, 3, bias=True))
        self.large = nn.Sequential(conv_bn_relu(cin, mid5, 1, bias=True),
                                   conv_bn_relu(mid5, out5, 3, bias=True),
                                   conv_bn_relu(out5, out5, 3, bias=True))
        self.pooled = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                    conv_bn_relu(cin, pooled, 1, bias=True))

    def forward(self, x):
        paths = [self.point(x), self.small(x), self.large(x), self.pooled(x)]
        return torch.cat(paths, 1)


MIXED_PLAN = {
    "stem": 12,
    # each entry: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj) or "halve"
    "body": [(4, 4, 8, 2, 4, 4), (8, 4, 8, 2, 4, 4), "halve", (8, 4, 8, 2, 4, 4)],
    "pool": 8,
}


class GoogLeNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        plan = MIXED_PLAN
        width = plan["stem"]
        self.stem = conv_bn_relu(3, width, 3, bias=True)
        parts = []
        for entry in plan["body"]:
            if entry == "halve":
                parts.append(nn.MaxPool2d(3, stride=2, padding=1))
            else:
                parts.append(MixedBlock(width, *entry))
                width = entry[0] + entry[2] + entry[4] + entry[5]
        self.body = nn.Sequential(*parts)
        self.pool = nn.AvgPool2d(plan["pool"], stride=1)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        h = self.pool(self.body(self.stem(x)))
        h = h.view(h.size(0), -1)
        return self.head(h)


# ---- grouped convolutions with channel shuffles -----------------------------------------

class ChannelShuffle(nn.Module):
    """Interleaves the channel groups: split C into (groups, C/groups), swap, merge."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.size()
        k = self.groups
        return x.view(n, k, c // k, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


def shuffle_channels(x, groups):
    """The same interleaving, written with transpose and contiguous."""
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class ShuffleUnit(nn.Module):
    """Grouped 1x1, shuffle, depthwise 3x3, grouped 1x1, shuffle. At stride 2 the result is
    concatenated with an average-pooled copy of the input, else added to the input."""

    def __init__(self, cin, cout, stride, groups, entry_groups=None):
        super().__init__()
        self.stride = stride
        self.groups = groups
        entry_groups = groups if entry_groups is None else entry_groups
        hidden = cout // 4
        self.entry = conv_bn(cin, hidden, 1, groups=entry_groups)
        self.mix = ChannelShuffle(entry_groups)
        self.spatial = conv_bn(hidden, hidden, 3, stride, groups=hidden)
        self.exit_conv = conv(hidden, cout, 1, groups=groups)
        self.exit_norm = nn.BatchNorm2d(cout)
        self.side = nn.Sequential()
        if stride == 2:
            self.side = nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1))

    def forward(self, x):
        y = self.mix(F.relu(self.entry(x)))
        y = F.relu(self.spatial(y))
        y = self.exit_norm(shuffle_channels(self.exit_conv(y), self.groups))
        side = self.side(x)
        if self.stride == 2:
            return F.relu(torch.cat([y, side], 1))
        return F.relu(y + side)


SHUFFLE_PLAN = {"stem": 12, "width": 24, "groups": 3}


class ShuffleNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        stem, width, groups = (SHUFFLE_PLAN[k] for k in ("stem", "width", "groups"))
        self.stem = conv_bn(3, stem, 1)
        self.units = nn.Sequential(
            # the first unit's output is concatenated with its stem-wide input
            ShuffleUnit(stem, width - stem, 2, groups, entry_groups=1),
            ShuffleUnit(width, width, 1, groups),
        )
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        h = self.units(F.relu(self.stem(x)))
        h = F.adaptive_avg_pool2d(h, 1)
        h = h.view(h.size(0), -1)
        return self.head(h)
