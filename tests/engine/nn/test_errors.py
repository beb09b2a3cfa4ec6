"""Bad input to the losses, activations and the newer layers gets torch's error type, with a
message that names the op or layer and the shapes or allowed values; nothing is changed."""
import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.nn import functional as F


def logp(n=3, c=4):
    return F.log_softmax(minicnn.randn(n, c), 1)


@pytest.mark.parametrize("call,error,match", [
    (lambda: F.nll_loss(logp(), minicnn.tensor([0, 1, 4])), IndexError,
     r"nll_loss: Target 4 is out of bounds.*4 classes"),
    (lambda: nn.NLLLoss()(logp(), minicnn.tensor([0, -2, 1])), IndexError,
     r"NLLLoss: Target -2 is out of bounds"),
    (lambda: F.nll_loss(logp(), minicnn.tensor([0.0, 1.0, 2.0])), RuntimeError,
     r"nll_loss: targets must be integer class indices.*float32 \(3,\)"),
    (lambda: F.nll_loss(logp(), minicnn.tensor([0, 1])), ValueError,
     r"nll_loss: expected targets of shape \(3,\) for input \(3, 4\), got \(2,\)"),
    (lambda: F.nll_loss(logp(), minicnn.tensor([0, 1, 2]), weight=minicnn.ones(3)), RuntimeError,
     r"nll_loss: weight tensor should be defined either for all 4 classes.*\(3,\)"),
    (lambda: F.cross_entropy(minicnn.randn(3, 4), minicnn.rand(3, 4), ignore_index=1),
     RuntimeError, r"cross_entropy: ignore_index is not supported for floating point"),
    (lambda: nn.MSELoss(reduction="avg"), ValueError, r"MSELoss: 'avg' is not a valid value"),
    (lambda: F.kl_div(logp(), logp().exp(), reduction="batch"), ValueError,
     r"kl_div: 'batch' is not a valid value.*batchmean"),
    (lambda: F.mse_loss(minicnn.zeros(2, 3), minicnn.zeros(2, 4)), RuntimeError,
     r"mse_loss: target of shape \(2, 4\) does not broadcast with input of shape \(2, 3\)"),
    (lambda: F.mse_loss(minicnn.zeros(2, 3), minicnn.zeros(2, 3), weight=minicnn.ones(3)),
     ValueError, r"mse_loss: Weights and input must have the same size: weight \(3,\)"),
    (lambda: nn.SmoothL1Loss(beta=-1.0)(minicnn.zeros(2), minicnn.zeros(2)), RuntimeError,
     r"SmoothL1Loss: smooth_l1_loss does not support negative values for beta"),
    (lambda: nn.HuberLoss(delta=0.0)(minicnn.zeros(2), minicnn.zeros(2)), RuntimeError,
     r"HuberLoss: huber_loss does not support non-positive values for delta"),
    (lambda: nn.BCELoss()(minicnn.tensor([0.5, 1.5]), minicnn.tensor([0.0, 1.0])), RuntimeError,
     r"BCELoss: all elements of input should be between 0 and 1.*max 1.5 in \(2,\)"),
    (lambda: F.binary_cross_entropy(minicnn.rand(2, 1), minicnn.rand(2)), ValueError,
     r"binary_cross_entropy: Using a target size \(\(2,\)\) that is different to the input size "
     r"\(\(2, 1\)\)"),
    (lambda: F.binary_cross_entropy(minicnn.rand(3, 2), minicnn.rand(3, 2),
                                    weight=minicnn.ones(3)), RuntimeError,
     r"weight of shape \(3,\) does not broadcast to the input's shape \(3, 2\)"),
    (lambda: nn.BCEWithLogitsLoss()(minicnn.rand(2, 1), minicnn.rand(2)), ValueError,
     r"BCEWithLogitsLoss: Target size \(\(2,\)\) must be the same as input size \(\(2, 1\)\)"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=minicnn.ones(3))(minicnn.rand(3, 2),
                                                             minicnn.rand(3, 2)),
     RuntimeError, r"pos_weight of shape \(3,\) does not broadcast to the input's shape \(3, 2\)"),
])
def test_loss_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_kl_div_mean_warns_as_torch():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(logp(), logp().exp())


