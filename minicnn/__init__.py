"""minicnn: a small PyTorch-shaped deep learning engine written from scratch on NumPy.

    import minicnn
    from minicnn import nn, optim

The names below mirror ``torch``'s: ``minicnn.tensor``, ``minicnn.zeros``,
``minicnn.max(t, 1)``, ``minicnn.no_grad()``, ``minicnn.manual_seed(0)``, ...
"""
import builtins as _builtins

import numpy as _np

from . import backend
from .tensor import (Tensor, arange, device, from_numpy, ones, rand, randn, tensor, zeros,
                     float32, float64, int32, int64, bool_)  # first: autograd and ops need Tensor
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .random import manual_seed
from . import nn, optim  # noqa: E402 - after Tensor
from .io import load, save
from .gradcheck import GradcheckError, gradcheck
from .summary import summary
from . import exercises, profiler, viz  # noqa: E402 - profiler: MINICNN_DEBUG=1 acts on import

float = float32  # noqa: A001 - torch.float
double = float64
long = int64
bool = bool_  # noqa: A001 - torch.bool


class cuda:  # noqa: N801 - torch.cuda namespace
    """``minicnn.cuda.is_available()``: True when CuPy sees a CUDA device."""

    is_available = staticmethod(backend.cuda_available)


def _as_tensor(x):
    return x if isinstance(x, Tensor) else tensor(x)


def max(input, dim=None, keepdim=False):  # noqa: A001 - torch.max
    """``torch.max``: the largest element, or ``(values, indices)`` along ``dim``."""
    return _as_tensor(input).max(dim, keepdim)


def min(input, dim=None, keepdim=False):  # noqa: A001 - torch.min
    return _as_tensor(input).min(dim, keepdim)


def argmax(input, dim=None, keepdim=False):
    return _as_tensor(input).argmax(dim, keepdim)


def sum(input, dim=None, keepdim=False):  # noqa: A001 - torch.sum
    return _as_tensor(input).sum(dim, keepdim)


def mean(input, dim=None, keepdim=False):
    return _as_tensor(input).mean(dim, keepdim)


def exp(input):
    return _as_tensor(input).exp()


def log(input):
    return _as_tensor(input).log()


def sqrt(input):
    return _as_tensor(input).sqrt()


def flatten(input, start_dim=0, end_dim=-1):
    return _as_tensor(input).flatten(start_dim, end_dim)


def reshape(input, shape):
    return _as_tensor(input).reshape(shape)


def matmul(a, b):
    return _as_tensor(a) @ b


def relu(input):
    return _as_tensor(input).relu()


def softmax(input, dim):
    return _as_tensor(input).softmax(dim)


def log_softmax(input, dim):
    return _as_tensor(input).log_softmax(dim)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def allclose(a, b, rtol=1e-5, atol=1e-8) -> bool:
    """Elementwise ``|a - b| <= atol + rtol * |b|`` over the arrays of two tensors."""
    a, b = (_as_tensor(t).detach().cpu().data for t in (a, b))
    return _builtins.bool(_np.allclose(a, b, rtol=rtol, atol=atol))

__version__ = "0.1.0"

__all__ = ["Tensor", "Function", "tensor", "from_numpy", "zeros", "ones", "randn", "rand", "arange",
           "device", "cuda", "no_grad", "enable_grad", "is_grad_enabled", "manual_seed", "nn", "optim",
           "backend", "save", "load", "gradcheck", "GradcheckError", "float32", "float64", "int32",
           "int64", "bool_", "float", "double", "long", "bool", "max", "min", "argmax", "sum", "mean",
           "exp", "log", "sqrt", "flatten", "reshape", "matmul", "relu", "softmax", "log_softmax",
           "is_tensor", "allclose", "summary", "profiler", "viz", "exercises"]
