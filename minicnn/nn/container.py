"""``Sequential`` and ``ModuleList``: modules held in order."""
from __future__ import annotations

from collections import OrderedDict

from .fusion import run_sequence
from .module import Module


class Sequential(Module):
    """Calls its modules in order, each on the previous one's output.

    ``Sequential(a, b, c)`` names them ``0, 1, 2``; ``Sequential(OrderedDict(...))`` keeps
    the given names. A ``BatchNorm2d, ReLU, MaxPool2d`` run is computed as one fused op,
    with the same values and gradients (``minicnn/nn/fusion.py``).
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
            return Sequential(OrderedDict(items[index]))
        return items[index][1]

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
    """A list of modules whose parameters are registered; indexable and iterable."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())
