"""The autograd tape: ``Function``, its ``Context``, grad mode, and the backward walk.

Every differentiable op in minicnn is a :class:`Function` subclass with two static
methods on raw arrays, exactly as ``torch.autograd.Function``::

    class Square(Function):
        @staticmethod
        def forward(ctx, x):            # x: ndarray
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_out):    # grad_out: ndarray, shape of the output
            (x,) = ctx.saved_tensors
            return 2 * x * grad_out     # one gradient per positional input

    y = Square.apply(t)                 # t: Tensor -> y: Tensor on the tape

``apply`` unwraps Tensor arguments to arrays, runs ``forward``, and, when grad mode is on
and some input requires grad, records a :class:`Node` on the output so that
``Tensor.backward`` can later call ``backward`` with dL/d(output) and receive
dL/d(input) for each positional input (``None`` for inputs that need none).
"""
from __future__ import annotations

import contextlib
import threading

from .tensor import Tensor

_state = threading.local()


def is_grad_enabled() -> bool:
    """True unless inside :func:`no_grad`."""
    return getattr(_state, "enabled", True)


@contextlib.contextmanager
def _grad_mode(enabled: bool):
    previous = is_grad_enabled()
    _state.enabled = enabled
    try:
        yield
    finally:
        _state.enabled = previous


def no_grad():
    """Context manager (and decorator) under which no op is recorded on the tape."""
    return _grad_mode(False)


def enable_grad():
    """Context manager that turns recording back on inside :func:`no_grad`."""
    return _grad_mode(True)


class Context:
    """What ``forward`` leaves for ``backward``.

    ``save_for_backward(*arrays)`` stores arrays, read back as ``saved_tensors``;
    any other attribute may be set freely. ``needs_input_grad[i]`` tells whether
    positional input ``i`` needs a gradient, so backward may skip work.
    """

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays


class Node:
    """One recorded op: the Function class, its context, and its Tensor inputs."""

    __slots__ = ("function", "ctx", "inputs")

    def __init__(self, function, ctx: Context, inputs: tuple):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs  # one entry per positional input: a Tensor or None

    def __repr__(self) -> str:
        return f"<{self.function.__name__}Backward>"


class Function:
    """Base class of every differentiable op; subclass it and call ``apply``."""

    @staticmethod
    def forward(ctx: Context, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Context, grad_out):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_out)")

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        """Run ``forward`` on the arrays of ``args`` and record the op on the tape.

        Positional Tensor arguments are differentiable inputs; anything else
        (numbers, arrays, None) is passed to ``forward`` as it is. Keyword
        arguments are op parameters and are never differentiated.
        """
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = any(needs) and is_grad_enabled()
        ctx = Context(needs)
        out = cls.forward(ctx, *arrays, **kwargs)
        result = Tensor(out, requires_grad=record)
        if record:
            inputs = tuple(a if isinstance(a, Tensor) and a.requires_grad else None for a in args)
            result.grad_fn = Node(cls, ctx, inputs)
        return result


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` through grad_fn, each after all its consumers.

    Iterative depth-first search (no recursion, so a graph of any depth works).
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor.grad_fn is not None:
            for parent in tensor.grad_fn.inputs:
                if parent is not None and id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def backward(root: Tensor, grad_root) -> None:
    """Propagate ``grad_root`` = dL/d(root) through the tape into the leaves' ``.grad``.

    Gradients reaching the same tensor along several paths are summed; a leaf
    (a tensor with ``requires_grad`` and no ``grad_fn``) adds its total to ``.grad``.
    The tape is kept, so backward may run again on the same graph.
    """
    grads: dict[int, object] = {id(root): grad_root}
    with no_grad():
        for tensor in _topological_order(root):
            grad = grads.pop(id(tensor), None)
            if grad is None:
                continue
            node = tensor.grad_fn
            if node is None:
                tensor._accumulate_grad(grad)
                continue
            input_grads = node.function.backward(node.ctx, grad)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) != len(node.inputs):
                raise RuntimeError(
                    f"{node.function.__name__}.backward returned {len(input_grads)} gradients "
                    f"for {len(node.inputs)} inputs")
            for parent, g in zip(node.inputs, input_grads):
                if parent is None or g is None:
                    continue
                if g.shape != parent.shape:
                    raise RuntimeError(
                        f"{node.function.__name__}.backward returned a gradient of shape "
                        f"{tuple(g.shape)} for an input of shape {parent.shape}")
                if g.dtype != parent.dtype:  # a gradient has its tensor's dtype, as in torch
                    g = g.astype(parent.dtype)
                key = id(parent)
                grads[key] = g if key not in grads else grads[key] + g
