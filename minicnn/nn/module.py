"""``Module``: the base of every layer and model, with PyTorch's API.

Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it, so
``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``to()`` reach every
submodule. Buffers (``register_buffer``) are state that is not learned, such as
BatchNorm's running statistics; they are saved unless registered with ``persistent=False``.

Calling a module runs, as torch: the forward pre-hooks (which may replace the positional
arguments), ``forward``, the forward hooks (which may replace the output), and puts the
full backward hooks on the tape (``minicnn/nn/hooks.py``). Every ``register_*_hook``
returns a handle whose ``remove()`` unregisters the hook.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Iterator

import numpy as np

from .. import autograd, backend
from ..tensor import Tensor
from ..tensor import device as Device
from . import hooks
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

_HOOK_REGISTRIES = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
                    "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
                    "_backward_hooks")


class Module:
    """Base class: subclass it, create layers in ``__init__``, compute in ``forward``."""

    def __init__(self):
        for name in ("_parameters", "_buffers", "_modules") + _HOOK_REGISTRIES:
            object.__setattr__(self, name, OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "training", True)

    # ---- registration -----------------------------------------------------------
    def _registry(self, name: str) -> OrderedDict:
        try:
            return object.__getattribute__(self, name)
        except AttributeError:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning parameters, buffers or submodules") from None

    def __setattr__(self, name: str, value) -> None:
        params, buffers, modules = (self._registry("_parameters"), self._registry("_buffers"),
                                    self._registry("_modules"))
        if isinstance(value, (Parameter, Module)):
            for registry in (params, buffers, modules, self.__dict__):
                registry.pop(name, None)
            self._non_persistent_buffers_set.discard(name)
            (params if isinstance(value, Parameter) else modules)[name] = value
            return
        for registry, kind in ((params, Parameter), (buffers, Tensor), (modules, Module)):
            if name in registry:
                if value is not None and not isinstance(value, kind):
                    raise TypeError(f"{type(self).__name__}.{name}: cannot assign a "
                                    f"{type(value).__name__} where a {kind.__name__} is registered")
                registry[name] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        for registry in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, kind: str, name, registry: str) -> None:
        """torch's checks on a new member's name: a str (else TypeError), not empty, without
        '.', and not an attribute of another kind (else KeyError)."""
        self._registry(registry)
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: {kind} name should be a string, "
                            f"got {type(name).__name__} {name!r}")
        if name == "":
            raise KeyError(f'{type(self).__name__}: {kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{type(self).__name__}: {kind} name can\'t contain ".", got: {name}')
        if hasattr(self, name) and name not in getattr(self, registry):
            raise KeyError(f"{type(self).__name__}: attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        self._check_name("parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}: cannot assign '{type(param).__name__}' "
                            f"object to parameter '{name}' (nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"{type(self).__name__}: cannot assign a non-leaf Tensor to "
                             f"parameter '{name}'; make it a leaf (.detach()) first")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: a Tensor that ``to()`` converts and, when ``persistent``,
        ``state_dict()`` holds; not returned by ``parameters()``."""
        self._check_name("buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{type(self).__name__}: cannot assign '{type(tensor).__name__}' "
                            f"object to buffer '{name}' (Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add ``module`` as the submodule ``name`` (reachable as an attribute)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {type(module).__name__} is not "
                            f"a Module subclass")
        self._check_name("module", name, "_modules")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` (``''`` is ``self``)."""
        module = self
        for item in target.split(".") if target else ():
            child = module._modules.get(item)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule `{item}` "
                                     f"(looking up {target!r})")
            module = child
        return module

    # ---- traversal --------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """``self`` and every submodule, depth first in registration order, with dotted
        names; a module reached twice is given once unless ``remove_duplicate=False``."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                                remove_duplicate)

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers(recurse=recurse))

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every submodule (children first, recursively), then on
        ``self``; e.g. ``model.apply(init_weights)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ----------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train: mode must be a bool, got {mode!r}")
        object.__setattr__(self, "training", mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.array[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (``False`` freezes the module)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ---- device and dtype -------------------------------------------------------
    def _convert(self, fn) -> Module:
        """Replace every parameter's and buffer's array by ``fn(array)``, in place."""
        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor.array = fn(tensor.array)
            if tensor.grad is not None:
                tensor.grad.array = fn(tensor.grad.array)
        return self

    def to(self, target=None, dtype=None) -> Module:
        """``model.to('cuda')``, ``model.to(minicnn.float64)``, ``model.to(device, dtype)`` or
        ``model.to(tensor)`` (its device and dtype); only floating tensors change dtype."""
        if isinstance(target, Tensor):
            target, dtype = target.device, target.dtype
        elif target is not None and not isinstance(target, (str, Device)):
            target, dtype = None, target
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}.to only accepts floating point dtypes, "
                                f"got {dtype}")
            self._convert(lambda a: a.astype(dtype) if a.dtype.kind == "f" else a)
        if target is not None:
            name = str(Device(target))
            self._convert(lambda a: backend.to_device(a, name))
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self) -> Module:
        return self.to("cuda")

    # ---- state ------------------------------------------------------------------
    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False):
        """Every parameter and persistent buffer by dotted name (a module reached by two
        paths under both), as Tensors sharing memory: detached unless ``keep_vars``."""
        state = OrderedDict() if destination is None else destination
        for registry in (self._parameters, self._buffers):
            for name, value in registry.items():
                if value is not None and name not in self._non_persistent_buffers_set:
                    state[prefix + name] = value if keep_vars else value.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=state, prefix=f"{prefix}{name}.",
                                  keep_vars=keep_vars)
        return state

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` (Tensors or arrays) into this module's tensors.

        Every key and shape is checked before anything is written, so a mismatched
        dict raises ``RuntimeError`` (torch's type) and leaves the module unchanged. With
        ``strict=False`` missing and unexpected keys are allowed (returned), but shapes
        must still match.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict:
            problems += [f"missing key {k!r}" for k in missing]
            problems += [f"unexpected key {k!r}" for k in unexpected]
        staged = {}
        for key in own.keys() & state_dict.keys():
            value, target = _array(state_dict[key]), own[key]
            if tuple(value.shape) != target.shape:
                problems.append(f"{key!r}: the checkpoint has shape {tuple(value.shape)}, "
                                f"the model {target.shape}")
            elif value.dtype.kind not in "fiub":
                problems.append(f"{key!r}: the checkpoint holds dtype {value.dtype}, not numbers")
            else:
                staged[key] = value
        if problems:
            raise RuntimeError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        for key, value in staged.items():
            target = own[key]
            target.array[...] = backend.to_device(value, backend.device_of(target.array))
        return IncompatibleKeys(missing, unexpected)

    # ---- hooks ------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> hooks.RemovableHandle:
        """``hook(module, args)`` before ``forward``; a value it returns replaces ``args``
        (a non-tuple is wrapped in one). With ``with_kwargs``: ``hook(module, args,
        kwargs)``, returning None or ``(args, kwargs)``."""
        handle = hooks.register(self._forward_pre_hooks, hook, prepend,
                                self._forward_pre_hooks_with_kwargs)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> hooks.RemovableHandle:
        """``hook(module, args, output)`` after ``forward`` (``hook(module, args, kwargs,
        output)`` with ``with_kwargs``); a value it returns replaces the output. With
        ``always_call`` it also runs when ``forward`` raised (then ``output`` is None)."""
        handle = hooks.register(self._forward_hooks, hook, prepend,
                                self._forward_hooks_with_kwargs,
                                self._forward_hooks_always_called)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_hook(self, hook, prepend: bool = False) -> hooks.RemovableHandle:
        """``hook(module, grad_input, grad_output)`` during backward (see
        ``minicnn/nn/hooks.py``); a tuple it returns replaces ``grad_input``."""
        return hooks.register(self._backward_hooks, hook, prepend)

    def _has_hooks(self) -> bool:
        return any(self.__dict__.get(name) for name in _HOOK_REGISTRIES)

    # ---- calling and printing ---------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        outer, autograd.current_module = autograd.current_module, self  # for the tape's Nodes
        try:
            return self._call(args, kwargs)
        finally:
            autograd.current_module = outer

    def _call(self, args: tuple, kwargs: dict):
        """``forward`` with the hooks around it."""
        if not self._has_hooks():
            return self.forward(*args, **kwargs)
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"{type(self).__name__}: a forward pre-hook with "
                                           f"kwargs must return None or (args, kwargs), got "
                                           f"{type(result).__name__}")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        call = None
        if self._backward_hooks:
            args, call = hooks.hook_inputs(self, list(self._backward_hooks.values()), args)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for key, hook in list(self._forward_hooks.items()):
                if key in self._forward_hooks_always_called:
                    self._run_forward_hook(key, hook, args, kwargs, None)
            raise
        for key, hook in list(self._forward_hooks.items()):
            result = self._run_forward_hook(key, hook, args, kwargs, output)
            if result is not None:
                output = result
        return hooks.hook_outputs(call, output)

    def _run_forward_hook(self, key, hook, args, kwargs, output):
        if key in self._forward_hooks_with_kwargs:
            return hook(self, args, kwargs, output)
        return hook(self, args, output)

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        """torch's layout: ``Name(extra)`` alone, or one indented line per ``extra_repr``
        line and per child ``(name): repr``, closed by ``)`` on its own line."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + indent(repr(module)) for name, module in
                       self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if len(extra_lines) == 1 and not child_lines:
            text += extra_lines[0]
        elif lines:
            text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def indent(text: str, spaces: int = 2) -> str:
    """``text`` with every line after the first indented by ``spaces``."""
    return text.replace("\n", "\n" + " " * spaces)


def _array(value):
    """The array inside a Tensor, a CuPy array as it is, anything else as a NumPy array."""
    if isinstance(value, Tensor):
        return value.array
    return value if backend.is_cupy_array(value) else np.asarray(value)
