"""Every op, layer and loss as a gradient-check case, on small random float64 shapes.

Used by ``python -m minicnn.gradcheck`` and by the test suite, so both check the same
list. Inputs of max, min, max pooling, ReLU, |x|, clamp, maximum, sort, topk and the 1- and
inf-norms come from :func:`off_kinks`: values at least ``gap`` apart and from zero, so no
finite difference straddles a kink.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import functions as T
from .. import nn
from ..nn import functional as F
from ..nn.fusion import batch_norm_clamp, batch_norm_relu_max_pool2d
from ..random import manual_seed
from ..tensor import Tensor


@dataclass
class Case:
    op: str
    config: str
    build: Callable[[], tuple]  # () -> (fn, inputs)
    fast: bool = False


def off_kinks(rng: np.random.Generator, shape, gap: float = 0.05) -> np.ndarray:
    """Distinct values, pairwise at least ``gap`` apart and at least ``gap/2`` from 0, shuffled."""
    n = int(np.prod(shape))
    values = (np.arange(n) - n // 2 + 0.5) * gap
    return rng.permutation(values).reshape(shape)


def _off_bounds(low: float, high: float, spread: float = 1.0, gap: float = 0.05):
    """A ``make(rng, shape)`` of distinct values from ``low - spread`` to ``high + spread``,
    none within ``gap`` of ``low`` or ``high`` (where a clipping op has its kinks)."""
    def make(rng, shape):
        values = np.linspace(low - spread, high + spread, int(np.prod(shape)))
        near = np.minimum(abs(values - low), abs(values - high)) < gap
        return rng.permutation(values + near * 2 * gap).reshape(shape)
    return make


def leaf(array) -> Tensor:
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _binary(op, shape_a, shape_b, positive_b=False):
    def build():
        rng = _rng()
        b = rng.uniform(0.5, 2.0, shape_b) if positive_b else rng.standard_normal(shape_b)
        return op, (leaf(rng.standard_normal(shape_a)), leaf(b))
    return build


def _unary(op, shape, make=lambda rng, shape: rng.standard_normal(shape)):
    def build():
        return op, (leaf(make(_rng(), shape)),)
    return build


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _conv(shape_x, shape_w, bias=True, **kw):
    def build():
        rng = _rng()
        inputs = [leaf(rng.standard_normal(shape_x)), leaf(rng.standard_normal(shape_w))]
        if bias:
            inputs.append(leaf(rng.standard_normal(shape_w[0])))
            return (lambda x, w, b: F.conv2d(x, w, b, **kw)), tuple(inputs)
        return (lambda x, w: F.conv2d(x, w, None, **kw)), tuple(inputs)
    return build


def _pool(fn, shape, **kw):
    return _unary(lambda x: fn(x, **kw), shape, off_kinks)


def _batch_norm(training: bool, affine: bool = True):
    def build():
        rng = _rng()
        x = leaf(rng.standard_normal((3, 2, 3, 3)))
        mean, var = rng.standard_normal(2), rng.uniform(0.5, 2.0, 2)
        if not affine:
            return (lambda x: F.batch_norm(x, None, None, training=True)), (x,)
        w, b = leaf(rng.uniform(0.5, 2.0, 2)), leaf(rng.standard_normal(2))
        return ((lambda x, w, b: F.batch_norm(x, mean.copy(), var.copy(), w, b,
                                              training=training)),
                (x, w, b))
    return build


def _batch_norm_fused(op, training: bool, shape, **options):
    """A fused op that starts with a batch norm (``nn.fusion``): ``op(x, mean, var, w, b,
    training=training, **options)`` on ``x`` of ``shape``, gradients of x, w and b."""
    def build():
        rng = _rng()
        x = leaf(rng.standard_normal(shape))
        mean, var = rng.standard_normal(shape[1]), rng.uniform(0.5, 2.0, shape[1])
        w, b = leaf(rng.uniform(0.5, 2.0, shape[1])), leaf(rng.standard_normal(shape[1]))
        return (lambda x, w, b: op(x, mean.copy(), var.copy(), w, b, training=training,
                                   **options)), (x, w, b)
    return build


def _cross_entropy(**kw):
    def build():
        rng = _rng()
        target = Tensor(np.array([0, 2, 1, 2, 3]))
        return (lambda x: F.cross_entropy(x, target, **kw)), (leaf(rng.standard_normal((5, 4))),)
    return build


def _zeros(rng, shape):
    return np.zeros(shape)


def _unit(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def _loss(fn, shape, make_target=lambda rng, shape: rng.standard_normal(shape),
          make_input=lambda rng, shape: rng.standard_normal(shape), target_grad=True):
    """``fn(x, t)`` with both (or only ``x``) checked; the target is drawn with ``make_target``."""
    def build():
        rng = _rng()
        x = leaf(make_input(rng, shape))
        t = make_target(_rng(1), shape)
        if target_grad:
            return fn, (x, leaf(t))
        target = Tensor(t)
        return (lambda x: fn(x, target)), (x,)
    return build


def _away_from(points, gap=0.05):
    """Inputs whose differences from a zero target stay ``gap`` away from ``points`` (the
    kinks of |d| and of the smooth L1 / Huber switch)."""
    def make(rng, shape):
        values = rng.uniform(-2.0, 2.0, shape)
        for p in points:
            for sign in (1, -1):
                near = np.abs(values - sign * p) < gap
                values[near] += 2 * gap
        return values
    return make


def _quietly(fn):
    """``fn`` with its warnings (a loss's broadcast warning) silenced."""
    def quiet(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)
    return quiet


def _nll(**kw):
    def build():
        target = Tensor(np.array([0, 2, 1, 2, 3]))
        return (lambda x: F.nll_loss(x, target, **kw)), (leaf(_rng().standard_normal((5, 4))),)
    return build


def _grouped_conv(shape_x, shape_w, groups, **kw):
    def build():
        rng = _rng()
        x, w = leaf(rng.standard_normal(shape_x)), leaf(rng.standard_normal(shape_w))
        b = leaf(rng.standard_normal(shape_w[0]))
        return (lambda x, w, b: F.conv2d(x, w, b, groups=groups, **kw)), (x, w, b)
    return build


def _batch_norm_1d(shape):
    def build():
        manual_seed(0)
        layer = nn.BatchNorm1d(shape[1]).double()
        layer.weight.array[...] = _rng(3).uniform(0.5, 2.0, shape[1])
        x = leaf(_rng().standard_normal(shape))
        return (lambda x, w, b: layer(x)), (x, layer.weight, layer.bias)
    return build


def _dropout2d():
    def fn(x):
        manual_seed(7)
        return F.dropout2d(x, 0.5, training=True)
    return _unary(fn, (3, 4, 2, 2))


def _dropout():
    def fn(x):
        manual_seed(7)  # the same mask at every evaluation
        return F.dropout(x, 0.4, training=True)
    return _unary(fn, (4, 5))


def _small_cnn():
    manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 3, kernel_size=3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3 * 3 * 3, 4)).double()
    loss = nn.CrossEntropyLoss()
    target = Tensor(np.array([1, 3]))
    x = leaf(_rng().standard_normal((2, 1, 6, 6)))
    return (lambda x, *params: loss(model(x), target)), (x, *model.parameters())


