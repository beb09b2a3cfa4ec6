"""Layers, containers and losses with PyTorch's names, arguments and defaults."""
from . import functional, init
from .activation import Dropout, Flatten, LogSoftmax, ReLU, Softmax
from .batchnorm import BatchNorm2d
from .container import ModuleDict, ModuleList, ParameterList, Sequential
from .fusion import layer_by_layer
from .conv import Conv2d
from .linear import Linear
from .loss import CrossEntropyLoss
from .module import Module
from .parameter import Parameter
from .pooling import AvgPool2d, MaxPool2d
from .unflatten import Unflatten
from . import utils

__all__ = ["functional", "init", "Module", "Parameter", "Sequential", "ModuleList", "Conv2d",
           "BatchNorm2d", "ReLU", "MaxPool2d", "AvgPool2d", "Linear", "Flatten", "Dropout",
           "Softmax", "LogSoftmax", "CrossEntropyLoss", "layer_by_layer", "ModuleDict",
           "ParameterList", "Unflatten", "utils"]
