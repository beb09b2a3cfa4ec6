"""minicnn: a small PyTorch-shaped deep learning engine written from scratch on NumPy.

    import minicnn
    from minicnn import nn, optim
    from minicnn.utils.data import DataLoader

The names below mirror ``torch``'s: ``minicnn.tensor``, ``minicnn.zeros``,
``minicnn.max(t, 1)``, ``minicnn.no_grad()``, ``minicnn.manual_seed(0)``, ...
"""
import builtins as _builtins

import numpy as _np

# The order below is the load order (Tensor before autograd and the ops: circular imports).
# isort: off
from . import backend
from . import dtypes as _dtypes
from .tensor import (Tensor, arange, device, from_numpy, ones, rand, randn, tensor,
                     zeros)  # first: autograd and ops need Tensor
from .dtypes import (dtype, bool_, float16, float32, float64, int8, int16, int32, int64, uint8,
                     can_cast)
from .autograd import (Function, enable_grad, inference_mode, is_grad_enabled, no_grad,
                       set_grad_enabled)
from .random import Generator, default_generator, manual_seed
from . import nn, optim, utils  # noqa: E402 - after Tensor
from .io import load, save
from .gradcheck import GradcheckError, gradcheck
from .summary import summary
# ---- tensor functions and factories (minicnn/functions.py) ----
from . import functions as _functions
from .functions import *  # noqa: F401,F403 - cat, stack, norm, zeros_like, ... (its __all__)
from . import exercises, profiler, viz  # noqa: E402 - profiler: MINICNN_DEBUG=1 acts on import
# isort: on

float = float32  # noqa: A001 - torch.float
double = float64
half = float16
long = int64
int = int32  # noqa: A001 - torch.int
short = int16
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


def squeeze(input, dim=None):
    return _as_tensor(input).squeeze(dim)


def unsqueeze(input, dim):
    return _as_tensor(input).unsqueeze(dim)


def permute(input, dims):
    return _as_tensor(input).permute(dims)


def transpose(input, dim0, dim1):
    return _as_tensor(input).transpose(dim0, dim1)


def numel(input) -> int:
    return _as_tensor(input).numel()


def matmul(a, b):
    return _as_tensor(a) @ b


def relu(input):
    return _as_tensor(input).relu()


def sigmoid(input):
    return _as_tensor(input).sigmoid()


def tanh(input):
    return _as_tensor(input).tanh()


def softmax(input, dim):
    return _as_tensor(input).softmax(dim)


def log_softmax(input, dim):
    return _as_tensor(input).log_softmax(dim)


def _binary(name: str):
    def function(input, other):
        return getattr(_as_tensor(input), name)(other)
    function.__name__ = name
    function.__doc__ = f"``torch.{name}(input, other)``: ``input.{name}(other)``."
    return function


eq, ne, lt, le, gt, ge = (_binary(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
mul, div = _binary("mul"), _binary("div")
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def add(input, other, alpha=1):
    """``torch.add``: ``input + alpha * other``, with torch's type promotion."""
    return _as_tensor(input).add(other, alpha=alpha)


def sub(input, other, alpha=1):
    """``torch.sub``: ``input - alpha * other``."""
    return _as_tensor(input).sub(other, alpha=alpha)


def result_type(tensor1, tensor2):
    """``torch.result_type``: the dtype of an arithmetic op on two tensors or numbers."""
    operands = [t.array if isinstance(t, Tensor) else t for t in (tensor1, tensor2)]
    return _dtypes.as_dtype(_dtypes.result_type(*operands))


def promote_types(type1, type2):
    """``torch.promote_types``: the smallest dtype of the higher category holding both."""
    return _dtypes.as_dtype(_dtypes.promote_types(_dtypes.as_dtype(type1).dtype,
                                                  _dtypes.as_dtype(type2).dtype))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def allclose(a, b, rtol=1e-5, atol=1e-8) -> bool:
    """Elementwise ``|a - b| <= atol + rtol * |b|`` over the arrays of two tensors."""
    a, b = (_as_tensor(t).detach().cpu().array for t in (a, b))
    return _builtins.bool(_np.allclose(a, b, rtol=rtol, atol=atol))

__version__ = "0.1.0"

__all__ = ["Tensor", "Function", "tensor", "from_numpy", "zeros", "ones", "randn", "rand", "arange",
           "device", "cuda", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
           "inference_mode", "manual_seed",
           "Generator", "default_generator", "nn", "optim", "utils", "backend", "save", "load",
           "gradcheck", "GradcheckError", "dtype", "float16", "float32",
           "float64", "uint8", "int8", "int16", "int32", "int64", "bool_", "float", "double",
           "half", "long", "int", "short", "bool", "eq", "ne", "lt", "le", "gt", "ge", "greater",
           "less", "greater_equal", "less_equal", "not_equal", "add", "sub", "mul", "div",
           "result_type", "promote_types", "can_cast", "max", "min", "argmax", "sum", "mean",
           "exp", "log", "sqrt", "flatten", "reshape", "squeeze", "unsqueeze", "permute",
           "transpose", "numel", "matmul", "relu", "softmax", "log_softmax",
           "is_tensor", "allclose", "summary", "sigmoid", "tanh", "profiler", "viz", "exercises"]
__all__ += _functions.__all__
