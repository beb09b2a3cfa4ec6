"""Bad input gets a clear error that names the layer and the shapes, and changes nothing."""
import numpy as np
import pytest

import minicnn
from minicnn import nn


@pytest.mark.parametrize("layer,bad_shape,expected", [
    (nn.Conv2d(16, 32, 3), (8, 3, 128, 128),
     r"Conv2d\(16, 32, 3\): expected input \(N, 16, H, W\), got \(8, 3, 128, 128\)"),
    (nn.Conv2d(1, 4, 3), (1, 8, 8),
     r"Conv2d\(1, 4, 3\): expected input \(N, 1, H, W\), got \(1, 8, 8\)"),
    (nn.BatchNorm2d(16), (4, 8, 5, 5),
     r"BatchNorm2d\(16\): expected input \(N, 16, H, W\), got \(4, 8, 5, 5\)"),
    (nn.BatchNorm2d(16), (4, 16),
     r"BatchNorm2d\(16\): expected input \(N, 16, H, W\), got \(4, 16\)"),
    (nn.Linear(16384, 5), (2, 4096),
     r"Linear\(16384, 5\): expected input \(N, 16384\), got \(2, 4096\)"),
    (nn.MaxPool2d(2), (4, 4), r"MaxPool2d\(2\): expected input \(N, C, H, W\), got \(4, 4\)"),
])
def test_wrong_rank_or_channels_name_the_layer_and_both_shapes(layer, bad_shape, expected):
    with pytest.raises(ValueError, match=expected):
        layer(minicnn.zeros(*bad_shape))


def test_a_window_larger_than_the_input_is_refused():
    with pytest.raises(ValueError, match=r"smaller than the window"):
        nn.Conv2d(1, 1, 5)(minicnn.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"at most half the kernel"):
        nn.MaxPool2d(2, padding=2)(minicnn.zeros(1, 1, 6, 6))


def test_bad_layer_arguments():
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(1, 1, (3, 3, 3))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="Dropout"):
        nn.Dropout(1.5)


@pytest.mark.parametrize("labels,match", [
    ([0, 5], "target class 5 is out of range for 5 classes"),
    ([-1, 0], "target class -1 is out of range"),
])
def test_class_labels_out_of_range_raise(labels, match):
    logits = minicnn.zeros(2, 5, requires_grad=True)
    with pytest.raises(IndexError, match=match):  # torch's type
        nn.CrossEntropyLoss()(logits, minicnn.tensor(labels))


def test_float_targets_and_wrong_target_shape_raise():
    logits = minicnn.zeros(2, 5)
    with pytest.raises(RuntimeError, match="integer class indices"):  # torch's types
        nn.CrossEntropyLoss()(logits, minicnn.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"targets of shape \(2,\)"):
        nn.CrossEntropyLoss()(logits, minicnn.tensor([0, 1, 2]))


def test_optimizer_arguments_are_checked():
    params = [nn.Parameter(np.zeros(2))]
    with pytest.raises(ValueError, match="lr must be >= 0"):
        minicnn.optim.SGD(params, lr=-1)
    with pytest.raises(ValueError, match="nesterov"):
        minicnn.optim.SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        minicnn.optim.Adam(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        minicnn.optim.Adam([])


def test_reshape_to_an_impossible_shape_names_both():
    with pytest.raises(ValueError, match=r"cannot view shape \(2, 3\) \(6 elements\) as \(4, -1\)"):
        minicnn.zeros(2, 3).view(4, -1)


def test_an_input_of_another_dtype_than_the_weights_is_refused():
    with pytest.raises(ValueError, match=r"Conv2d\(1, 2, 3\): input of dtype minicnn.float64 "
                                         r".* parameters of dtype minicnn.float32"):
        nn.Conv2d(1, 2, 3)(minicnn.zeros(1, 1, 4, 4, dtype=minicnn.float64))
    with pytest.raises(ValueError, match=r"Linear\(3, 2\): input of dtype minicnn.float64"):
        nn.Linear(3, 2)(minicnn.zeros(1, 3, dtype=minicnn.float64))


def test_gradients_take_the_dtype_of_their_tensor():
    w = minicnn.ones(3, requires_grad=True)  # float32
    (w * minicnn.tensor(np.arange(3.0))).sum().backward()  # float64 on the other side
    assert w.grad.dtype == minicnn.float32
