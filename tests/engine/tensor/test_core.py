"""Tensor (minicnn/tensor/core.py) and its constructors; the tape: tests/engine/test_autograd.py."""
import numpy as np
import pytest

import minicnn
from minicnn import Tensor


def test_constructors_follow_torch_dtypes():
    assert minicnn.tensor([1.5, 2.0]).dtype == minicnn.float32
    assert minicnn.tensor([1, 2]).dtype == minicnn.int64
    assert minicnn.zeros(2, 3).shape == (2, 3)
    assert minicnn.ones((2, 3), dtype=minicnn.float64).dtype == np.float64
    assert minicnn.randn(4, 5).dtype == minicnn.float32
    r = minicnn.rand(1000)
    assert 0 <= r.array.min() and r.array.max() < 1 and abs(r.array.mean() - 0.5) < 0.05
    assert minicnn.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert minicnn.arange(0, 1, 0.25).dtype == minicnn.float32
    a = np.arange(3.0)
    shared = minicnn.from_numpy(a)
    a[0] = 7
    assert shared.array[0] == 7
    copied = minicnn.tensor(a)
    a[1] = 9
    assert copied.array[1] == 1


def test_manual_seed_repeats_draws():
    minicnn.manual_seed(3)
    first = minicnn.randn(5).numpy().copy()
    minicnn.manual_seed(3)
    assert np.array_equal(first, minicnn.randn(5).numpy())
    assert not np.array_equal(first, minicnn.randn(5).numpy())


def test_shape_helpers():
    t = minicnn.zeros(2, 3, 4)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.view(t.size(0), -1).shape == (2, 12)
    assert t.flatten().shape == (24,) and t.flatten(1).shape == (2, 12)
    assert t.transpose(0, 2).shape == (4, 3, 2)
    assert t.permute(1, 2, 0).shape == (3, 4, 2)
    assert t.unsqueeze(0).shape == (1, 2, 3, 4) and t.unsqueeze(0).squeeze(0).shape == (2, 3, 4)


def test_item_float_double_and_to():
    t = minicnn.tensor([[2.5]])
    assert t.item() == 2.5
    assert t.double().dtype == np.float64 and t.double().float().dtype == np.float32
    assert t.to(minicnn.float64).dtype == np.float64
    assert t.to("cpu") is t
    assert t.device == "cpu" and str(t.device) == "cpu"
    with pytest.raises(RuntimeError, match="2 elements"):
        minicnn.tensor([1.0, 2.0]).item()


def test_reflected_ops_and_numpy_on_the_left():
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    y = (np.array([3.0, 3.0]) - x) / 2 + 1 / x
    y.sum().backward()
    assert np.allclose(x.grad.numpy(), [-0.5 - 1.0, -0.5 - 0.25])


def test_max_returns_values_and_indices_like_torch():
    t = minicnn.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    values, indices = minicnn.max(t, 1)
    assert values.tolist() == [5.0, 7.0]
    assert indices.tolist() == [1, 0]  # the first maximum on ties
    values.sum().backward()
    assert t.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    assert minicnn.max(t).item() == 7.0
    assert t.argmax(1).tolist() == [1, 0]


def test_comparisons_carry_no_grad_and_sum_counts():
    preds = minicnn.tensor([1, 2, 3])
    labels = minicnn.tensor([1, 0, 3])
    same = preds == labels.data
    assert not same.requires_grad
    assert minicnn.sum(same).item() == 2


def test_indexing_gradients_add_on_repeated_indices():
    x = minicnn.arange(4, dtype=minicnn.float64).requires_grad_()
    x[np.array([0, 0, 3])].sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 0.0, 1.0]


def test_in_place_change_of_a_grad_leaf_is_refused():
    w = minicnn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.zero_()
    with minicnn.no_grad():
        w.fill_(2.0)
    assert w.tolist() == [2.0, 2.0, 2.0]


def test_numpy_of_a_grad_tensor_asks_for_detach():
    with pytest.raises(RuntimeError, match="detach"):
        minicnn.ones(2, requires_grad=True).numpy()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating-point"):
        Tensor(np.array([1, 2]), requires_grad=True)


def test_repr_reads_like_torch():
    assert repr(minicnn.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(minicnn.tensor([1.0], requires_grad=True))
    assert "dtype=minicnn.float64" in repr(minicnn.tensor([1.0], dtype=minicnn.float64))
