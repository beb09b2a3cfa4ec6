"""Parameter groups and bad arguments of the optimizers behave as torch.optim's."""
import numpy as np
import pytest
import torch

import minicnn
from minicnn import optim

pytestmark = pytest.mark.oracle
# Options torch's groups hold that minicnn's optimizers do not take (docs/pytorch.md).
TORCH_ONLY_OPTIONS = ("foreach", "fused", "capturable", "differentiable", "maximize")


def pair(*shapes):
    ours = [minicnn.nn.Parameter(np.ones(s)) for s in shapes]
    theirs = [torch.nn.Parameter(torch.ones(s, dtype=torch.float64)) for s in shapes]
    return ours, theirs


def test_add_param_group_fills_in_the_defaults_as_torch():
    (a, b), (c, d) = pair(2, 3)
    ours, theirs = optim.SGD([a], lr=0.1, momentum=0.9), torch.optim.SGD([c], lr=0.1, momentum=0.9)
    ours.add_param_group({"params": b, "lr": 0.5, "name": "head"})  # one Tensor, an extra key
    theirs.add_param_group({"params": d, "lr": 0.5, "name": "head"})
    options = {k: v for k, v in ours.param_groups[1].items() if k != "params"}
    expected = {k: v for k, v in theirs.param_groups[1].items()
                if k not in ("params", *TORCH_ONLY_OPTIONS)}
    assert options == expected == {"lr": 0.5, "momentum": 0.9, "dampening": 0,
                                   "weight_decay": 0, "nesterov": False, "name": "head"}
    assert ours.param_groups[1]["params"] == [b]


def test_a_group_added_mid_run_trains_as_in_torch():
    (a, b), (c, d) = pair(2, 3)
    ours, theirs = optim.Adam([a], lr=0.1), torch.optim.Adam([c], lr=0.1)
    for step in range(6):
        if step == 2:
            ours.add_param_group({"params": [b], "betas": (0.5, 0.9), "weight_decay": 0.1})
            theirs.add_param_group({"params": [d], "betas": (0.5, 0.9), "weight_decay": 0.1})
        for p, q in ((a, c), (b, d)):
            p.grad = minicnn.tensor(p.array ** 2 + step)
            q.grad = (q.detach() ** 2 + step)
        ours.step()
        theirs.step()
    for p, q in ((a, c), (b, d)):
        np.testing.assert_allclose(p.array, q.detach().numpy(), rtol=1e-12)
    assert ours.state[b]["step"] == theirs.state[d]["step"].item() == 4


BAD = [
    ("a parameter in two groups", ValueError, "SGD: some parameters appear in more than one",
     lambda lib, p: lib.SGD([{"params": p}, {"params": p[:1]}], lr=0.1)),
    ("a parameter added again", ValueError, "Adam: some parameters appear",
     lambda lib, p: lib.Adam(p).add_param_group({"params": p[:1]})),
    ("a single Tensor as params", TypeError, "SGD: params should be an iterable.*got Parameter",
     lambda lib, p: lib.SGD(p[0], lr=0.1)),
    ("a set of parameters", TypeError, "SGD: parameters need to be in an ordered collection",
     lambda lib, p: lib.SGD([{"params": set(p)}], lr=0.1)),
    ("a number among the parameters", TypeError, "Adam can only optimize Tensors.*float",
     lambda lib, p: lib.Adam([p[0], 1.5])),
    ("a non-leaf parameter", ValueError, "SGD: can't optimize a non-leaf Tensor of shape",
     lambda lib, p: lib.SGD([p[0] * 2], lr=0.1)),
    ("an empty list", ValueError, "RMSprop: got an empty parameter list",
     lambda lib, p: lib.RMSprop([])),
    ("negative lr", ValueError, "SGD: lr must be >= 0.0, got -0.1",
     lambda lib, p: lib.SGD(p, lr=-0.1)),
    ("negative eps", ValueError, "Adadelta: eps must be >= 0.0, got -1",
     lambda lib, p: lib.Adadelta(p, eps=-1)),
    ("rho above 1", ValueError, r"Adadelta: rho must be in \[0.0, 1.0\], got 1.5",
     lambda lib, p: lib.Adadelta(p, rho=1.5)),
    ("beta1 of 1", ValueError, r"Adamax: betas must be in \[0, 1\).*index 0: 1.0",
     lambda lib, p: lib.Adamax(p, betas=(1.0, 0.9))),
    ("beta2 negative", ValueError, r"NAdam: betas must be in \[0, 1\).*index 1: -0.5",
     lambda lib, p: lib.NAdam(p, betas=(0.9, -0.5))),
    ("negative momentum_decay", ValueError, "NAdam: momentum_decay must be >= 0.0, got -1",
     lambda lib, p: lib.NAdam(p, momentum_decay=-1)),
    ("negative weight decay", ValueError, "RAdam: weight_decay must be >= 0.0, got -0.1",
     lambda lib, p: lib.RAdam(p, weight_decay=-0.1)),
    ("nesterov without momentum", ValueError, "SGD: nesterov needs momentum > 0.*momentum=0",
     lambda lib, p: lib.SGD(p, lr=0.1, nesterov=True)),
]


@pytest.mark.parametrize("what,error,message,make", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_torch_s_error(what, error, message, make):
    ours, theirs = pair(2, 3)
    with pytest.raises(error):
        make(torch.optim, theirs)
    with pytest.raises(error, match=message):
        make(optim, ours)


def test_a_parameter_twice_in_one_group_warns_as_torch():
    ours, theirs = pair(2)
    for lib, p in ((torch.optim, theirs), (optim, ours)):
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.SGD(p + p, lr=0.1)


def test_old_names_still_import():
    import minicnn.optim.lr_scheduler
    from minicnn.optim import SGD, Adam, Optimizer  # noqa: F401
    from minicnn.optim.lr_scheduler import LRScheduler, StepLR  # noqa: F401
    assert minicnn.optim.Adam is Adam and issubclass(StepLR, LRScheduler)
    assert issubclass(minicnn.optim.AdamW, minicnn.optim.Adam)
