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
dL/d(input) for each positional input (``None`` for inputs that need none). The tape
links Nodes to Nodes, so only what ``save_for_backward`` keeps stays in memory.
"""
from __future__ import annotations

import contextlib
import threading

from .tensor.core import Tensor  # the module: this is imported while minicnn.tensor loads

_state = threading.local()

#: What watches every op run (``minicnn.profiler`` sets it while profiling or under
#: ``MINICNN_DEBUG=1``): ``observer.forward(cls)`` and ``observer.backward(cls)`` return a
#: callable that runs the op's forward or backward and records it. None otherwise, and then
#: the only cost is the one ``is None`` test in :meth:`Function.apply` and in :func:`backward`.
observer = None

#: The innermost ``nn.Module`` whose ``__call__`` is running (``Module.__call__`` sets it), so
#: that every Node records which layer made it (``minicnn.viz`` labels nodes with it).
current_module = None


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


class set_grad_enabled:  # noqa: N801 - torch's name
    """``set_grad_enabled(mode)`` turns recording on or off at once, as torch's; used as a
    context manager (``with set_grad_enabled(phase == "train"):``) it restores the previous
    mode on exit. ``mode`` must be a bool (``TypeError`` otherwise, as torch)."""

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__}")
        self.previous = is_grad_enabled()
        _state.enabled = mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info) -> None:
        _state.enabled = self.previous


def inference_mode(mode: bool = True):
    """torch's ``inference_mode``: here :func:`no_grad` when ``mode`` is True (context manager
    and decorator), no change when False. minicnn has no inference tensors: what is made
    inside is an ordinary tensor that may later enter a graph, where torch would refuse."""
    return _grad_mode(False) if mode else _unchanged()


@contextlib.contextmanager
def _unchanged():
    yield


class Context:
    """What ``forward`` leaves for ``backward``.

    ``save_for_backward(*arrays)`` stores arrays, read back as ``saved_tensors``;
    any other attribute may be set freely. ``needs_input_grad[i]`` tells whether
    positional input ``i`` needs a gradient, so backward may skip work.
    """

    versions: tuple = ()  # set by Function.apply: see _saved_versions

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self._saved: tuple | None = ()

    def save_for_backward(self, *arrays) -> None:
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise RuntimeError("backward through the graph a second time: its saved arrays were "
                               "freed by the first; call backward(retain_graph=True) the first "
                               "time")
        return self._saved

    def release(self) -> None:
        """Drop the saved arrays (backward is done with them)."""
        self._saved = None


def op_name(function) -> str:
    """The op's name: its Function class's name without a trailing ``Function``
    (``ReLUFunction`` is ``ReLU``), as the tape, the profiler and ``minicnn.viz`` show it."""
    name = function.__name__
    return name[:-len("Function")] if name.endswith("Function") and name != "Function" else name


class Node:
    """One recorded op: the Function class, its context, and where each input came from.

    ``parents[i]`` is the Node that produced positional input ``i``, the input itself when
    it is a leaf that requires grad, or None. The tape links Nodes, not the intermediate
    Tensors, so an intermediate result is freed as soon as nothing but the tape would hold
    it (backward keeps only what ``save_for_backward`` kept), as in PyTorch.
    """

    __slots__ = ("function", "ctx", "parents", "shapes", "output", "module")

    def __init__(self, function, ctx: Context, parents: tuple, shapes: tuple,
                 output: tuple | None = None, module=None):
        self.function = function
        self.ctx = ctx
        self.parents = parents
        self.shapes = shapes  # (shape, dtype) of each input that has a parent
        self.output = output  # (shape, dtype) of the op's result (for minicnn.viz)
        self.module = module  # the nn.Module whose forward recorded it, or None

    def __repr__(self) -> str:
        return f"<{op_name(self.function)}Backward>"


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
        arrays = [a.array if isinstance(a, Tensor) else a for a in args]
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = any(needs) and is_grad_enabled()
        ctx = Context(needs)
        forward = cls.forward if observer is None else observer.forward(cls)
        out = forward(ctx, *arrays, **kwargs)
        result = Tensor(out)
        if record and result.array.dtype.kind == "f":  # integer or bool results need no grad
            result.requires_grad = True
            parents = tuple((a.grad_fn or a) if need else None for a, need in zip(args, needs))
            shapes = tuple((a.shape, a.array.dtype) if need else None
                           for a, need in zip(args, needs))
            result.grad_fn = Node(cls, ctx, parents, shapes, (result.shape, result.array.dtype),
                                  current_module)
            if ctx._saved:
                ctx.versions = _saved_versions(ctx._saved, (result, *args))
        return result


def _saved_versions(saved: tuple, tensors: tuple) -> tuple:
    """``(position in saved, the tensor's version counter, its version now, which)`` for each
    saved array that is the array of the output or an input, so that backward can tell when
    an in-place write changed it since (torch's saved-variable version check)."""
    found = []
    for position, array in enumerate(saved):
        for which, t in enumerate(tensors):
            if isinstance(t, Tensor) and t.array is array:
                counter = t._version_counter
                found.append((position, counter, counter[0], which))
                break
    return tuple(found)


def _check_versions(node: Node) -> None:
    """RuntimeError, as torch's, if an array ``node`` saved was written in place since."""
    if node.ctx._saved is None:
        return  # freed: saved_tensors raises torch's "backward a second time" error
    for position, counter, version, which in node.ctx.versions:
        if counter[0] != version:
            array = node.ctx._saved[position]
            role = "output 0" if which == 0 else f"input {which - 1}"
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{array.dtype} {tuple(array.shape)}], which is {role} of "
                f"{node!r}, is at version {counter[0]}; expected version {version} instead.")


