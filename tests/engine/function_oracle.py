"""Run one tensor-function call on minicnn and on torch and compare everything.

A call is written once for both libraries, ``lambda lib, a, b: lib.cat([a, b], 1)``, and
is run with ``lib=minicnn`` on minicnn leaves and ``lib=torch`` on torch leaves holding the
same values. :func:`compare` checks every output (dtype, shape, values), backpropagates
the same random gradient from every float output, and checks every input's gradient.
"""
import numpy as np
import torch

import minicnn
from tests.engine.torch_oracle import assert_matches

DTYPES = [np.float32, np.float64]


def numpy_dtype(t: torch.Tensor) -> np.dtype:
    return torch.empty(0, dtype=t.dtype).numpy().dtype


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _leaves(arrays, requires_grad: bool):
    ours, theirs = [], []
    for a in arrays:
        grad = requires_grad and a.dtype.kind == "f"
        ours.append(minicnn.tensor(a, requires_grad=grad))
        theirs.append(torch.tensor(a, requires_grad=grad))
    return ours, theirs


def assert_same_output(ours, theirs, what: str) -> None:
    """Same dtype and shape; floats to the rtol of their dtype, others exactly."""
    assert isinstance(ours, minicnn.Tensor), f"{what}: got {type(ours).__name__}, not a Tensor"
    assert ours.dtype == numpy_dtype(theirs), f"{what}: dtype {ours.dtype} != torch {theirs.dtype}"
    assert ours.shape == tuple(theirs.shape), f"{what}: shape {ours.shape} != {tuple(theirs.shape)}"
    if ours.dtype.kind == "f":
        assert_matches(ours, theirs, ours.dtype, what)
    else:
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy(), err_msg=what)


def compare(call, arrays, dtype=np.float64, seed: int = 0, grad: bool = True) -> None:
    """Outputs and input gradients of ``call`` agree with torch (see the module docstring);
    float inputs are cast to ``dtype`` first."""
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in map(np.asarray, arrays)]
    ours_in, theirs_in = _leaves(arrays, grad)
    ours, theirs = _outputs(call(minicnn, *ours_in)), _outputs(call(torch, *theirs_in))
    assert len(ours) == len(theirs), f"{len(ours)} outputs, torch gives {len(theirs)}"
    for i, (o, t) in enumerate(zip(ours, theirs)):
        assert_same_output(o, t, f"output {i}")
    pairs = [(o, t) for o, t in zip(ours, theirs) if t.requires_grad]
    if not pairs:
        return
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(tuple(t.shape)).astype(numpy_dtype(t)) for _, t in pairs]
    sum(((o * minicnn.tensor(g)).sum() for (o, _), g in zip(pairs, grads))).backward()
    sum(((t * torch.tensor(g)).sum() for (_, t), g in zip(pairs, grads))).backward()
    for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert o.grad is None or not np.any(o.grad.numpy()), f"input {i}: torch has no grad"
            continue
        assert o.grad is not None, f"input {i}: no gradient, torch has one"
        assert_matches(o.grad, t.grad, o.grad.dtype, f"gradient of input {i}")
