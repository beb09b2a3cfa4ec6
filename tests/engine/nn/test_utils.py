"""``minicnn.nn.utils``: gradient clipping and parameter vectors, held to PyTorch's."""
import math

import numpy as np
import pytest
import torch

import minicnn
from minicnn.nn.utils import clip_grad_norm_  # the package path torch code imports from
from tests.engine.torch_oracle import small_cnn_pair

pytestmark = pytest.mark.oracle


def with_gradients(dtype):
    """The small CNN in both engines, same weights, after one backward on the same batch."""
    ours, theirs, x = small_cnn_pair()
    ours.to(dtype)
    theirs.to(torch.float32 if dtype == np.float32 else torch.float64)
    (ours(minicnn.tensor(x.astype(dtype))) ** 2).sum().backward()
    (theirs(torch.tensor(x.astype(dtype))) ** 2).sum().backward()
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, "inf", 3.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_gives_torchs_total_and_gradients(dtype, norm_type, max_norm):
    ours, theirs = with_gradients(dtype)
    total = clip_grad_norm_(ours.parameters(), max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type=norm_type)
    assert isinstance(total, minicnn.Tensor) and total.shape == () and total.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(total.item(), expected.item(), rtol=rtol)
    # the conv bias feeds a training-mode batch norm: its true gradient is zero, so every
    # gradient is compared on the scale of the largest
    scale = max(float(q.grad.abs().max()) for q in theirs.parameters())
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol * 10,
                                   atol=rtol * 10 * scale, err_msg=f"{name} after clipping")


def test_clip_grad_norm_of_no_gradients_is_zero_and_of_nan_raises_if_asked():
    layer = minicnn.nn.Linear(2, 2)
    assert minicnn.nn.utils.clip_grad_norm_(layer.parameters(), 1.0).item() == 0.0
    layer.weight.grad = minicnn.tensor([[np.nan, 1.0], [0.0, 0.0]])
    assert math.isnan(minicnn.nn.utils.clip_grad_norm_(layer.weight, 1.0).item())
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* non-finite"):
        minicnn.nn.utils.clip_grad_norm_([layer.weight], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_as_torch():
    ours, theirs = with_gradients(np.float64)
    minicnn.nn.utils.clip_grad_value_(ours.parameters(), 0.05)
    torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.05)
    scale = max(float(q.grad.abs().max()) for q in theirs.parameters())
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-12 * scale)
    assert max(np.abs(p.grad.numpy()).max() for p in ours.parameters()) == 0.05


def test_parameters_to_vector_and_back_follow_torchs_order():
    ours, theirs, _ = small_cnn_pair()
    vector = minicnn.nn.utils.parameters_to_vector(ours.parameters())
    expected = torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy()
    assert vector.shape == expected.shape and np.array_equal(vector.numpy(), expected)
    values = np.arange(expected.size, dtype=np.float64)
    minicnn.nn.utils.vector_to_parameters(minicnn.tensor(values), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.from_numpy(values), theirs.parameters())
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy()), name


def test_vector_to_parameters_rejects_a_non_tensor_and_a_short_vector():
    layer = minicnn.nn.Linear(2, 2)
    with pytest.raises(TypeError, match="expected a minicnn Tensor, but got: ndarray"):
        minicnn.nn.utils.vector_to_parameters(np.zeros(6), layer.parameters())
    with pytest.raises(TypeError):
        torch.nn.utils.vector_to_parameters(np.zeros(6), torch.nn.Linear(2, 2).parameters())
    with pytest.raises(RuntimeError, match="has 5 elements, too few"):
        minicnn.nn.utils.vector_to_parameters(minicnn.zeros(5), layer.parameters())
