"""Helpers for the tests that hold minicnn to PyTorch (marked ``oracle``)."""
import numpy as np
import torch

import minicnn

RTOL = {np.float32: 1e-4, np.float64: 1e-10}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def assert_matches(ours, theirs, dtype, what: str = "") -> None:
    """``|ours - theirs| <= rtol * (|theirs| + max|theirs|)`` elementwise, with rtol 1e-4 for
    float32 and 1e-10 for float64: relative error, measured against the tensor's own scale
    where an element is close to zero."""
    ours = ours.detach().numpy() if isinstance(ours, minicnn.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    rtol = RTOL[np.dtype(dtype).type]
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch {theirs.shape}"
    scale = float(np.abs(theirs).max(initial=0.0))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=what)


def pair_of_inputs(array: np.ndarray):
    """The same values as a minicnn leaf and a torch leaf, both requiring grad."""
    return (minicnn.tensor(array, requires_grad=True),
            torch.tensor(array, requires_grad=True))


def copy_parameters(ours: minicnn.nn.Module, theirs: torch.nn.Module) -> None:
    """Load torch's parameters and buffers into the minicnn module (same names)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def run_both(ours, theirs, x_array, dtype, seed=0):
    """Forward both modules on the same input, backward the same random gradient, and
    compare the outputs and the gradients of the input and of every parameter."""
    ours.to(dtype)
    theirs.to(TORCH_DTYPE[dtype])
    x_ours, x_theirs = pair_of_inputs(x_array.astype(dtype))
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    assert_matches(y_ours, y_theirs, dtype, "output")
    g = np.random.default_rng(seed).standard_normal(y_theirs.shape).astype(dtype)
    y_ours.backward(minicnn.tensor(g))
    y_theirs.backward(torch.tensor(g))
    assert_matches(x_ours.grad, x_theirs.grad, dtype, "input gradient")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_matches(p.grad, theirs_params[name].grad, dtype, f"gradient of {name}")


def small_cnn(nn):
    """Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d -> Flatten -> Linear of ``nn`` (minicnn or
    torch), for inputs (N, 2, 4, 4)."""
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 2 * 2, 4))


def small_cnn_pair(seed=0):
    """The small CNN in minicnn and torch with the same weights (float64), and an input."""
    torch.manual_seed(seed)
    theirs = small_cnn(torch.nn).double()
    ours = small_cnn(minicnn.nn).double()
    copy_parameters(ours, theirs)
    x = np.random.default_rng(seed).standard_normal((2, 2, 4, 4))
    return ours, theirs, x
