"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict`` and ``ParameterList``."""
from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Mapping

from ..tensor import Tensor
from .fusion import run_sequence
from .module import Module, indent
from .parameter import Parameter


def _position(where: str, index, length: int) -> int:
    """``index`` (an int, possibly negative) as a position in ``range(length)``."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"{where}: index {index} is out of range for length {length}")
    return index % length


class Sequential(Module):
    """Calls its modules in order, each on the previous one's output.

    ``Sequential(a, b, c)`` names them ``0, 1, 2``; ``Sequential(OrderedDict(...))`` keeps
    the given names. A ``BatchNorm2d, ReLU, MaxPool2d`` run is computed as one fused op,
    with the same values and gradients (``minicnn/nn/fusion.py``), unless one of the three
    has a hook.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(OrderedDict(items[index]))
        return items[_position("Sequential", index, len(items))][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        return run_sequence(list(self._modules.values()), x)


class ModuleList(Module):
    """A list of modules whose parameters are registered; indexable and iterable.

    Its repr folds a run of equal entries into one line, ``(0-2): 3 x Linear(...)``, as
    torch's does.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        values = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(values[index])
        return values[_position("ModuleList", index, len(values))]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_position("ModuleList", index, len(self))), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __repr__(self) -> str:
        runs: list[list] = []  # [first index, last index, repr]
        for k, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = k
            else:
                runs.append([k, k, text])
        if not runs:
            return self._get_name() + "()"
        lines = [indent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}")
                 for a, b, text in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """Modules by string key, in insertion order, registered as submodules:
    ``d['conv']``, ``d['conv'] = m``, ``del d['conv']``, ``in``, ``len``, ``keys()``,
    ``values()``, ``items()``, ``update()``, ``pop()``, ``clear()``. A key that is not a str
    raises ``TypeError``, as torch."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules) -> None:
        """Add the entries of a mapping, or of an iterable of ``(key, module)`` pairs."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        else:
            try:
                pairs = list(modules)
            except TypeError:
                raise TypeError(f"ModuleDict.update: expected a mapping or an iterable of "
                                f"(key, module) pairs, got {type(modules).__name__}") from None
        for k, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"ModuleDict.update: element #{k} should be a (key, module) "
                                 f"pair, got {pair!r:.60}")
            self[pair[0]] = pair[1]


class ParameterList(Module):
    """A list of parameters registered as ``'0'``, ``'1'``, ...; a plain Tensor given to it
    becomes a Parameter, as in torch."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    @staticmethod
    def _as_parameter(value):
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            return Parameter(value)
        return value

    def append(self, value) -> ParameterList:
        self.register_parameter(str(len(self)), self._as_parameter(value))
        return self

    def extend(self, values) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def __getitem__(self, index):
        values = list(self._parameters.values())
        if isinstance(index, slice):
            return type(self)(values[index])
        return values[_position("ParameterList", index, len(values))]

    def __setitem__(self, index: int, value) -> None:
        self.register_parameter(str(_position("ParameterList", index, len(self))),
                                self._as_parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): Parameter containing: [{p.dtype} of size "
                         f"{'x'.join(map(str, p.shape))}]" for k, p in enumerate(self))