def _topological_order(root) -> list:
    """Nodes and leaf Tensors reachable from ``root``, each after all its consumers.

    Iterative depth-first search (no recursion, so a graph of any depth works).
    """
    order: list = []
    visited: set[int] = set()
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        item, expanded = stack.pop()
        if expanded:
            order.append(item)
            continue
        if id(item) in visited:
            continue
        visited.add(id(item))
        stack.append((item, True))
        if isinstance(item, Node):
            for parent in item.parents:
                if parent is not None and id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def backward(root: Tensor, grad_root, retain_graph: bool = False) -> None:
    """Propagate ``grad_root`` = dL/d(root) through the tape into the leaves' ``.grad``.

    Gradients reaching the same Node or leaf along several paths are summed; a leaf
    adds its total to ``.grad``. Each Node's saved arrays are freed once its backward has
    run, unless ``retain_graph`` (then backward may run again on the same graph).
    """
    start = root.grad_fn or root
    grads: dict[int, object] = {id(start): grad_root}
    with no_grad():
        for item in _topological_order(start):
            grad = grads.pop(id(item), None)
            if grad is None:
                continue
            if isinstance(item, Tensor):
                item._accumulate_grad(grad)
                continue
            _check_versions(item)
            run = item.function.backward if observer is None else observer.backward(item.function)
            input_grads = run(item.ctx, grad)
            if not retain_graph:
                item.ctx.release()
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) != len(item.parents):
                raise RuntimeError(
                    f"{item.function.__name__}.backward returned {len(input_grads)} gradients "
                    f"for {len(item.parents)} inputs")
            for parent, meta, g in zip(item.parents, item.shapes, input_grads):
                if parent is None or g is None:
                    continue
                shape, dtype = meta
                if tuple(g.shape) != tuple(shape):
                    raise RuntimeError(
                        f"{item.function.__name__}.backward returned a gradient of shape "
                        f"{tuple(g.shape)} for an input of shape {tuple(shape)}")
                if g.dtype != dtype:  # a gradient has its tensor's dtype, as in torch
                    g = g.astype(dtype)
                key = id(parent)
                grads[key] = g if key not in grads else grads[key] + g
            input_grads = g = None  # a leaf's .grad may then take its gradient (no copy)
