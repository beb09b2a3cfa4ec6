"""Optimizers that scale each coordinate by a running size of its gradients: Adagrad,
Adadelta and RMSprop, with torch's formulas, defaults and state names.

For a parameter ``p`` with gradient ``g`` at step ``t`` (1, 2, ...), after weight decay
``g <- g + wd * p`` (when ``wd`` > 0):

Adagrad (state ``sum``, starting at ``initial_accumulator_value``)::

    lr_t = lr / (1 + (t - 1) * lr_decay);   s <- s + g**2;   p <- p - lr_t * g / (sqrt(s) + eps)

Adadelta (state ``square_avg`` v and ``acc_delta`` u, both starting at 0)::

    v <- rho * v + (1 - rho) * g**2
    delta = sqrt(u + eps) / sqrt(v + eps) * g
    u <- rho * u + (1 - rho) * delta**2
    p <- p - lr * delta

RMSprop (state ``square_avg`` v; ``grad_avg`` a when centered; ``momentum_buffer`` b)::

    v <- alpha * v + (1 - alpha) * g**2;   centered: a <- alpha * a + (1 - alpha) * g, v~ = v - a**2
    r = sqrt(v~ or v) + eps
    momentum: b <- mu * b + g / r, p <- p - lr * b;   else p <- p - lr * g / r
"""
from __future__ import annotations

from ..backend import xp_of
from .optimizer import Optimizer, weight_decayed


class Adagrad(Optimizer):
    """State: ``step``, ``sum`` (made for every parameter at construction, as in torch)."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": 0.0, "sum": xp_of(p.array).full_like(
                    p.array, group["initial_accumulator_value"])}

    def _update(self, param, grad, state, group):
        state["step"] += 1
        grad = weight_decayed(grad, param, group)
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= lr_t * grad / (xp_of(param).sqrt(state["sum"]) + group["eps"])


class Adadelta(Optimizer):
    """State: ``step``, ``square_avg``, ``acc_delta``."""

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _update(self, param, grad, state, group):
        xp = xp_of(param)
        if not state:
            state.update(step=0.0, square_avg=xp.zeros_like(param),
                         acc_delta=xp.zeros_like(param))
        state["step"] += 1
        grad = weight_decayed(grad, param, group)
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param -= group["lr"] * delta


class RMSprop(Optimizer):
    """State: ``step``, ``square_avg``; ``momentum_buffer`` and ``grad_avg`` when used."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, param, grad, state, group):
        xp = xp_of(param)
        if not state:
            state.update(step=0.0, square_avg=xp.zeros_like(param))
            if group["momentum"] > 0:
                state["momentum_buffer"] = xp.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(param)
        state["step"] += 1
        grad = weight_decayed(grad, param, group)
        alpha = group["alpha"]
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (grad - grad_avg)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = xp.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * grad / avg