def _in_place(write):
    """``write(out, *others)`` applied in place to ``out = a * 1`` (a non-leaf, as in torch
    a leaf that requires grad may not be written in place); the function returns ``out``."""
    def fn(a, *others):
        out = a * 1
        write(out, *others)
        return out
    return fn


def _iadd(out, b):
    out += b


def _setitem_rows_cols(out, v):
    out[Tensor(np.array([0, 2])), Tensor(np.array([1, 3]))] = v


def _setitem_mask(out, v):
    out[out.array > 0] = 0.5
    out[:, 0] = v


_MASK = np.array([[True, False, True, False], [False, True, True, False],
                  [True, True, False, False]])

CASES: list[Case] = [
    Case("add", "(3,4) + (4,) broadcast", _binary(lambda a, b: a + b, (3, 4), (4,))),
    Case("sub", "(3,1) - (1,4) broadcast", _binary(lambda a, b: a - b, (3, 1), (1, 4))),
    Case("mul", "(2,3,4) * (3,1)", _binary(lambda a, b: a * b, (2, 3, 4), (3, 1))),
    Case("div", "(3,4) / (3,4), b in [0.5, 2]", _binary(lambda a, b: a / b, (3, 4), (3, 4), True)),
    Case("neg", "(3,4)", _unary(lambda a: -a, (3, 4))),
    Case("pow", "a ** 3", _unary(lambda a: a ** 3, (3, 4))),
    Case("pow", "a ** b, a in [0.5, 2]", _binary(lambda b, a: a ** b, (3, 4), (3, 4), True)),
    Case("exp", "(3,4)", _unary(lambda a: a.exp(), (3, 4))),
    Case("log", "(3,4), a in [0.5, 2]", _unary(lambda a: a.log(), (3, 4), _positive)),
    Case("abs", "(3,4) off zero", _unary(lambda a: a.abs(), (3, 4), off_kinks)),
    Case("sum", "all", _unary(lambda a: a.sum(), (3, 4))),
    Case("sum", "dim=(0,2), keepdim", _unary(lambda a: a.sum(dim=(0, 2), keepdim=True), (2, 3, 4))),
    Case("mean", "dim=1", _unary(lambda a: a.mean(dim=1), (2, 3, 4))),
    Case("max", "dim=1 values", _unary(lambda a: a.max(1)[0], (3, 5), off_kinks)),
    Case("max", "all", _unary(lambda a: a.max(), (3, 5), off_kinks)),
    Case("min", "dim=0 keepdim", _unary(lambda a: a.min(0, keepdim=True)[0], (3, 5), off_kinks)),
    Case("matmul", "(3,4) @ (4,5)", _binary(lambda a, b: a @ b, (3, 4), (4, 5))),
    Case("matmul", "(2,3,4) @ (4,2) batched", _binary(lambda a, b: a @ b, (2, 3, 4), (4, 2))),
    Case("matmul", "(4,) @ (4,3)", _binary(lambda a, b: a @ b, (4,), (4, 3))),
    Case("reshape", "(2,3,4) -> (6,-1)", _unary(lambda a: a.reshape(6, -1) * 2, (2, 3, 4))),
    Case("permute", "(2,3,4) -> (2,0,1)", _unary(lambda a: a.permute(2, 0, 1) * 2, (2, 3, 4))),
    Case("getitem", "a[1:, ::2]", _unary(lambda a: a[1:, ::2] * 2, (3, 5))),
    Case("getitem", "a[[0,2,0]] repeated rows",
         _unary(lambda a: a[np.array([0, 2, 0])] * 2, (3, 4))),
    Case("getitem", "a[long tensor], a[bool tensor]",
         _unary(lambda a: a[Tensor(np.array([2, 0, 2]))] * 2 + a[Tensor(_MASK)].sum(), (3, 4))),
    Case("add_", "out += b (3,4) += (4,)", _binary(_in_place(_iadd), (3, 4), (4,))),
    Case("sub_", "out.sub_(b, alpha=2)",
         _binary(_in_place(lambda out, b: out.sub_(b, alpha=2)), (3, 4), (3, 1))),
    Case("mul_", "out.mul_(b) (3,4) by (3,4)",
         _binary(_in_place(lambda out, b: out.mul_(b)), (3, 4), (3, 4))),
    Case("div_", "out /= b, b in [0.5, 2]",
         _binary(_in_place(lambda out, b: out.div_(b)), (3, 4), (4,), True)),
    Case("fill_", "out.fill_(0-dim v)",
         _binary(_in_place(lambda out, v: out.fill_(v)), (3, 4), ())),
    Case("copy_", "out.copy_(v) broadcast (4,) -> (3,4)",
         _binary(_in_place(lambda out, v: out.copy_(v)), (3, 4), (4,))),
    Case("setitem", "out[rows, cols] = v (2,)",
         _binary(_in_place(_setitem_rows_cols), (3, 4), (2,))),
    Case("setitem", "out[mask] = 0.5; out[:, 0] = v (3,)",
         _binary(_in_place(_setitem_mask), (3, 4), (3,))),
    Case("relu", "(3,4) off zero", _unary(F.relu, (3, 4), off_kinks)),
    Case("softmax", "dim=1", _unary(lambda a: F.softmax(a, 1), (3, 4))),
    Case("log_softmax", "dim=0", _unary(lambda a: F.log_softmax(a, 0), (3, 4))),
    Case("dropout", "p=0.4, training", _dropout()),
    Case("conv2d", "x(2,3,5,5) w(4,3,3,3) pad 1", _conv((2, 3, 5, 5), (4, 3, 3, 3), padding=1)),
    Case("conv2d", "stride 2, no bias", _conv((1, 2, 6, 5), (3, 2, 3, 3), bias=False, stride=2)),
    Case("conv2d", "kernel (2,3) dilation 2 pad (1,0)",
         _conv((2, 2, 6, 7), (2, 2, 2, 3), dilation=2, padding=(1, 0))),
    Case("conv2d", "stride 3 > kernel 2", _conv((1, 2, 7, 7), (2, 2, 2, 2), stride=3)),
    Case("conv2d", "kernel = input 4x4", _conv((2, 2, 4, 4), (3, 2, 4, 4))),
    Case("max_pool2d", "k2 (2,3,4,6)", _pool(F.max_pool2d, (2, 3, 4, 6), kernel_size=2)),
    Case("max_pool2d", "k3 s2 pad 1 overlapping", _pool(F.max_pool2d, (1, 2, 5, 5), kernel_size=3,
                                                        stride=2, padding=1)),
    Case("max_pool2d", "k2 dilation 2",
         _pool(F.max_pool2d, (1, 1, 5, 5), kernel_size=2, dilation=2)),
    Case("avg_pool2d", "k3 s2 pad 1", _pool(F.avg_pool2d, (1, 2, 5, 5), kernel_size=3, stride=2,
                                            padding=1)),
    Case("batch_norm", "training, affine", _batch_norm(True)),
    Case("batch_norm", "evaluation, running stats", _batch_norm(False)),
    Case("batch_norm", "training, no affine", _batch_norm(True, affine=False)),
    Case("batch_norm_clamp", "training, ReLU's bounds on (3,2,4,5)",
         _batch_norm_fused(batch_norm_clamp, True, (3, 2, 4, 5), low=0.0, high=np.inf)),
    Case("batch_norm_clamp", "evaluation, Hardtanh(-0.5, 0.8)'s bounds",
         _batch_norm_fused(batch_norm_clamp, False, (2, 3, 4, 4), low=-0.5, high=0.8)),
    Case("batch_norm_relu_max_pool2d", "training, k2 on (3,2,5,7)",
         _batch_norm_fused(batch_norm_relu_max_pool2d, True, (3, 2, 5, 7), kernel_size=2)),
    Case("batch_norm_relu_max_pool2d", "evaluation, k2",
         _batch_norm_fused(batch_norm_relu_max_pool2d, False, (2, 2, 4, 4), kernel_size=2)),
    Case("batch_norm_relu_max_pool2d", "training, k3 s2 pad 1",
         _batch_norm_fused(batch_norm_relu_max_pool2d, True, (2, 2, 5, 5), kernel_size=3,
                           stride=2, padding=1)),
    Case("linear", "x(3,5) W(4,5) b(4)", lambda: (F.linear, (leaf(_rng().standard_normal((3, 5))),
                                                            leaf(_rng(1).standard_normal((4, 5))),
                                                            leaf(_rng(2).standard_normal(4))))),
    Case("cross_entropy", "mean", _cross_entropy()),
    Case("cross_entropy", "sum, class weights",
         _cross_entropy(reduction="sum", weight=np.array([1.0, 2.0, 0.5, 1.5]))),
    Case("cross_entropy", "none, label_smoothing 0.2, weights",
         _cross_entropy(reduction="none", label_smoothing=0.2,
                        weight=np.array([1.0, 2.0, 0.5, 1.5]))),
    Case("cross_entropy", "mean, ignore_index=2", _cross_entropy(ignore_index=2)),
    Case("sigmoid", "(3,4)", _unary(F.sigmoid, (3, 4))),
    Case("tanh", "(3,4)", _unary(F.tanh, (3, 4))),
    Case("leaky_relu", "slope 0.2, off zero", _unary(lambda a: F.leaky_relu(a, 0.2), (3, 4),
                                                     off_kinks)),
    Case("hardtanh", "(-0.5, 0.8), off the bounds",
         _unary(lambda a: F.hardtanh(a, -0.5, 0.8), (3, 4), _off_bounds(-0.5, 0.8))),
    Case("relu6", "off 0 and 6", _unary(F.relu6, (3, 4), _off_bounds(0.0, 6.0, spread=4.0))),
    Case("elu", "alpha 1.5, off zero", _unary(lambda a: F.elu(a, 1.5), (3, 4), off_kinks)),
    Case("gelu", "exact", _unary(F.gelu, (3, 4))),
    Case("gelu", "approximate='tanh'", _unary(lambda a: F.gelu(a, approximate="tanh"), (3, 4))),
    Case("silu", "(3,4)", _unary(F.silu, (3, 4))),
    Case("softplus", "beta 2, threshold 1 (both sides)",
         _unary(lambda a: F.softplus(a, beta=2.0, threshold=1.0), (3, 4), off_kinks)),
    Case("nll_loss", "mean, class weights", _nll(weight=np.array([1.0, 2.0, 0.5, 1.5]))),
    Case("nll_loss", "none, ignore_index=2", _nll(reduction="none", ignore_index=2)),
    Case("nll_loss", "(N,C,d) input, sum", lambda: (
        lambda x: F.nll_loss(x, Tensor(np.array([[0, 2, 1], [1, 1, 0]])), reduction="sum"),
        (leaf(_rng().standard_normal((2, 3, 3))),))),
    Case("cross_entropy", "probability targets, smoothing 0.1", lambda: (
        lambda x: F.cross_entropy(x, Tensor(_rng(1).dirichlet(np.ones(4), 3)),
                                  label_smoothing=0.1), (leaf(_rng().standard_normal((3, 4))),))),
    Case("mse_loss", "mean, input and target", _loss(F.mse_loss, (3, 4))),
    Case("mse_loss", "target (4,) broadcast, sum", lambda: (
        _quietly(lambda x, t: F.mse_loss(x, t, reduction="sum")),
        (leaf(_rng().standard_normal((3, 4))), leaf(_rng(1).standard_normal(4))))),
    Case("l1_loss", "none, off the kink", _loss(lambda x, t: F.l1_loss(x, t, reduction="none"),
                                                (3, 4), _zeros, _away_from([0.0]))),
    Case("smooth_l1_loss", "beta 0.5, both branches",
         _loss(lambda x, t: F.smooth_l1_loss(x, t, beta=0.5), (3, 4), _zeros,
               _away_from([0.0, 0.5]))),
    Case("huber_loss", "delta 0.7, both branches",
         _loss(lambda x, t: F.huber_loss(x, t, delta=0.7), (3, 4), _zeros,
               _away_from([0.0, 0.7]))),
    Case("binary_cross_entropy", "weight, input and target",
         _loss(lambda x, t: F.binary_cross_entropy(x, t, weight=np.array([1.0, 2.0, 0.5, 1.0])),
               (3, 4), _unit, _unit)),
    Case("binary_cross_entropy_with_logits", "pos_weight, weight, sum",
         _loss(lambda x, t: F.binary_cross_entropy_with_logits(
             x, t, weight=np.array([[1.0], [0.5], [2.0]]), reduction="sum",
             pos_weight=np.array([1.0, 3.0, 0.5, 2.0])), (3, 4), _unit)),
    Case("kl_div", "batchmean, input and target", _loss(
        lambda x, t: F.kl_div(x, t, reduction="batchmean"), (3, 4), _unit)),
    Case("kl_div", "log_target, sum", _loss(
        lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True), (3, 4))),
    Case("conv2d", "groups 2, stride 2", _grouped_conv((2, 4, 5, 5), (6, 2, 3, 3), 2, stride=2)),
    Case("conv2d", "depthwise groups 3, pad 1", _grouped_conv((1, 3, 4, 4), (3, 1, 3, 3), 3,
                                                              padding=1)),
    Case("conv2d", "depthwise m 2, stride 2, dilation 2, pad 2",
         _grouped_conv((2, 3, 7, 6), (6, 1, 3, 3), 3, stride=2, dilation=2, padding=2)),
    Case("conv2d", "padding='same', kernel (2,3), dilation 2",
         _conv((1, 2, 5, 6), (2, 2, 2, 3), padding="same", dilation=2)),
    Case("max_pool2d", "k3 s2 pad 1 ceil_mode", _pool(F.max_pool2d, (1, 2, 6, 6), kernel_size=3,
                                                      stride=2, padding=1, ceil_mode=True)),
    Case("avg_pool2d", "k3 s2 pad 1 ceil_mode, exclude pad",
         _pool(F.avg_pool2d, (1, 2, 6, 6), kernel_size=3, stride=2, padding=1, ceil_mode=True,
               count_include_pad=False)),
    Case("avg_pool2d", "k2 ceil_mode, include pad", _pool(F.avg_pool2d, (1, 1, 5, 5), kernel_size=2,
                                                          ceil_mode=True)),
    Case("adaptive_avg_pool2d", "(5,7) -> (3,4)", _unary(
        lambda a: F.adaptive_avg_pool2d(a, (3, 4)), (2, 2, 5, 7))),
    Case("adaptive_max_pool2d", "(5,7) -> (3,4) overlapping", _pool(
        F.adaptive_max_pool2d, (2, 2, 5, 7), output_size=(3, 4))),
    Case("batch_norm", "BatchNorm1d on (N,C)", _batch_norm_1d((5, 3))),
    Case("batch_norm", "BatchNorm1d on (N,C,L)", _batch_norm_1d((3, 2, 4))),
    Case("dropout2d", "p=0.5, training", _dropout2d()),
    Case("Sequential", "conv-bn-relu-pool-linear + CE loss", _small_cnn),
    Case("Sequential", "same, fast directional mode", _small_cnn, fast=True),
]