@pytest.mark.parametrize("call,error,match", [
    (lambda: F.gelu(minicnn.zeros(2), approximate="fast"), RuntimeError,
     r"gelu: approximate argument must be either none or tanh, got 'fast'"),
    (lambda: nn.GELU("erf")(minicnn.zeros(2)), RuntimeError, r"approximate argument must be"),
    (lambda: nn.Dropout2d(1.5), ValueError, r"Dropout2d: p must be in \[0, 1\].*1.5"),
    (lambda: F.dropout2d(minicnn.zeros(2, 3), 0.5), ValueError,
     r"dropout2d: expected input \(N, C, H, W\) or \(N, C, L\), got \(2, 3\)"),
])
def test_activation_and_dropout_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call,error,match", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError,
     r"Conv2d\(3, 4\): in_channels must be divisible by groups, got in_channels=3, groups=2"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), ValueError, r"out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), ValueError, r"groups must be a positive integer"),
    (lambda: nn.Conv2d(4, 4, 3, stride=2, padding="same"), ValueError,
     r"Conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(minicnn.zeros(1, 4, 5, 5), minicnn.zeros(4, 4, 3, 3), stride=2,
                      padding="same"), RuntimeError, r"conv2d: padding='same' is not supported"),
    (lambda: nn.Conv2d(4, 4, 3, padding="full"), ValueError,
     r"Conv2d: Invalid padding string 'full', should be one of"),
    (lambda: nn.Conv2d(4, 4, 3, padding_mode="reflect"), NotImplementedError,
     r"Conv2d: padding_mode='reflect' is not supported.*'zeros'"),
    (lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror"), ValueError,
     r"padding_mode must be one of .* but got padding_mode='mirror'"),
    (lambda: nn.Conv2d(4, 6, 3, groups=2)(minicnn.zeros(1, 2, 5, 5)), ValueError,
     r"Conv2d\(4, 6, 3\): expected input \(N, 4, H, W\), got \(1, 2, 5, 5\)"),
    (lambda: F.conv2d(minicnn.zeros(1, 4, 5, 5), minicnn.zeros(3, 2, 3, 3), groups=2),
     RuntimeError, r"conv2d: Given groups=2, expected weight to be divisible by 2 at dimension 0"),
    (lambda: nn.MaxPool2d(3, 2, 2, ceil_mode=True)(minicnn.zeros(1, 1, 5, 5)), ValueError,
     r"MaxPool2d\(3\): padding \(2, 2\) must be at most half the kernel \(3, 3\)"),
    (lambda: nn.MaxPool2d(2, return_indices=True), NotImplementedError, r"return_indices"),
    (lambda: nn.AvgPool2d(3, count_include_pad=False)(minicnn.zeros(1, 1, 2, 2)), ValueError,
     r"AvgPool2d\(3\): input \(1, 1, 2, 2\) is smaller than the window"),
    (lambda: F.adaptive_avg_pool2d(minicnn.zeros(1, 1, 2, 2), -1), RuntimeError,
     r"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0"),
    (lambda: nn.AdaptiveMaxPool2d((1, 2, 3))(minicnn.zeros(1, 1, 2, 2)), RuntimeError,
     r"AdaptiveMaxPool2d\(\(1, 2, 3\)\): output_size must be 2"),
    (lambda: nn.AdaptiveMaxPool2d(1)(minicnn.zeros(2, 2)), RuntimeError,
     r"AdaptiveMaxPool2d\(1\): Expected 3D or 4D tensor .* got: \(2, 2\)"),
    (lambda: nn.BatchNorm1d(3)(minicnn.zeros(2, 3, 4, 4)), ValueError,
     r"BatchNorm1d\(3\): expected input \(N, 3\) or \(N, 3, L\), got \(2, 3, 4, 4\)"),
    (lambda: nn.BatchNorm1d(3)(minicnn.zeros(2, 4)), ValueError,
     r"BatchNorm1d\(3\): expected input \(N, 3\) or \(N, 3, L\), got \(2, 4\)"),
])
def test_layer_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_one_value_per_channel_in_training_is_refused_before_counting_the_batch():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): Expected more than 1 value per "
                                         r"channel when training, got input size \(1, 3\)"):
        layer(minicnn.zeros(1, 3))
    assert int(layer.num_batches_tracked.item()) == 0
    assert np.array_equal(layer.running_mean.numpy(), np.zeros(3))
    layer.eval()
    assert layer(minicnn.ones(1, 3)).shape == (1, 3)
