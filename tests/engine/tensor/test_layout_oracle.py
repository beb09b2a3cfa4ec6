"""``contiguous``/``is_contiguous`` and the functions ``squeeze``, ``unsqueeze``, ``permute``,
``transpose``, ``numel``, held to torch."""
import numpy as np
import pytest
import torch

import minicnn
from tests.engine.torch_oracle import assert_matches, pair_of_inputs

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("make", [
    lambda t: t, lambda t: t.permute(0, 2, 1), lambda t: t.transpose(0, 1),
    lambda t: t[:, ::2], lambda t: t[1:], lambda t: t.permute(0, 2, 1).contiguous(),
], ids=["plain", "permute", "transpose", "step-slice", "row-slice", "made-contiguous"])
def test_is_contiguous_as_torch(make):
    array = np.arange(24.0).reshape(2, 3, 4)
    assert make(minicnn.tensor(array)).is_contiguous() == make(torch.tensor(array)).is_contiguous()


def test_contiguous_copies_a_permuted_tensor_and_differentiates():
    array = np.random.default_rng(0).standard_normal((2, 3, 4))
    ours, theirs = pair_of_inputs(array)
    weights = np.random.default_rng(1).standard_normal(24)
    outs = []
    for x, engine in ((ours, minicnn), (theirs, torch)):
        y = x.permute(0, 2, 1).contiguous().view(2, 12)
        (y.reshape(-1) * engine.tensor(weights)).sum().backward()
        outs.append(y)
    assert_matches(outs[0], outs[1], np.float64, "contiguous view")
    assert_matches(ours.grad, theirs.grad, np.float64, "gradient through contiguous")
    plain = minicnn.ones(2, 3)
    assert plain.contiguous() is plain       # already contiguous: the tensor itself, as torch


@pytest.mark.parametrize("call", [
    lambda m, t: m.squeeze(t), lambda m, t: m.squeeze(t, 1), lambda m, t: m.unsqueeze(t, -1),
    lambda m, t: m.permute(t, (2, 0, 1)), lambda m, t: m.transpose(t, 0, 2),
], ids=["squeeze", "squeeze-dim", "unsqueeze", "permute", "transpose"])
def test_shape_functions_as_torch(call):
    array = np.random.default_rng(2).standard_normal((2, 1, 3))
    ours, theirs = pair_of_inputs(array)
    out_o, out_t = call(minicnn, ours), call(torch, theirs)
    out_o.sum().backward()
    out_t.sum().backward()
    assert_matches(out_o, out_t, np.float64, "output")
    assert_matches(ours.grad, theirs.grad, np.float64, "gradient")
    assert minicnn.numel(ours) == torch.numel(theirs) == 6
