"""Fitting a polynomial with one Linear layer, as pytorch/examples' regression does it
(features by ``torch.cat`` of powers, ``F.smooth_l1_loss``, a hand-written update through
``param.data.add_``, stopping once the loss is below 1e-3). The target's coefficients and the
batches are fixed numbers here (NumPy's seeded generator) rather than ``torch.randn`` draws,
so both engines see the same data. Written against torch; the compat test runs it as it is
and with its imports rewritten."""
import os
from itertools import count

import numpy as np
import torch
import torch.nn.functional as F

DEGREE = 4
true_weights = torch.tensor([[0.8], [-1.2], [0.5], [0.3]])
true_bias = torch.tensor([0.7])
samples = np.random.default_rng(0).standard_normal((2000, 32)).astype(np.float32) * 0.7


def powers(x):
    """``(n,) -> (n, DEGREE)``: the columns x, x**2, ..., x**DEGREE."""
    column = x.unsqueeze(1)
    return torch.cat([column ** k for k in range(1, DEGREE + 1)], 1)


def polynomial_text(weights, bias):
    terms = " ".join(f"{float(w):+.2f} x^{k}" for k, w in enumerate(weights, 1))
    return f"y = {terms} {float(bias[0]):+.2f}"


def batch(step):
    """Features and targets of batch ``step`` (the fixed samples, cycled)."""
    features = powers(torch.tensor(samples[step % len(samples)]))
    return features, features.mm(true_weights) + true_bias.item()


def main():
    fc = torch.nn.Linear(true_weights.size(0), 1)
    if os.environ.get("COMPAT_INIT_WEIGHTS"):
        fc.load_state_dict(torch.load(os.environ["COMPAT_INIT_WEIGHTS"]))

    for step in count(1):
        features, targets = batch(step)
        fc.zero_grad()
        objective = F.smooth_l1_loss(fc(features), targets)
        loss = objective.item()
        objective.backward()
        for param in fc.parameters():  # plain gradient descent, written by hand
            param.data.add_(-0.05 * param.grad)
        if loss < 1e-3 or step == 5000:
            break

    print(f"loss {loss:.6f} after {step} batches")
    print("learned:", polynomial_text(fc.weight.data.view(-1), fc.bias.data))
    print("true:   ", polynomial_text(true_weights.view(-1), true_bias))
    error = (fc.weight.data.view(-1, 1) - true_weights).abs().max().item()
    return {"loss": loss, "batches": step, "weight_error": error, "bias": fc.bias.item()}


if __name__ == "__main__":
    main()