def _index(*rows):
    return Tensor(np.array(rows, dtype=np.int64))


def _shifted_off_kinks(rng, shape):
    """:func:`off_kinks` moved off its symmetry, so no two magnitudes tie (for the inf-norm)."""
    return off_kinks(rng, shape) + 0.01


def _with_zeros(count):
    def make(rng, shape):
        values = rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)
        values.reshape(-1)[:count] = 0.0
        return values
    return make


def _clamp_by_tensors():
    rng = _rng()
    x, low, high = off_kinks(rng, (3, 4)), rng.uniform(-0.3, -0.1, 4), rng.uniform(0.1, 0.3, (3, 1))
    high[0, 0] = -0.5  # row 0: high < low, so the output is high
    return (lambda x, low, high: T.clamp(x, low, high)), (leaf(x), leaf(low), leaf(high))


def _two_off_kinks(op):
    def build():
        values = off_kinks(_rng(), (2, 3, 4))
        return op, (leaf(values[0]), leaf(values[1]))
    return build


FUNCTION_CASES: list[Case] = [
    Case("cat", "dim=1, three inputs", lambda: (lambda a, b, c: T.cat([a, b, c], 1) * 2, (
        leaf(_rng().standard_normal((2, 3))), leaf(_rng(1).standard_normal((2, 1))),
        leaf(_rng(2).standard_normal((2, 2)))))),
    Case("stack", "dim=-1", _binary(lambda a, b: T.stack([a, b], -1) * 2, (2, 3), (2, 3))),
    Case("split", "sizes [1, 3] along 1", _unary(lambda a: T.split(a, [1, 3], 1)[1] * 2, (2, 4))),
    Case("chunk", "3 chunks of 5", _unary(lambda a: T.chunk(a, 3)[2] * 2, (5, 2))),
    Case("flip", "dims (0, 2)", _unary(lambda a: T.flip(a, (0, 2)) * 2, (2, 3, 4))),
    Case("repeat", "(2,3) repeated (2, 1, 3)", _unary(lambda a: a.repeat(2, 1, 3) * 2, (2, 3))),
    Case("expand", "(3,1) -> (2,3,4)", _unary(lambda a: a.expand(2, -1, 4) * 2, (3, 1))),
    Case("masked_fill", "number", _unary(lambda a: T.masked_fill(a, a > 0.2, -1.0) * 2, (3, 4),
                                           off_kinks)),
    Case("masked_fill", "0-d tensor value, broadcast mask", lambda: (
        lambda a, v: T.masked_fill(a, Tensor(np.array([True, False, True, False])), v) * 2,
        (leaf(_rng().standard_normal((3, 4))), leaf(1.5)))),
    Case("where", "tensors, broadcast", lambda: (
        lambda a, b: T.where(Tensor(np.array([[True], [False], [True]])), a, b) * 2,
        (leaf(_rng().standard_normal((3, 4))), leaf(_rng(1).standard_normal(4))))),
    Case("where", "number other", _unary(lambda a: T.where(a > 0, a, 0.5) * 2, (3, 4),
                                         off_kinks)),
    Case("gather", "dim=1, repeated indices", _unary(
        lambda a: T.gather(a, 1, _index([0, 0, 2], [3, 1, 1])) * 2, (2, 4))),
    Case("index_select", "dim=0, repeated", _unary(
        lambda a: T.index_select(a, 0, Tensor(np.array([2, 0, 2]))) * 2, (3, 4))),
    Case("clamp", "numbers", _unary(lambda a: T.clamp(a, -0.2, 0.3), (3, 4), off_kinks)),
    Case("clamp", "min only", _unary(lambda a: T.clamp(a, min=0.1), (3, 4), off_kinks)),
    Case("clamp", "tensor bounds, broadcast, hi < lo", _clamp_by_tensors),
    Case("maximum", "(3,4) vs (3,4)", _two_off_kinks(T.maximum)),
    Case("minimum", "(3,4) vs (3,4)", _two_off_kinks(T.minimum)),
    Case("pow", "2 ** a", _unary(lambda a: T.pow(2.0, a), (3, 4))),
    Case("pow", "a ** b tensors", _binary(lambda b, a: T.pow(a, b), (3, 4), (3, 4), True)),
    Case("square", "(3,4)", _unary(T.square, (3, 4))),
    Case("sign", "(3,4) off zero", _unary(lambda a: T.sign(a) * a, (3, 4), off_kinks)),
    Case("log1p", "a in [0.5, 2]", _unary(T.log1p, (3, 4), _positive)),
    Case("expm1", "(3,4)", _unary(T.expm1, (3, 4))),
    Case("norm", "fro, all", _unary(lambda a: T.norm(a), (3, 4))),
    Case("norm", "p=1 dim=1", _unary(lambda a: T.norm(a, 1, dim=1), (3, 4), off_kinks)),
    Case("norm", "p=3 dim=0 keepdim", _unary(lambda a: T.norm(a, 3, 0, True), (3, 4))),
    Case("norm", "p=0.5 dim=(0, 2)", _unary(lambda a: T.norm(a, 0.5, (0, 2)), (2, 3, 2),
                                            off_kinks)),
    Case("norm", "p=inf dim=1", _unary(lambda a: T.norm(a, float("inf"), 1), (3, 4),
                                       _shifted_off_kinks)),
    Case("norm", "p=-inf", _unary(lambda a: T.norm(a, float("-inf")), (3, 4), _shifted_off_kinks)),
    Case("var", "all, correction 1", _unary(T.var, (3, 4))),
    Case("var", "dim=1 unbiased=False keepdim", _unary(lambda a: T.var(a, 1, False, True), (3, 4))),
    Case("std", "dim=(0, 2) correction=2", _unary(lambda a: T.std(a, (0, 2), correction=2),
                                                  (3, 2, 4))),
    Case("prod", "all", _unary(T.prod, (2, 3), _positive)),
    Case("prod", "dim=1 with one zero", _unary(lambda a: T.prod(a, 1), (3, 4), _with_zeros(1))),
    Case("prod", "dim=1 keepdim, two zeros", _unary(lambda a: T.prod(a, 1, keepdim=True),
                                                    (2, 4), _with_zeros(2))),
    Case("cumsum", "dim=1", _unary(lambda a: T.cumsum(a, 1), (3, 4))),
    Case("sort", "dim=1 values", _unary(lambda a: T.sort(a, 1).values, (3, 4), off_kinks)),
    Case("sort", "dim=0 descending", _unary(lambda a: T.sort(a, 0, True)[0], (3, 4), off_kinks)),
    Case("topk", "k=2 dim=-1", _unary(lambda a: T.topk(a, 2).values, (3, 4), off_kinks)),
    Case("topk", "k=2 dim=0 smallest", _unary(lambda a: T.topk(a, 2, 0, False)[0], (3, 4),
                                              off_kinks)),
    Case("mm", "(3,4) @ (4,2)", _binary(T.mm, (3, 4), (4, 2))),
    Case("bmm", "(2,3,4) @ (2,4,5)", _binary(T.bmm, (2, 3, 4), (2, 4, 5))),
]
CASES += FUNCTION_CASES
