"""Layers, containers and losses with PyTorch's names, arguments and defaults."""
from . import functional, init, utils
from .activation import (
    ELU,
    GELU,
    Dropout,
    Dropout2d,
    Flatten,
    Hardtanh,
    Identity,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import ModuleDict, ModuleList, ParameterList, Sequential
from .conv import Conv2d
from .fusion import layer_by_layer
from .linear import Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d

__all__ = ["functional", "init", "Module", "Parameter", "Sequential", "ModuleList", "Conv2d",
           "BatchNorm1d", "BatchNorm2d", "ReLU", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool2d", "Linear", "Flatten", "Dropout", "Dropout2d", "Identity",
           "Sigmoid", "Tanh", "LeakyReLU", "Hardtanh", "ReLU6", "ELU", "GELU", "SiLU", "Softplus",
           "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
           "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
           "layer_by_layer",
           "ModuleDict", "ParameterList", "Unflatten", "utils"]
