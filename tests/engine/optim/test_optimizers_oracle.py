"""50 steps of every optimizer, with every option, match torch.optim (float32 to rtol 1e-4,
float64 to rtol 1e-10), with two parameter groups whose options differ."""
import numpy as np
import pytest
import torch

import minicnn
from minicnn import optim
from tests.engine.torch_oracle import assert_matches

pytestmark = pytest.mark.oracle

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.01)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-3)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.02, eps=1e-4, amsgrad=True, weight_decay=0.05)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.7, 0.9))),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1, eps=1e-6)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.1)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-4, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
]

# options of the second group that differ from the defaults, per optimizer (torch reads
# each group's own value; the first group takes the constructor's)
GROUP_OPTIONS = {
    "SGD": dict(lr=0.003, momentum=0.3), "Adagrad": dict(lr=0.003, lr_decay=0.05),
    "Adam": dict(lr=0.003, betas=(0.5, 0.9)), "AdamW": dict(lr=0.003, weight_decay=0.3),
    "RMSprop": dict(lr=0.003, alpha=0.5), "Adadelta": dict(lr=0.3, rho=0.5),
    "Adamax": dict(lr=0.003, betas=(0.5, 0.9)), "NAdam": dict(lr=0.003, momentum_decay=0.02),
    "RAdam": dict(lr=0.003, betas=(0.6, 0.95), weight_decay=0.2),
}


def gradient(param: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """A gradient that depends on where the parameter is, so errors compound if the
    updates differ: that of sum(p**4/4 - p) plus fixed noise."""
    return param ** 3 - 1.0 + noise


def run(name, config, dtype=np.float64, steps=50, lr_change=None):
    """Same start, same gradients, ``steps`` steps in both, the second group with its own
    options; returns the start and both parameter lists."""
    rng = np.random.default_rng(0)
    start = [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(5).astype(dtype)]
    noises = [[(rng.standard_normal(p.shape) * 0.1).astype(dtype) for p in start]
              for _ in range(steps)]
    ours = [minicnn.nn.Parameter(p.copy()) for p in start]
    theirs = [torch.nn.Parameter(torch.tensor(p.copy())) for p in start]
    second = GROUP_OPTIONS[name]
    opt_ours = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], **second}],
                                    **config)
    opt_theirs = getattr(torch.optim, name)([{"params": theirs[:1]},
                                             {"params": theirs[1:], **second}], **config)
    for step in range(steps):
        if step == lr_change:
            for group in opt_ours.param_groups + opt_theirs.param_groups:
                group["lr"] *= 0.5
        opt_ours.zero_grad()
        opt_theirs.zero_grad()
        for p, q, noise in zip(ours, theirs, noises[step]):
            p.grad = minicnn.tensor(gradient(p.array, noise))
            q.grad = torch.tensor(gradient(q.detach().numpy(), noise))
        opt_ours.step()
        opt_theirs.step()
    return start, ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,config", CONFIGS, ids=[f"{n}{c}" for n, c in CONFIGS])
def test_fifty_steps_match_torch(name, config, dtype):
    start, ours, theirs = run(name, config, dtype, lr_change=25)
    for i, (p0, p, q) in enumerate(zip(start, ours, theirs)):
        assert p.dtype == dtype
        assert np.abs(p.array - p0).max() > 1e-3  # the parameters really moved
        assert_matches(p.array, q.detach().numpy(), dtype, f"{name} group {i}")


def test_optimizer_defaults_match_torch():
    p = [minicnn.nn.Parameter(np.zeros(2))]
    q = [torch.nn.Parameter(torch.zeros(2))]
    for name in GROUP_OPTIONS:
        ours, theirs = getattr(optim, name)(p), getattr(torch.optim, name)(q)
        for key, value in ours.defaults.items():
            assert theirs.defaults[key] == value, (name, key)
