"""``minicnn.optim``, shaped like ``torch.optim``: the optimizers and ``lr_scheduler``.

Every optimizer follows torch's update formula, defaults, option checks and state names;
the formulas are in the docstring of each family's module (``sgd``, ``adaptive``, ``adam``)
and side by side in ``docs/optimizers.md``.
"""
from . import lr_scheduler
from .adam import Adam, Adamax, AdamW, NAdam, RAdam
from .adaptive import Adadelta, Adagrad, RMSprop
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax",
           "NAdam", "RAdam", "lr_scheduler"]
