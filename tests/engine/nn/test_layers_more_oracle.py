"""The layers beyond the first set match PyTorch (output, input and parameter gradients):
grouped, depthwise and 'same'-padded convolution, pooling with ceil_mode and
count_include_pad, adaptive pooling, BatchNorm1d and global average pooling written as
``F.avg_pool2d(out, out.size(3))``; float32 to rtol 1e-4, float64 to rtol 1e-10."""
import numpy as np
import pytest
import torch

import minicnn
from minicnn import nn
from minicnn.gradcheck.cases import off_kinks
from minicnn.nn import functional as F
from tests.engine.torch_oracle import assert_matches, copy_parameters, pair_of_inputs, run_both

pytestmark = pytest.mark.oracle
DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cin,cout,groups,config,shape", [
    (4, 6, 2, dict(kernel_size=3, padding=1), (2, 4, 6, 7)),
    (6, 6, 3, dict(kernel_size=(2, 3), stride=2, dilation=(1, 2), bias=False), (2, 6, 7, 8)),
    (8, 8, 8, dict(kernel_size=3, padding=1), (2, 8, 5, 5)),          # depthwise
    (4, 8, 4, dict(kernel_size=3, stride=2, padding=1), (1, 4, 9, 9)),  # depthwise, multiplier 2
    (3, 5, 1, dict(kernel_size=3, padding="same"), (2, 3, 6, 5)),
    (3, 5, 1, dict(kernel_size=(4, 2), padding="same", dilation=(1, 3)), (2, 3, 7, 8)),
    (4, 4, 2, dict(kernel_size=2, padding="same"), (1, 4, 5, 5)),
    (3, 2, 1, dict(kernel_size=3, padding="valid"), (2, 3, 5, 6)),
])
def test_conv2d_groups_and_string_padding(cin, cout, groups, config, shape, dtype):
    theirs = torch.nn.Conv2d(cin, cout, groups=groups, **config)
    ours = nn.Conv2d(cin, cout, groups=groups, **config)
    copy_parameters(ours, theirs)
    run_both(ours, theirs, np.random.default_rng(0).standard_normal(shape), dtype)
    assert repr(ours) == repr(theirs)


