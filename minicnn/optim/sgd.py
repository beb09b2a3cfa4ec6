"""Stochastic gradient descent, with torch's momentum, dampening and Nesterov options.

For a parameter ``p`` with gradient ``g`` (``g <- g + wd * p`` first when weight decay
``wd`` > 0), momentum ``mu`` and dampening ``d``::

    b <- g                       at the first step,  b <- mu * b + (1 - d) * g   after
    g <- g + mu * b  (nesterov)  or  g <- b  (momentum > 0)
    p <- p - lr * g

Without momentum, or with it after the first step and without Nesterov, the kernel set's
``sgd_step`` does the update in place (one pass on the CPU).
"""
from __future__ import annotations

from ..backend import kernels_of
from .optimizer import Optimizer, weight_decayed


class SGD(Optimizer):
    """State: ``momentum_buffer`` (with momentum > 0)."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check(self, group):
        super()._check(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov needs momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, param, grad, state, group):
        grad = weight_decayed(grad, param, group)
        mu = group["momentum"]
        if not mu or ("momentum_buffer" in state and not group["nesterov"]):
            buf = state["momentum_buffer"] if mu else None
            kernels_of(param).sgd_step(param, grad, buf, group["lr"], mu, group["dampening"])
            return
        if "momentum_buffer" not in state:  # the first step: b <- g
            state["momentum_buffer"] = grad.copy()
        else:  # Nesterov
            buf = state["momentum_buffer"]
            buf *= mu
            buf += (1 - group["dampening"]) * grad
        buf = state["momentum_buffer"]
        grad = grad + mu * buf if group["nesterov"] else buf
        param -= group["lr"] * grad
