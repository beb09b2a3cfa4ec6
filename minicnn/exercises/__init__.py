"""Exercises graded by the engine: write a layer's forward or backward, or an optimizer's step,
and ``check`` it against minicnn's reference kernels and finite differences.

    >>> from minicnn import exercises
    >>> exercises.names()[:3]
    ['conv2d_forward', 'conv2d_backward', 'max_pool2d_backward']
    >>> exercises.check("adam_step", exercises.solution("adam_step"), verbose=False)
    True

Each exercise has a page in ``docs/exercises/`` (the math, the shapes, a skeleton to fill in).
``check(name, fn)`` calls ``fn`` on every case of ``minicnn/exercises/cases.py`` (varied
shapes, strides, paddings, dilations, batch 1, odd sizes, and a float64 finite-difference
case for each gradient), prints ``ok`` or ``FAIL`` per case and, for the first case that
fails, the first value that differs (yours and the expected one) and a hint; it returns True
when every case passes. An exception raised by ``fn``, a wrong number of results, a wrong
shape, and a write into an argument (exercise functions return new arrays) each fail the
case. ``solution(name)`` is the reference solution (``minicnn/exercises/solutions.py``),
with the skeleton's signature.
"""
from __future__ import annotations

import inspect
import textwrap

import numpy as np

from . import cases as _cases
from . import solutions as _solutions

#: Each exercise's name and the names of the results its function returns, in order.
_OUTPUTS = {
    "conv2d_forward": ("y",),
    "conv2d_backward": ("grad_x", "grad_weight", "grad_bias"),
    "max_pool2d_backward": ("grad_x",),
    "batch_norm_backward": ("grad_x", "grad_gamma", "grad_beta"),
    "softmax_cross_entropy": ("loss", "grad_logits"),
    "sgd_momentum_step": ("new_param", "new_velocity"),
    "adam_step": ("new_param", "new_exp_avg", "new_exp_avg_sq"),
}

#: What each result is, said when it is the one that differs.
_OUTPUT_HINTS = {
    "grad_weight": "grad_weight has the weight's shape (F, C, kh, kw): it sums grad_y[n, f] "
                   "against the input of channel c, not the other way round (a transposed "
                   "weight gradient has shape (C, F, kh, kw))",
    "grad_bias": "grad_bias[f] sums grad_y over the batch and every output pixel",
    "grad_gamma": "grad_gamma sums grad_y * xhat per channel",
    "grad_beta": "grad_beta sums grad_y per channel",
    "loss": "the loss is a number: the mean over the batch of -log softmax at the target",
}


def names() -> list[str]:
    """The exercises, in the order of the docs."""
    return list(_OUTPUTS)


def _known(name: str) -> None:
    if name not in _OUTPUTS:
        raise ValueError(f"minicnn.exercises: unknown exercise {name!r}; known: {names()}")


def solution(name: str):
    """The reference solution of exercise ``name`` (same signature as its skeleton)."""
    _known(name)
    return getattr(_solutions, name)


def cases(name: str) -> list:
    """The graded cases of exercise ``name`` (``minicnn/exercises/cases.py``)."""
    _known(name)
    return getattr(_cases, f"{name}_cases")()


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _written(args: tuple, copies: tuple, names: list) -> str | None:
    for k, (before, after) in enumerate(zip(args, copies)):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
            return names[k] if k < len(names) else f"argument {k}"
    return None


def _difference(label: str, got, expected, rtol: float, atol: float) -> str | None:
    """None when ``got`` matches ``expected``, else what differs (the first value, both ways)."""
    expected = np.asarray(expected, dtype=np.float64)
    if got is None:
        return f"{label} is None: return an array"
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{label} is {type(got).__name__}, not an array of numbers"
    if got.shape != expected.shape:
        return f"{label} has shape {got.shape}, expected {expected.shape}"
    close = np.isclose(got, expected, rtol=rtol, atol=atol)
    if close.all():
        return None
    bad = np.argwhere(~close)
    index = tuple(int(i) for i in bad[0])
    where = f"{label}[{', '.join(map(str, index))}]" if index else label
    spread = np.nanmax(np.abs(got - expected)) if np.isfinite(got).all() else float("nan")
    return (f"{where} is {got[index]:.6g}, expected {expected[index]:.6g} "
            f"({len(bad)} of {expected.size} values differ, largest difference {spread:.3g})")


def _call(fn, args: tuple, kwargs: dict, arg_names: list, outputs: tuple):
    """``(results, None)`` or ``(None, why the call failed)``."""
    copies = tuple(_copy(a) for a in args)
    try:
        results = fn(*copies, **kwargs)
    except Exception as exc:  # the student's bug is a failed case, not a crash of check
        return None, f"your function raised {type(exc).__name__}: {exc}"
    written = _written(args, copies, arg_names)
    if written is not None:
        return None, (f"your function changed its argument {written}; "
                      "return new arrays and leave the arguments as they are")
    if len(outputs) > 1:
        if not isinstance(results, (tuple, list)) or len(results) != len(outputs):
            count = len(results) if isinstance(results, (tuple, list)) else 1
            return None, f"your function returned {count} result(s), expected {len(outputs)}: " \
                         f"({', '.join(outputs)})"
        return tuple(results), None
    return (results,), None


def _grade(case, fn, arg_names: list, outputs: tuple) -> tuple[str | None, str | None]:
    """``(None, None)`` when ``case`` passes, else ``(what differs, the result's name)``."""
    if not case.steps:
        results, why = _call(fn, case.args, {}, arg_names, outputs)
        if why:
            return why, None
        for label, got, expected in zip(outputs, results, case.expected):
            why = _difference(label, got, expected, case.rtol, case.atol)
            if why:
                return why, label
        return None, None
    state = case.args
    for number, (added, scalars, extra, expected) in enumerate(case.steps, start=1):
        args = (state[0], *added, *state[1:], *scalars)
        results, why = _call(fn, args, extra, arg_names, outputs)
        if why:
            return f"step {number}: {why}", None
        for label, got, want in zip(outputs, results, expected):
            why = _difference(label, got, want, case.rtol, case.atol)
            if why:
                return f"step {number}: {why}", label
        state = results
    return None, None


def check(name: str, fn, verbose: bool = True) -> bool:
    """Grade ``fn`` on every case of exercise ``name`` (module docstring); True when all pass.

    ``verbose=False`` prints nothing."""
    _known(name)
    if not callable(fn):
        raise TypeError(f"minicnn.exercises.check: fn must be a function, got {type(fn).__name__}")
    outputs = _OUTPUTS[name]
    arg_names = list(inspect.signature(solution(name)).parameters)
    def say(text: str) -> None:
        if verbose:
            print(textwrap.fill(text, width=96, subsequent_indent=" " * 8,
                                break_long_words=False, break_on_hyphens=False))

    passed, hinted = 0, False
    all_cases = cases(name)
    say(name)
    for case in all_cases:
        why, label = _grade(case, fn, arg_names, outputs)
        if why is None:
            passed += 1
            say(f"  ok    {case.name}")
            continue
        say(f"  FAIL  {case.name}: {why}")
        if not hinted:
            hint = case.hint + (f"; {_OUTPUT_HINTS[label]}" if label in _OUTPUT_HINTS else "")
            say(f"        hint: {hint}")
            hinted = True
    say(f"{name}: {passed} of {len(all_cases)} cases pass")
    return passed == len(all_cases)


__all__ = ["names", "solution", "check", "cases"]
