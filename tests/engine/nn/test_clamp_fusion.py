"""The fused BatchNorm2d -> ReLU | ReLU6 | Hardtanh op (``minicnn/nn/fusion.py``): the same
values, gradients and running statistics as the two layers one by one and as torch, and
which pairs ``Sequential`` fuses."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minicnn
from minicnn import nn
from minicnn.nn.fusion import batch_norm_clamp
from tests.engine.nn.test_fusion import (
    FUSED,
    check_against_layer_by_layer,
    check_against_torch,
    check_functional_against_torch,
    last_op,
)

CLAMPED = "BatchNormClampFunction"
ACTIVATIONS = {"relu": lambda lib: lib.nn.ReLU(), "relu6": lambda lib: lib.nn.ReLU6(),
               "hardtanh": lambda lib: lib.nn.Hardtanh(-0.5, 0.8)}


def block(lib, activation):
    """Conv2d -> BatchNorm2d -> the activation of ``lib`` (minicnn or torch), float64, with
    the convolution's outputs spread over both bounds of each activation."""
    return lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3, padding=1, bias=False), lib.nn.BatchNorm2d(3),
                             ACTIVATIONS[activation](lib)).double()


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("training", [True, False])
def test_fused_equals_layer_by_layer(activation, training):
    x = minicnn.Tensor(np.random.default_rng(1).standard_normal((4, 2, 5, 7)) * 3)
    ops = check_against_layer_by_layer(lambda: block(minicnn, activation).train(training), x)
    assert ops[0] == CLAMPED and ops[1] != CLAMPED


@pytest.mark.oracle
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("training", [True, False])
def test_fused_equals_torch(activation, training):
    torch.manual_seed(0)
    theirs = block(torch, activation).train(training)
    x = np.random.default_rng(2).standard_normal((3, 2, 6, 5)) * 3
    check_against_torch(block(minicnn, activation).train(training), theirs, x, CLAMPED)


@pytest.mark.oracle
@pytest.mark.parametrize("training", [True, False])
def test_the_functional_form_on_float32_equals_torchs_two_functions(training):
    """``nn.fusion.batch_norm_clamp`` with ReLU6's bounds against torch's
    ``relu6(batch_norm(...))``: output, gradients, running statistics."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 3, 7, 6)) * 4).astype(np.float32)
    w, b = rng.uniform(0.5, 2, 3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    mean, var = rng.standard_normal(3).astype(np.float32), rng.uniform(0.5, 2, 3).astype(np.float32)

    def ours(x, mean, var, w, b):
        return batch_norm_clamp(x, mean, var, w, b, training, 0.1, 1e-5, 0.0, 6.0)

    def theirs(x, mean, var, w, b):
        return TF.relu6(TF.batch_norm(x, mean, var, w, b, training, 0.1, 1e-5))

    check_functional_against_torch(ours, theirs, (x, w, b, mean, var), rng, CLAMPED)


def test_a_run_with_max_pooling_takes_the_pooling_op_and_other_pairs_stay_apart():
    x = minicnn.zeros((1, 3, 4, 4), dtype=np.float64)
    pooled = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2)).double()
    leaky = nn.Sequential(nn.BatchNorm2d(3), nn.LeakyReLU()).double()
    swapped = nn.Sequential(nn.ReLU6(), nn.BatchNorm2d(3)).double()
    one_d = nn.Sequential(nn.BatchNorm1d(3), nn.ReLU()).double()

    class OwnReLU(nn.ReLU):
        pass

    subclass = nn.Sequential(nn.BatchNorm2d(3), OwnReLU()).double()
    assert last_op(pooled(x)) == FUSED
    assert last_op(leaky(x)) == "LeakyReLUFunction"
    assert last_op(swapped(x)) == "BatchNormFunction"
    assert last_op(one_d(minicnn.zeros((2, 3), dtype=np.float64))) == "ReLUFunction"
    assert last_op(subclass(x)) == "ReLUFunction"


@pytest.mark.parametrize("position", [1, 2])
def test_a_hook_on_either_layer_stops_fusion_until_removed(position):
    model = block(minicnn, "relu6")
    x = minicnn.zeros((1, 2, 4, 4), dtype=np.float64)
    handle = model[position].register_forward_hook(lambda m, args, out: None)
    assert last_op(model(x)) == "HardtanhFunction"
    handle.remove()
    assert last_op(model(x)) == CLAMPED


def test_an_evaluation_batch_of_one_runs_and_a_training_batch_of_one_value_is_refused():
    """The fused pair checks its input as BatchNorm2d does, naming both layers."""
    model = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU6())
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) -> ReLU6: Expected more than 1 value"):
        model(minicnn.zeros((1, 3, 1, 1)))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) -> ReLU6: expected input"):
        model(minicnn.zeros((2, 4, 2, 2)))
    model.eval()
    assert model(minicnn.ones((1, 3, 1, 1))).shape == (1, 3, 1, 1)
