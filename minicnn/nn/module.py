"""``Module``: the base of every layer and model, with PyTorch's API.

Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it, so
``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``to()`` reach every
submodule. Buffers (``register_buffer``) are state that is saved but not learned, such
as BatchNorm's running statistics.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Iterator

import numpy as np

from .. import backend
from ..tensor import Tensor, device as Device
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class: subclass it, create layers in ``__init__``, compute in ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration -----------------------------------------------------------
    def _registry(self, name: str) -> OrderedDict:
        try:
            return object.__getattribute__(self, name)
        except AttributeError:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning parameters or submodules") from None

    def __setattr__(self, name: str, value) -> None:
        params, buffers, modules = (self._registry("_parameters"), self._registry("_buffers"),
                                    self._registry("_modules"))
        if isinstance(value, (Parameter, Module)):
            for registry in (params, buffers, modules, self.__dict__):
                registry.pop(name, None)
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
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        self._buffers[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        self._modules[name] = module

    # ---- traversal --------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Every module in the tree, depth first, each once, with its dotted name."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()
                        if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return ((k, m) for k, m in self._modules.items() if m is not None)

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def _named_members(self, registry: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers(recurse))

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every submodule, then on ``self``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ----------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
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
        for p in self.parameters():
            p.requires_grad = requires_grad
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
        """``model.to('cuda')``, ``model.to(minicnn.float64)``; floating tensors only change dtype."""
        if target is not None and not isinstance(target, (str, Device)):
            target, dtype = None, target
        if dtype is not None:
            dtype = np.dtype(dtype)
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
    def state_dict(self) -> OrderedDict:
        """Every parameter and buffer by dotted name, as detached Tensors sharing memory."""
        state = OrderedDict()
        for prefix, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, value in registry.items():
                    if value is not None:
                        state[f"{prefix}.{name}" if prefix else name] = value.detach()
        return state

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` (Tensors or arrays) into this module's tensors.

        Every key and shape is checked before anything is written, so a mismatched
        dict raises and leaves the module unchanged. With ``strict=False`` missing and
        unexpected keys are allowed (returned), but shapes must still match.
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
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        for key, value in staged.items():
            target = own[key]
            target.array[...] = backend.to_device(value, backend.device_of(target.array))
        return IncompatibleKeys(missing, unexpected)

    # ---- calling and printing ---------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(module).replace("\n", "\n  ")
                 for name, module in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _array(value):
    """The array inside a Tensor, a CuPy array as it is, anything else as a NumPy array."""
    if isinstance(value, Tensor):
        return value.array
    return value if backend.is_cupy_array(value) else np.asarray(value)