def test_grouped_conv2d_on_every_cpu_kernel_set():
    """The per-group path uses each set's own kernels: all agree with torch."""
    theirs = torch.nn.Conv2d(6, 6, 3, groups=3, padding=1).double()
    for name in minicnn.backend.kernel_set_names(cpu_only=True):
        ours = nn.Conv2d(6, 6, 3, groups=3, padding=1).double()
        copy_parameters(ours, theirs)
        theirs.zero_grad()
        with minicnn.backend.use_kernels(name):
            run_both(ours, theirs, np.random.default_rng(1).standard_normal((2, 6, 5, 5)),
                     np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", minicnn.backend.kernel_set_names(cpu_only=True))
@pytest.mark.parametrize("cin,cout,config,shape", [
    (5, 5, dict(kernel_size=3, padding=1), (1, 5, 7, 9)),             # batch 1, odd sizes
    (3, 6, dict(kernel_size=3, stride=2, padding=1), (2, 3, 8, 7)),   # multiplier 2
    (4, 4, dict(kernel_size=2, stride=3, bias=False), (3, 4, 8, 8)),  # stride > kernel
    (2, 6, dict(kernel_size=(3, 2), dilation=(2, 3), padding=(2, 1)), (2, 2, 9, 8)),
    (6, 6, dict(kernel_size=5, padding=2, stride=(1, 2)), (2, 6, 6, 6)),
])
def test_depthwise_conv2d_on_every_cpu_kernel_set(name, cin, cout, config, shape, dtype):
    """groups = in_channels runs each set's direct depthwise kernel: output and all
    gradients as torch's ``nn.Conv2d(groups=C)``."""
    theirs = torch.nn.Conv2d(cin, cout, groups=cin, **config)
    ours = nn.Conv2d(cin, cout, groups=cin, **config)
    copy_parameters(ours, theirs)
    with minicnn.backend.use_kernels(name):
        run_both(ours, theirs, np.random.default_rng(3).standard_normal(shape), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config,size", [
    (dict(kernel_size=3, stride=2, ceil_mode=True), (7, 8)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (6, 6)),
    (dict(kernel_size=2, stride=2, padding=1, ceil_mode=True), (5, 5)),  # last start rule
    (dict(kernel_size=2, stride=3, ceil_mode=True), (8, 7)),
    (dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True), (5, 9)),
    (dict(kernel_size=2, ceil_mode=True), (1, 3)),
    (dict(kernel_size=3, ceil_mode=True), (2, 2)),  # a window larger than the input
    (dict(kernel_size=3, stride=1, padding=1, ceil_mode=True), (1, 1)),
    (dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (6, 7)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (6, 6)),
    (dict(kernel_size=3, stride=1, padding=1, divisor_override=5), (4, 5)),
])
def test_pooling_ceil_mode_and_divisors(config, size, dtype):
    x = off_kinks(np.random.default_rng(2), (2, 3) + size)
    avg = {k: v for k, v in config.items()}
    run_both(nn.AvgPool2d(**avg), torch.nn.AvgPool2d(**avg), x, dtype)
    pool = {k: v for k, v in config.items() if k not in ("count_include_pad", "divisor_override")}
    run_both(nn.MaxPool2d(**pool), torch.nn.MaxPool2d(**pool), x, dtype)
    assert repr(nn.MaxPool2d(**pool)) == repr(torch.nn.MaxPool2d(**pool))


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_pooling_and_global_average_by_its_own_size(dtype):
    x = off_kinks(np.random.default_rng(3), (2, 4, 6, 6)).astype(dtype)
    x_ours, x_theirs = pair_of_inputs(x)
    tf = torch.nn.functional
    outs = [(F.avg_pool2d(x_ours, x_ours.size(3)), tf.avg_pool2d(x_theirs, x_theirs.size(3))),
            (F.max_pool2d(x_ours, 4, 3, 1, 1, True), tf.max_pool2d(x_theirs, 4, 3, 1, 1, True)),
            (F.avg_pool2d(x_ours, 3, 2, 1, True, False),
             tf.avg_pool2d(x_theirs, 3, 2, 1, True, False))]
    for ours, theirs in outs:
        assert_matches(ours, theirs, dtype, "output")
    total_ours = sum((o * float(i + 1)).sum() for i, (o, _) in enumerate(outs))
    total_theirs = sum((t * float(i + 1)).sum() for i, (_, t) in enumerate(outs))
    total_ours.backward()
    total_theirs.backward()
    assert_matches(x_ours.grad, x_theirs.grad, dtype, "input gradient")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output_size,shape", [
    (1, (2, 3, 5, 7)), ((1, 1), (2, 3, 4, 4)), ((3, 4), (2, 2, 5, 7)), ((2, None), (1, 2, 6, 5)),
    ((None, 3), (1, 2, 4, 8)), (6, (1, 2, 4, 3)), (3, (2, 6, 6)),  # larger than input; (C, H, W)
])
def test_adaptive_pooling(output_size, shape, dtype):
    x = off_kinks(np.random.default_rng(4), shape)
    run_both(nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size), x, dtype)
    run_both(nn.AdaptiveMaxPool2d(output_size), torch.nn.AdaptiveMaxPool2d(output_size), x, dtype)
    ours = F.adaptive_max_pool2d(minicnn.tensor(x), output_size, return_indices=True)[1]
    theirs = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), output_size, True)[1]
    assert ours.dtype == np.int64 and np.array_equal(ours.numpy(), theirs.numpy())
    assert repr(nn.AdaptiveAvgPool2d(output_size)) == repr(torch.nn.AdaptiveAvgPool2d(output_size))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"momentum": None}])
def test_batchnorm1d_training_then_evaluation(shape, kw, dtype):
    theirs, ours = torch.nn.BatchNorm1d(3, **kw), nn.BatchNorm1d(3, **kw)
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 2.0)
            theirs.bias.uniform_(-1, 1)
    copy_parameters(ours, theirs)
    rng = np.random.default_rng(5)
    for _ in range(2):
        run_both(ours, theirs, rng.standard_normal(shape), dtype)
    for name in ("running_mean", "running_var"):
        assert_matches(getattr(ours, name), getattr(theirs, name), dtype, name)
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked.item())
    ours.eval(), theirs.eval()
    run_both(ours, theirs, rng.standard_normal(shape), dtype)
    assert repr(ours) == repr(theirs)


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    x = minicnn.ones(8, 16, 3, 3, requires_grad=True)
    y = nn.Dropout2d(0.25)(x)
    planes = y.detach().numpy().reshape(8 * 16, 9)
    dropped = (planes == 0).all(axis=1)
    assert np.allclose(planes[~dropped], 1 / 0.75) and dropped.any() and not dropped.all()
    y.sum().backward()
    assert np.array_equal(x.grad.numpy().reshape(128, 9) == 0, np.repeat(dropped[:, None], 9, 1))
    layer = nn.Dropout2d(0.25)
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == repr(torch.nn.Dropout2d(0.25))
