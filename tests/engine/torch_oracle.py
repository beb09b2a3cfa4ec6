"""Helpers for the tests that hold minicnn to PyTorch (marked ``oracle``)."""
import numpy as np
import torch

import minicnn

RTOL = {np.float32: 1e-4, np.float64: 1e-10}


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
