"""The Adam family: Adam, AdamW, Adamax, NAdam and RAdam, with torch's formulas, defaults
and state names.

For a parameter ``p`` with gradient ``g`` at step ``t`` (1, 2, ...), betas ``(b1, b2)``.
Weight decay ``wd`` either adds ``wd * p`` to ``g`` or, decoupled (AdamW, and NAdam/RAdam
with ``decoupled_weight_decay=True``), shrinks ``p <- p * (1 - lr * wd)`` before the step.
Every member keeps ``m <- b1 * m + (1 - b1) * g`` (state ``exp_avg``).

Adam (state ``exp_avg_sq`` v; ``max_exp_avg_sq`` with amsgrad)::

    v <- b2 * v + (1 - b2) * g**2;   v_hat = max(v_hat, v) with amsgrad, else v
    p <- p - lr / (1 - b1**t) * m / (sqrt(v_hat) / sqrt(1 - b2**t) + eps)

Adamax (state ``exp_inf`` u, an infinity norm)::

    u <- max(b2 * u, |g| + eps);   p <- p - lr / (1 - b1**t) * m / u

NAdam (state ``exp_avg_sq`` v and ``mu_product`` P, momentum decay ``psi``)::

    mu_t = b1 * (1 - 0.96**(t * psi) / 2);   P <- P * mu_t
    v <- b2 * v + (1 - b2) * g**2;           d = sqrt(v / (1 - b2**t)) + eps
    p <- p - lr * (1 - mu_t) / (1 - P) * g / d - lr * mu_{t+1} / (1 - P * mu_{t+1}) * m / d

RAdam (state ``exp_avg_sq`` v)::

    v <- b2 * v + (1 - b2) * g**2;   m_hat = m / (1 - b1**t)
    rho_inf = 2 / (1 - b2) - 1;      rho_t = rho_inf - 2 t b2**t / (1 - b2**t)
    rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                p <- p - lr * m_hat * r * sqrt(1 - b2**t) / (sqrt(v) + eps)
    else:       p <- p - lr * m_hat
"""
from __future__ import annotations

import numpy as np

from ..backend import xp_of
from .optimizer import Optimizer, weight_decayed


class _AdamFamily(Optimizer):
    """Shared by the members: the step count, the first moment ``exp_avg`` and the
    weight decay; a member names its other buffers in ``buffers`` and defines ``_move``."""

    buffers: tuple = ("exp_avg_sq",)

    def _decoupled(self, group) -> bool:
        return group.get("decoupled_weight_decay", False)

    def _update(self, param, grad, state, group):
        xp = xp_of(param)
        if not state:
            state["step"] = 0.0
            for name in ("exp_avg",) + self.buffers:
                state[name] = xp.zeros_like(param)
            self._init_state(state, group)
        state["step"] += 1
        if group["weight_decay"] and self._decoupled(group):
            param *= 1 - group["lr"] * group["weight_decay"]
        elif group["weight_decay"]:
            grad = weight_decayed(grad, param, group)
        m = state["exp_avg"]
        m += (1 - group["betas"][0]) * (grad - m)
        self._move(param, grad, state, group, xp)

    def _init_state(self, state, group) -> None:
        """Extra state a member makes at the first step."""

    def _move(self, param, grad, state, group, xp) -> None:
        raise NotImplementedError


class Adam(_AdamFamily):
    """State: ``step``, ``exp_avg``, ``exp_avg_sq``; ``max_exp_avg_sq`` with amsgrad."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _init_state(self, state, group):
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp_of(state["exp_avg"]).zeros_like(state["exp_avg"])

    def _move(self, param, grad, state, group, xp):
        (beta1, beta2), step = group["betas"], state["step"]
        v = state["exp_avg_sq"]
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = xp.sqrt(v) / (1 - beta2 ** step) ** 0.5 + group["eps"]
        param -= group["lr"] / (1 - beta1 ** step) * state["exp_avg"] / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p <- p * (1 - lr * wd)`` before the Adam step."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)

    def _decoupled(self, group) -> bool:
        return True


class Adamax(_AdamFamily):
    """State: ``step``, ``exp_avg``, ``exp_inf``."""

    buffers = ("exp_inf",)

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def _move(self, param, grad, state, group, xp):
        (beta1, beta2), exp_inf = group["betas"], state["exp_inf"]
        exp_inf *= beta2
        xp.maximum(exp_inf, xp.abs(grad) + group["eps"], out=exp_inf)
        param -= group["lr"] / (1 - beta1 ** state["step"]) * state["exp_avg"] / exp_inf


class NAdam(_AdamFamily):
    """State: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``.

    ``mu_product`` is rounded to float32 after every product, as torch keeps it in a
    float32 scalar tensor (its default dtype), so that the steps match torch's.
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _init_state(self, state, group):
        state["mu_product"] = 1.0

    def _move(self, param, grad, state, group, xp):
        (beta1, beta2), step, lr = group["betas"], state["step"], group["lr"]
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        state["mu_product"] = float(np.float32(state["mu_product"]) * np.float32(mu))
        mu_product = state["mu_product"]
        v = state["exp_avg_sq"]
        v *= beta2
        v += (1 - beta2) * grad * grad
        denom = xp.sqrt(v / (1 - beta2 ** step)) + group["eps"]
        param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * grad / denom
        param += (-lr * mu_next / (1.0 - mu_product * mu_next)) * state["exp_avg"] / denom


class RAdam(_AdamFamily):
    """State: ``step``, ``exp_avg``, ``exp_avg_sq``."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _move(self, param, grad, state, group, xp):
        (beta1, beta2), step, lr = group["betas"], state["step"], group["lr"]
        v = state["exp_avg_sq"]
        v *= beta2
        v += (1 - beta2) * grad * grad
        bias_correction2 = 1 - beta2 ** step
        m_hat = state["exp_avg"] / (1 - beta1 ** step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            param -= m_hat * lr * (bias_correction2 ** 0.5 / (xp.sqrt(v) + group["eps"])) * rect
        else:
            param -= m_hat * lr
