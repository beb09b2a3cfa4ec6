"""Optimizers with PyTorch's update formulas, defaults and state names.

Notation per parameter ``p`` with gradient ``g`` at step ``t`` (1, 2, ...), learning rate
``lr`` and weight decay ``wd``. Unless said otherwise, ``g <- g + wd * p`` first.

SGD (momentum ``mu``, dampening ``d``)::

    b <- g                       at the first step,  b <- mu * b + (1 - d) * g   after
    g <- g + mu * b  (nesterov)  or  g <- b  (momentum > 0)
    p <- p - lr * g

Adagrad::

    lr_t = lr / (1 + (t - 1) * lr_decay);   s <- s + g**2;   p <- p - lr_t * g / (sqrt(s) + eps)

Adam (AdamW: ``p <- p * (1 - lr * wd)`` instead of adding ``wd * p`` to ``g``)::

    m <- b1 * m + (1 - b1) * g;   v <- b2 * v + (1 - b2) * g**2
    v_hat = max(v_hat, v) with amsgrad, else v
    p <- p - lr / (1 - b1**t) * m / (sqrt(v_hat) / sqrt(1 - b2**t) + eps)

RMSprop (smoothing ``alpha``)::

    v <- alpha * v + (1 - alpha) * g**2;   centered: a <- alpha * a + (1 - alpha) * g, v~ = v - a**2
    r = sqrt(v~ or v) + eps;   momentum: b <- mu * b + g / r, p <- p - lr * b;   else p <- p - lr * g / r

``state_dict()`` / ``load_state_dict()`` save and restore everything a run needs to resume
exactly: hyperparameters of every group and each parameter's buffers and step count.
"""
from __future__ import annotations

import copy

import numpy as np

from .autograd import enable_grad
from .backend import device_of, to_device, xp_of


class Optimizer:
    """Holds ``param_groups`` (dicts with ``'params'`` and hyperparameters) and per-parameter
    ``state``; subclasses define :meth:`_update` for one parameter."""

    def __init__(self, params, defaults: dict):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict = {}
        for group in (params if isinstance(params[0], dict) else [{"params": params}]):
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        group["params"] = list(group["params"])
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown options {sorted(unknown)}")
        self._check(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError(f"{type(self).__name__}: a parameter appears in two groups")
        self.param_groups.append(group)

    def _check(self, group: dict) -> None:
        """Raise ValueError for an invalid hyperparameter (subclasses add their own)."""
        for key in ("lr", "eps", "weight_decay", "momentum", "lr_decay",
                    "initial_accumulator_value", "alpha", "dampening"):
            if key in group and group[key] < 0:
                raise ValueError(f"{type(self).__name__}: {key} must be >= 0, got {group[key]}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p.data, p.grad.data, self.state.setdefault(p, {}), group)
        return loss

    def _update(self, param, grad, state: dict, group: dict) -> None:
        raise NotImplementedError

    # ---- saving and resuming ----------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {name: array or number}}, 'param_groups': [...]}``, where a
        parameter is named by its index over all groups, as in torch."""
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: {k: to_device(v, "cpu").copy() if hasattr(v, "shape") else v
                                for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore from :meth:`state_dict`; everything is checked before anything changes."""
        name = type(self).__name__
        try:
            saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups'") from None
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the checkpoint has {len(saved_groups)} "
                             f"parameter groups, the optimizer {len(self.param_groups)}")
        params = [p for g in self.param_groups for p in g["params"]]
        for saved, group in zip(saved_groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: a group has {len(saved['params'])} "
                                 f"parameters in the checkpoint, {len(group['params'])} here")
        new_state = {}
        for key, entries in saved_state.items():
            position = int(key)
            if not 0 <= position < len(params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {position}, "
                                 f"but there are {len(params)}")
            p = params[position]
            restored = {}
            for k, v in entries.items():
                if hasattr(v, "shape") and np.ndim(v) > 0:
                    if tuple(v.shape) != p.shape:
                        raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter "
                                         f"{position} has shape {tuple(v.shape)}, the "
                                         f"parameter {p.shape}")
                    v = to_device(np.array(v, dtype=p.dtype), device_of(p.data))
                restored[k] = v.item() if hasattr(v, "shape") and np.ndim(v) == 0 else v
            new_state[p] = restored
        for saved, group in zip(saved_groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(v, (list, np.ndarray)) else copy.copy(v)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check(self, group):
        super()._check(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")

    def _update(self, param, grad, state, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        mu = group["momentum"]
        if mu:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= mu
                buf += (1 - group["dampening"]) * grad
            buf = state["momentum_buffer"]
            grad = grad + mu * buf if group["nesterov"] else buf
        param -= group["lr"] * grad


class Adagrad(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": 0.0, "sum": xp_of(p.data).full_like(
                    p.data, group["initial_accumulator_value"])}

    def _update(self, param, grad, state, group):
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= lr_t * grad / (xp_of(param).sqrt(state["sum"]) + group["eps"])


class Adam(Optimizer):
    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _check(self, group):
        super()._check(group)
        if not all(0.0 <= b < 1.0 for b in group["betas"]):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {group['betas']}")

    def _update(self, param, grad, state, group):
        xp = xp_of(param)
        if not state:
            state.update(step=0.0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(param)
        state["step"] += 1
        step, (beta1, beta2), lr = state["step"], group["betas"], group["lr"]
        if group["weight_decay"]:
            if self.decoupled_weight_decay:
                param *= 1 - lr * group["weight_decay"]
            else:
                grad = grad + group["weight_decay"] * param
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (grad - m)
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = xp.sqrt(v) / (1 - beta2 ** step) ** 0.5 + group["eps"]
        param -= lr / (1 - beta1 ** step) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p <- p * (1 - lr * wd)`` before the Adam step."""

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class RMSprop(Optimizer):
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
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
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
