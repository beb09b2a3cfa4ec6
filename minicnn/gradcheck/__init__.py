"""Finite-difference checks of any function's gradients.

For ``y = fn(*inputs)`` the analytical Jacobian comes from backward passes (row ``i``
is the vector-Jacobian product with the one-hot ``e_i``) and the numerical one from
central differences, column ``j`` being::

    (fn(x + eps * e_j) - fn(x - eps * e_j)) / (2 * eps)

Entries must agree to ``|a - n| <= atol + rtol * |n|``. The fast mode compares one
projection instead: ``v . (J u)`` by a central difference along a random direction ``u``
against ``(v^T J) . u`` from one backward pass with a random ``v``. Both modes also
check that a zero output gradient gives zero input gradients and that running
backward twice gives the same result. Run in float64: float32 inputs get a warning.

``python -m minicnn.gradcheck`` checks every op, layer and loss (see
``minicnn/gradcheck/cases.py``), prints a table and exits non-zero on any failure.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..autograd import no_grad
from ..backend import to_device
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """The analytical and numerical gradients disagree (the message says where)."""


@dataclass
class GradcheckReport:
    """Largest disagreement seen, and the first failure (None when all agree)."""

    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    failure: str | None = None

    def add(self, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float,
            describe) -> None:
        error = np.abs(analytic - numeric)
        self.max_abs_error = max(self.max_abs_error, float(error.max(initial=0.0)))
        significant = np.abs(numeric) > atol
        if significant.any():
            rel = error[significant] / np.abs(numeric[significant])
            self.max_rel_error = max(self.max_rel_error, float(rel.max()))
        bad = error > atol + rtol * np.abs(numeric)
        if bad.any() and self.failure is None:
            worst = np.unravel_index(np.argmax(np.where(bad, error, -1)), error.shape)
            self.failure = describe(worst, analytic[worst], numeric[worst])


def _outputs(result) -> list[Tensor]:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _flat_output(fn, inputs) -> np.ndarray:
    with no_grad():
        outs = _outputs(fn(*inputs))
    return np.concatenate([to_device(o.array, "cpu").astype(np.float64).ravel() for o in outs])


def _vjp(outs: list[Tensor], checked, output_grads) -> list[np.ndarray]:
    """Backpropagate ``output_grads`` (one array per output) through the recorded ``outs``;
    return the gradient of every checked input (zeros where backward gave none)."""
    for t in checked:
        t.grad = None
    pairs = [(o, g) for o, g in zip(outs, output_grads) if o.requires_grad]
    if pairs:
        total = sum((o * Tensor(np.asarray(g, dtype=o.dtype))).sum() for o, g in pairs)
        total.backward(retain_graph=True)
    return [np.zeros(t.shape) if t.grad is None
            else to_device(t.grad.array, "cpu").astype(np.float64) for t in checked]


def _perturbed(fn, inputs, tensor: Tensor, flat_index: int, delta: float) -> np.ndarray:
    view = tensor.array.reshape(-1)
    original = view[flat_index].copy()
    view[flat_index] = original + delta
    try:
        return _flat_output(fn, inputs)
    finally:
        view[flat_index] = original


def _directional(fn, inputs, checked, directions, eps: float) -> np.ndarray:
    originals = [t.array.copy() for t in checked]
    try:
        for t, u in zip(checked, directions):
            t.array += eps * u
        plus = _flat_output(fn, inputs)
        for t, base, u in zip(checked, originals, directions):
            t.array[...] = base - eps * u
        minus = _flat_output(fn, inputs)
    finally:
        for t, base in zip(checked, originals):
            t.array[...] = base
    return (plus - minus) / (2 * eps)


def check_gradients(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                    fast: bool = False, seed: int = 0) -> GradcheckReport:
    """Compare gradients as described in the module docstring; return the report."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            warnings.warn(f"gradcheck: input {i} is {t.dtype}; finite differences need float64 "
                          f"to be trustworthy", stacklevel=3)
    names = {id(t): i for i, t in enumerate(inputs)}
    report = GradcheckReport()
    rng = np.random.default_rng(seed)

    def describe_for(t, what):
        def describe(where, analytic, numeric):
            return (f"gradcheck: {what} of input {names[id(t)]} (shape {t.shape}) disagree at "
                    f"{tuple(int(i) for i in where)}: analytical {analytic:.10g}, "
                    f"numerical {numeric:.10g}")
        return describe

    outs = _outputs(fn(*inputs))
    random_grads = [rng.standard_normal(o.shape) for o in outs]
    if fast:
        directions = [rng.standard_normal(t.shape) for t in checked]
        grads = _vjp(outs, checked, random_grads)
        v = np.concatenate([g.ravel() for g in random_grads])
        numeric = np.array([v @ _directional(fn, inputs, checked, directions, eps)])
        analytic = np.array([sum(float(np.sum(g * u)) for g, u in zip(grads, directions))])
        report.add(analytic, numeric, atol, rtol,
                   describe_for(checked[0], "directional derivatives"))
    else:
        sizes = [o.numel() for o in outs]
        rows = []
        for i in range(sum(sizes)):
            one_hot = np.zeros(sum(sizes))
            one_hot[i] = 1.0
            pieces = np.split(one_hot, np.cumsum(sizes)[:-1])
            rows.append(_vjp(outs, checked, [p.reshape(o.shape) for p, o in zip(pieces, outs)]))
        for k, t in enumerate(checked):
            analytic = np.stack([r[k].ravel() for r in rows]) if rows else np.zeros((0, t.numel()))
            numeric = np.empty_like(analytic)
            for j in range(t.numel()):
                numeric[:, j] = (_perturbed(fn, inputs, t, j, eps)
                                 - _perturbed(fn, inputs, t, j, -eps)) / (2 * eps)
            report.add(analytic, numeric, atol, rtol, describe_for(t, "d(output)/d(input) entries"))

    first = _vjp(outs, checked, random_grads)
    second = _vjp(outs, checked, random_grads)
    from_zero = _vjp(outs, checked, [np.zeros(o.shape) for o in outs])
    for t, z, a, b in zip(checked, from_zero, first, second):
        if report.failure is None and np.any(z != 0):
            report.failure = (f"gradcheck: a zero output gradient gave a non-zero gradient "
                              f"(max {np.abs(z).max():.3g}) for input {names[id(t)]}")
        if report.failure is None and not np.array_equal(a, b):
            report.failure = (f"gradcheck: backward run twice gave different gradients for input "
                              f"{names[id(t)]} (max difference {np.abs(a - b).max():.3g})")
    for t in checked:
        t.grad = None
    return report


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              fast: bool = False) -> bool:
    """True when ``fn``'s gradients match finite differences; raises GradcheckError if not."""
    report = check_gradients(fn, inputs, eps, atol, rtol, fast)
    if report.failure:
        raise GradcheckError(report.failure)
    return True
