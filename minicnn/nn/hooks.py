"""Module hooks: the handles that remove them, and the tape ops behind full backward hooks.

``register_full_backward_hook(hook)`` calls ``hook(module, grad_input, grad_output)``
during backward, as torch: ``grad_output[j] = dL/d(output_j)`` for each entry of the
module's output and ``grad_input[i] = dL/d(args[i])`` for each positional argument, with
``None`` for an entry that is not a Tensor and, when some input needs a gradient, zeros
for a Tensor input that needs none (torch's materialised gradient); when none does, every
``grad_input`` entry is None. A tuple returned by the hook replaces ``grad_input`` in the
rest of the backward walk.

How: a call of a module with backward hooks puts three identity ops on the tape::

    input_i ──┬───────────────────────────── _Gather ── token
              └── _Pass_i(input_i, token) ── module.forward ── _Collect_j ── output_j

``_Collect_j`` records ``dL/d(output_j)``. ``_Pass_i`` forwards ``input_i``; its backward
records ``dL/d(input_i)`` (the sum over every use inside the module, since the tape runs a
node after all its consumers) and sends the gradient on to ``token`` only, as a zero. So
``_Gather``, which every ``_Pass_i`` consumes, runs once all of them have: it calls the hooks
with the complete tuples and returns the (possibly replaced) ``dL/d(input_i)`` to the inputs.
When no input needs a gradient, the last ``_Collect`` calls the hooks with
``grad_input = (None, ...)``, as torch does.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict

from .. import backend
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook; usable as
    a context manager (the hook is removed when the block ends)."""

    _ids = itertools.count()

    def __init__(self, *registries: OrderedDict):
        self.id = next(RemovableHandle._ids)
        self._registries = registries

    def remove(self) -> None:
        for registry in self._registries:
            registry.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register(registry: OrderedDict, hook, prepend: bool, *extra: OrderedDict) -> RemovableHandle:
    """Put ``hook`` in ``registry`` (first when ``prepend``), return its handle; ``extra``
    registries (options stored per hook) are cleared with it."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(registry, *extra)
    registry[handle.id] = hook
    if prepend:
        registry.move_to_end(handle.id, last=False)
    return handle


class _BackwardCall:
    """The state one module call shares with its backward: the gradients seen so far."""

    def __init__(self, module, hooks: list, n_inputs: int):
        self.module, self.hooks = module, hooks
        self.grad_inputs: list = [None] * n_inputs
        self.grad_outputs: list = []
        self.outputs_left = 0
        self.inputs_need_grad = False
        self.untracked: dict = {}  # position -> array of a Tensor input that needs no grad

    def call_hooks(self) -> tuple:
        """Run the hooks in order on Tensors; return the final ``grad_input`` arrays."""
        for k, array in self.untracked.items():  # zeros, as torch's materialised gradients
            self.grad_inputs[k] = backend.xp_of(array).zeros_like(array)
        wrap = lambda grads: tuple(None if g is None else Tensor(g) for g in grads)  # noqa: E731
        grad_input, grad_output = wrap(self.grad_inputs), wrap(self.grad_outputs)
        for hook in self.hooks:
            result = hook(self.module, grad_input, grad_output)
            if result is None:
                continue
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(grad_input):
                raise RuntimeError(f"{type(self.module).__name__} backward hook returned "
                                   f"{len(result)} grad_input entries, expected "
                                   f"{len(grad_input)}")
            grad_input = tuple(None if g is None else g if isinstance(g, Tensor) else Tensor(g)
                               for g in result)
        return tuple(None if g is None else g.array for g in grad_input)


class _Gather(Function):
    """``token = 0``, a scalar after every input; its backward calls the hooks."""

    @staticmethod
    def forward(ctx, *inputs, call: _BackwardCall, slots: tuple):
        ctx.call, ctx.slots = call, slots
        return backend.xp_of(inputs[0]).zeros((), dtype=inputs[0].dtype)

    @staticmethod
    def backward(ctx, grad_token):
        grad_input = ctx.call.call_hooks()
        return tuple(grad_input[i] for i in ctx.slots)


class _Pass(Function):
    """``input_i`` unchanged; backward records its gradient and hands the token a zero."""

    @staticmethod
    def forward(ctx, x, token, index: int, call: _BackwardCall):
        ctx.index, ctx.call, ctx.token = index, call, token
        return x

    @staticmethod
    def backward(ctx, grad):
        ctx.call.grad_inputs[ctx.index] = grad
        return None, backend.xp_of(ctx.token).zeros_like(ctx.token)


class _Collect(Function):
    """``output_j`` unchanged; backward records ``dL/d(output_j)``."""

    @staticmethod
    def forward(ctx, y, index: int, call: _BackwardCall):
        ctx.index, ctx.call = index, call
        return y

    @staticmethod
    def backward(ctx, grad):
        call = ctx.call
        call.grad_outputs[ctx.index] = grad
        call.outputs_left -= 1
        if not call.inputs_need_grad and call.outputs_left == 0:
            call.call_hooks()
        return grad


def hook_inputs(module, hooks: list, args: tuple) -> tuple[tuple, _BackwardCall | None]:
    """``args`` with each positional Tensor that requires grad put behind a ``_Pass``, and
    the call's state (None when grad mode is off: nothing will run backward)."""
    if not is_grad_enabled():
        return args, None
    call = _BackwardCall(module, hooks, len(args))
    tracked = [k for k, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not tracked:
        return args, call
    call.inputs_need_grad = True
    call.untracked = {k: a.array for k, a in enumerate(args)
                      if isinstance(a, Tensor) and not a.requires_grad}
    token = _Gather.apply(*(args[k] for k in tracked), call=call, slots=tuple(tracked))
    args = list(args)
    for k in tracked:
        args[k] = _Pass.apply(args[k], token, index=k, call=call)
    return tuple(args), call


def hook_outputs(call: _BackwardCall | None, result):
    """``result`` (a Tensor or a tuple/list of them) with each Tensor on the tape put behind
    a ``_Collect``."""
    if call is None:
        return result
    items = result if isinstance(result, (tuple, list)) else (result,)
    call.grad_outputs = [None] * len(items)
    wrapped = []
    for j, y in enumerate(items):
        if isinstance(y, Tensor) and y.requires_grad:
            y = _Collect.apply(y, index=j, call=call)
            call.outputs_left += 1
        wrapped.append(y)
    if isinstance(result, (tuple, list)):
        return type(result)(wrapped)
    return wrapped[0]
