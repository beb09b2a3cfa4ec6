"""Every layer's output and gradients (input, weight, bias) match PyTorch on random
configurations: float32 to rtol 1e-4, float64 to rtol 1e-10."""
import numpy as np
import pytest
import torch

import minicnn
from minicnn import nn
from minicnn.gradcheck.cases import off_kinks
from tests.engine.torch_oracle import (
    TORCH_DTYPE,
    assert_matches,
    copy_parameters,
    pair_of_inputs,
    run_both,
)

pytestmark = pytest.mark.oracle
DTYPES = [np.float32, np.float64]


def random_conv_config(rng):
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    d = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    p = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
    s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    h = int(rng.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 12))
    w = int(rng.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 12))
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 5)), h, w)
    return shape, dict(out_channels=int(rng.integers(1, 6)), kernel_size=k, stride=s, padding=p,
                       dilation=d, bias=bool(rng.integers(0, 2)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(8))
def test_conv2d(seed, dtype):
    rng = np.random.default_rng(seed)
    shape, config = random_conv_config(rng)
    theirs = torch.nn.Conv2d(shape[1], **config)
    ours = nn.Conv2d(shape[1], **config)
    copy_parameters(ours, theirs)
    run_both(ours, theirs, rng.standard_normal(shape), dtype, seed)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(6))
def test_pooling(seed, dtype):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 4))
    config = dict(kernel_size=k, stride=int(rng.integers(1, 4)),
                  padding=int(rng.integers(0, k // 2 + 1)))
    shape = (2, 3, int(rng.integers(k, 10)), int(rng.integers(k, 10)))
    x = off_kinks(rng, shape)
    run_both(nn.MaxPool2d(**config), torch.nn.MaxPool2d(**config), x, dtype, seed)
    run_both(nn.AvgPool2d(**config), torch.nn.AvgPool2d(**config), x, dtype, seed)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias, dtype):
    theirs, ours = torch.nn.Linear(7, 4, bias=bias), nn.Linear(7, 4, bias=bias)
    copy_parameters(ours, theirs)
    run_both(ours, theirs, np.random.default_rng(3).standard_normal((5, 7)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_activations_and_flatten(dtype):
    x = off_kinks(np.random.default_rng(4), (3, 2, 4, 5))
    run_both(nn.ReLU(), torch.nn.ReLU(), x, dtype)
    run_both(nn.Flatten(), torch.nn.Flatten(), x, dtype)
    run_both(nn.Softmax(dim=1), torch.nn.Softmax(dim=1), x, dtype)
    run_both(nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1), x, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_training_steps_then_eval(affine, dtype):
    """Outputs and gradients at every training step, running statistics after them,
    and the evaluation output, all as torch's."""
    rng = np.random.default_rng(5)
    theirs = torch.nn.BatchNorm2d(3, momentum=0.2, affine=affine)
    ours = nn.BatchNorm2d(3, momentum=0.2, affine=affine)
    if affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-0.5, 0.5)
    copy_parameters(ours, theirs)
    for step in range(4):
        x = rng.standard_normal((4, 3, 5, 6)) * (step + 1) + step
        run_both(ours, theirs, x, dtype, seed=step)
    assert_matches(ours.running_mean, theirs.running_mean, dtype, "running_mean")
    assert_matches(ours.running_var, theirs.running_var, dtype, "running_var")
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 4
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, rng.standard_normal((2, 3, 5, 6)), dtype)


def test_batchnorm_cumulative_average_when_momentum_is_none():
    theirs, ours = torch.nn.BatchNorm2d(2, momentum=None).double(), nn.BatchNorm2d(2, momentum=None)
    rng = np.random.default_rng(6)
    for _ in range(3):
        run_both(ours, theirs, rng.standard_normal((3, 2, 4, 4)), np.float64)
    assert_matches(ours.running_var, theirs.running_var, np.float64, "running_var")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(weight=[1.0, 2.0, 0.5, 1.5, 1.0]),
    dict(label_smoothing=0.1),
    dict(weight=[1.0, 2.0, 0.5, 1.5, 1.0], label_smoothing=0.3, reduction="mean"),
    dict(ignore_index=2),
    dict(ignore_index=2, weight=[1.0, 2.0, 0.5, 1.5, 1.0], label_smoothing=0.2),
])
def test_cross_entropy(config, dtype):
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((6, 5)).astype(dtype)
    target = np.array([0, 2, 4, 1, 2, 3])
    weight = config.pop("weight", None)
    ours = nn.CrossEntropyLoss(weight=None if weight is None else np.array(weight, dtype=dtype),
                               **config)
    theirs = torch.nn.CrossEntropyLoss(
        weight=None if weight is None else torch.tensor(weight, dtype=TORCH_DTYPE[dtype]), **config)
    x_ours, x_theirs = pair_of_inputs(logits)
    loss_ours = ours(x_ours, minicnn.tensor(target))
    loss_theirs = theirs(x_theirs, torch.tensor(target))
    assert_matches(loss_ours, loss_theirs, dtype, "loss")
    loss_ours.sum().backward()
    loss_theirs.sum().backward()
    assert_matches(x_ours.grad, x_theirs.grad, dtype, "logit gradient")


def test_default_initialisation_has_torchs_bounds():
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for Conv2d and Linear weights and biases."""
    conv = nn.Conv2d(8, 16, 3)
    bound = 1 / np.sqrt(8 * 9)
    for p in (conv.weight, conv.bias):
        assert np.abs(p.array).max() <= bound and np.abs(p.array).max() > 0.9 * bound
    linear = nn.Linear(100, 50)
    assert np.abs(linear.weight.array).max() <= 0.1 and linear.weight.array.std() == pytest.approx(
        0.1 / np.sqrt(3), rel=0.05)


def test_module_reprs_and_state_dict_keys_match_torch():
    pairs = [(nn.Conv2d(1, 16, kernel_size=3, padding=1),
              torch.nn.Conv2d(1, 16, kernel_size=3, padding=1)),
             (nn.Conv2d(2, 4, (2, 3), stride=2, dilation=2, bias=False),
              torch.nn.Conv2d(2, 4, (2, 3), stride=2, dilation=2, bias=False)),
             (nn.BatchNorm2d(16), torch.nn.BatchNorm2d(16)),
             (nn.BatchNorm2d(3, affine=False), torch.nn.BatchNorm2d(3, affine=False)),
             (nn.BatchNorm2d(3, bias=False), torch.nn.BatchNorm2d(3, bias=False)),
             (nn.Linear(16384, 5), torch.nn.Linear(16384, 5)),
             (nn.ReLU(), torch.nn.ReLU()), (nn.Flatten(), torch.nn.Flatten())]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
