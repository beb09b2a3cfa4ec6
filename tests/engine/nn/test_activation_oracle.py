"""Every activation's output and input gradient match PyTorch, as a function, a module and
(for sigmoid and tanh) a Tensor method and a ``minicnn`` function: float32 to rtol 1e-4,
float64 to rtol 1e-10."""
import numpy as np
import pytest
import torch

import minicnn
from minicnn import nn
from minicnn.gradcheck.cases import off_kinks
from minicnn.nn import functional as F
from tests.engine.torch_oracle import assert_matches, pair_of_inputs

pytestmark = pytest.mark.oracle
DTYPES = [np.float32, np.float64]

# (name, minicnn function, torch function): large |x| too, for the stable forms
FUNCTIONS = [
    ("sigmoid", F.sigmoid, torch.sigmoid),
    ("tanh", F.tanh, torch.tanh),
    ("Tensor.sigmoid", lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    ("Tensor.tanh", lambda x: x.tanh(), lambda x: x.tanh()),
    ("minicnn.sigmoid", minicnn.sigmoid, torch.sigmoid),
    ("minicnn.tanh", minicnn.tanh, torch.tanh),
    ("leaky_relu", F.leaky_relu, torch.nn.functional.leaky_relu),
    ("leaky_relu 0.3 inplace", lambda x: F.leaky_relu(x, 0.3, inplace=True),
     lambda x: torch.nn.functional.leaky_relu(x, 0.3)),
    ("hardtanh", F.hardtanh, torch.nn.functional.hardtanh),
    ("hardtanh -0.5 0.8", lambda x: F.hardtanh(x, -0.5, 0.8),
     lambda x: torch.nn.functional.hardtanh(x, -0.5, 0.8)),
    ("relu6", F.relu6, torch.nn.functional.relu6),
    ("elu", F.elu, torch.nn.functional.elu),
    ("elu alpha 0.5", lambda x: F.elu(x, alpha=0.5), lambda x: torch.nn.functional.elu(x, 0.5)),
    ("gelu", F.gelu, torch.nn.functional.gelu),
    ("gelu tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: torch.nn.functional.gelu(x, approximate="tanh")),
    ("silu", F.silu, torch.nn.functional.silu),
    ("softplus", F.softplus, torch.nn.functional.softplus),
    ("softplus beta 2 threshold 3", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
     lambda x: torch.nn.functional.softplus(x, beta=2.0, threshold=3.0)),
    ("relu inplace", lambda x: F.relu(x, inplace=True), torch.relu),
]

MODULES = [
    (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Tanh(), torch.nn.Tanh()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (nn.ELU(alpha=2.0), torch.nn.ELU(alpha=2.0)),
    (nn.GELU(), torch.nn.GELU()), (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.Hardtanh(), torch.nn.Hardtanh()), (nn.Hardtanh(-2, 3), torch.nn.Hardtanh(-2, 3)),
    (nn.ReLU6(), torch.nn.ReLU6()),
    (nn.SiLU(), torch.nn.SiLU()), (nn.Softplus(beta=0.5), torch.nn.Softplus(beta=0.5)),
    (nn.Identity(54, unused=1), torch.nn.Identity(54, unused=1)),
]


def inputs(dtype):
    """Values off the kinks, with a tail out to +-40 (exp overflows there without care)."""
    x = off_kinks(np.random.default_rng(0), (4, 10), gap=0.1)
    x[0, :4] = [-40.0, 40.0, -25.0, 25.0]
    return x.astype(dtype)


def compare(ours_fn, theirs_fn, dtype):
    x_ours, x_theirs = pair_of_inputs(inputs(dtype))
    y_ours, y_theirs = ours_fn(x_ours), theirs_fn(x_theirs)
    assert_matches(y_ours, y_theirs, dtype, "output")
    assert y_ours.dtype == np.dtype(dtype)
    g = np.random.default_rng(1).standard_normal(y_theirs.shape).astype(dtype)
    y_ours.backward(minicnn.tensor(g))
    y_theirs.backward(torch.tensor(g))
    assert_matches(x_ours.grad, x_theirs.grad, dtype, "input gradient")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ours,theirs", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_function_matches_torch(name, ours, theirs, dtype):
    compare(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ours,theirs", MODULES, ids=[repr(m[1]) for m in MODULES])
def test_module_matches_torch_and_prints_as_torch(ours, theirs, dtype):
    compare(ours, theirs, dtype)
    assert repr(ours) == repr(theirs)


def test_inplace_is_accepted_and_leaves_the_input_alone():
    x = minicnn.tensor([-1.0, 2.0])
    y = F.leaky_relu(x, 0.5, inplace=True)
    assert y.tolist() == [-0.5, 2.0] and x.tolist() == [-1.0, 2.0]
    for ours, theirs in [(nn.SiLU(True), torch.nn.SiLU(True)), (nn.ELU(inplace=True),
                          torch.nn.ELU(inplace=True)), (nn.LeakyReLU(0.1, True),
                                                        torch.nn.LeakyReLU(0.1, True)),
                         (nn.ReLU6(True), torch.nn.ReLU6(True)),
                         (nn.Hardtanh(-2, 3, True), torch.nn.Hardtanh(-2, 3, True))]:
        assert repr(ours) == repr(theirs)


def test_hardtanh_gradient_is_zero_on_its_bounds_as_torch():
    values = np.array([-1.0, -0.5, 0.0, 0.8, 2.0])
    ours, theirs = pair_of_inputs(values)
    F.hardtanh(ours, -0.5, 0.8).sum().backward()
    torch.nn.functional.hardtanh(theirs, -0.5, 0.8).sum().backward()
    assert ours.grad.tolist() == theirs.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]


def test_hardtanh_needs_max_above_min():
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(0\) must be greater than min_val"):
        nn.Hardtanh(1, 0)
