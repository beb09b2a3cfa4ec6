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

POLY_DEGREE = 4
W_target = torch.tensor([[0.8], [-1.2], [0.5], [0.3]])
b_target = torch.tensor([0.7])
batches = np.random.default_rng(0).standard_normal((2000, 32)).astype(np.float32) * 0.7


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE+1)], 1)


def f(x):
    """Approximated function."""
    return x.mm(W_target) + b_target.item()


def poly_desc(W, b):
    """Creates a string description of a polynomial."""
    result = 'y = '
    for i, w in enumerate(W):
        result += '{:+.2f} x^{} '.format(w, i + 1)
    result += '{:+.2f}'.format(b[0])
    return result


def get_batch(batch_idx):
    """Builds a batch i.e. (x, f(x)) pair."""
    random = torch.tensor(batches[batch_idx % len(batches)])
    x = make_features(random)
    y = f(x)
    return x, y


def main():
    # Define model
    fc = torch.nn.Linear(W_target.size(0), 1)
    if os.environ.get("COMPAT_INIT_WEIGHTS"):
        fc.load_state_dict(torch.load(os.environ["COMPAT_INIT_WEIGHTS"]))

    for batch_idx in count(1):
        # Get data
        batch_x, batch_y = get_batch(batch_idx)

        # Reset gradients
        fc.zero_grad()

        # Forward pass
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()

        # Backward pass
        output.backward()

        # Apply gradients
        for param in fc.parameters():
            param.data.add_(-0.05 * param.grad)

        # Stop criterion
        if loss < 1e-3 or batch_idx == 5000:
            break

    print('Loss: {:.6f} after {} batches'.format(loss, batch_idx))
    print('==> Learned function:\t' + poly_desc(fc.weight.view(-1), fc.bias))
    print('==> Actual function:\t' + poly_desc(W_target.view(-1), b_target))
    error = (fc.weight.data.view(-1, 1) - W_target).abs().max().item()
    return {"loss": loss, "batches": batch_idx, "weight_error": error,
            "bias": fc.bias.item()}


if __name__ == "__main__":
    main()
