"""``Optimizer``: the base class of every optimizer, shaped like ``torch.optim.Optimizer``.

An optimizer holds ``param_groups``, a list of dicts each with ``'params'`` (a list of
leaf Tensors) and its own hyperparameters (a group's missing options come from
``defaults``), and ``state``, a dict from parameter to its buffers (``'step'``,
``'exp_avg'``, ...; the names are torch's). A subclass defines :meth:`_update`, the step
for one parameter on raw arrays, in place.

``state_dict()`` / ``load_state_dict()`` save and restore everything a run needs to
resume exactly: hyperparameters of every group and each parameter's buffers and step count.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np

from ..autograd import enable_grad
from ..backend import device_of, to_device
from ..tensor import Tensor

# option -> (lowest, highest), both included: the ranges torch's constructors check
_RANGES = {key: (0.0, np.inf) for key in (
    "lr", "eps", "weight_decay", "momentum", "dampening", "lr_decay",
    "initial_accumulator_value", "alpha", "momentum_decay")}
_RANGES["rho"] = (0.0, 1.0)


def weight_decayed(grad, param, group: dict):
    """``g + wd * p`` (a new array) when the group has weight decay ``wd``, else ``g``."""
    return grad + group["weight_decay"] * param if group["weight_decay"] else grad


class Optimizer:
    """Holds ``param_groups`` and per-parameter ``state``; see the module docstring.

    ``params`` is an iterable of Tensors (one group) or of dicts (one group each, with
    ``'params'`` and any options that differ from ``defaults``).
    """

    def __init__(self, params, defaults: dict):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict = {}
        params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        for group in (params if isinstance(params[0], dict) else [{"params": params}]):
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group (a dict with ``'params'`` and options); missing options take the
        defaults. Raises TypeError for a non-Tensor parameter or a set of parameters and
        ValueError for a non-leaf parameter, a parameter already in another group or an
        option out of range."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: param_group must be a dict, "
                            f"got {type(param_group).__name__}")
        params = param_group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters need to be in an ordered collection (a "
                            f"set's order changes between runs); use a list")
        elif params is None:
            raise ValueError(f"{name}.add_param_group: the group has no 'params'")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor of shape {p.shape}")
        if len({id(p) for p in params}) != len(params):
            warnings.warn(f"{name}: a parameter group contains duplicate parameters",
                          UserWarning, stacklevel=2)
        group = {**self.defaults, **param_group, "params": params}
        self._check(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _check(self, group: dict) -> None:
        """Raise ValueError for a hyperparameter out of torch's range (subclasses add their
        own rules)."""
        name = type(self).__name__
        for key, (low, high) in _RANGES.items():
            if key in group and not low <= group[key] <= high:
                rule = f">= {low}" if high == np.inf else f"in [{low}, {high}]"
                raise ValueError(f"{name}: {key} must be {rule}, got {group[key]}")
        for i, beta in enumerate(group.get("betas", ())):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: betas must be in [0, 1), got beta at index {i}: "
                                 f"{beta} (betas={tuple(group['betas'])})")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.array[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        self._opt_called = True  # lr schedulers warn when they step before the optimizer
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p.array, p.grad.array, self.state.setdefault(p, {}), group)
        return loss

    def _update(self, param, grad, state: dict, group: dict) -> None:
        """One step for one parameter: ``param`` (raw array, updated in place), ``grad``,
        its ``state`` dict and its ``group``."""
        raise NotImplementedError(f"{type(self).__name__} must define _update")

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
                    v = to_device(np.array(v, dtype=p.dtype), device_of(p.array))
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
