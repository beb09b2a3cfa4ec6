"""``Tensor``: an n-d array (NumPy, or CuPy on the GPU) that remembers how it was made.

A Tensor holds ``data`` (the raw array), ``requires_grad``, ``grad`` (a Tensor or None)
and ``grad_fn`` (the tape :class:`~minicnn.autograd.Node` that produced it, None for a
leaf). Every differentiable method below is a :class:`~minicnn.autograd.Function` from
``minicnn.ops``; ``backward()`` walks the tape (see ``minicnn/autograd.py``).

One difference from PyTorch: ``t.data`` is the raw array itself (``numpy.ndarray`` or
``cupy.ndarray``), not a Tensor. Comparisons such as ``preds == labels.data`` still work.
"""
from __future__ import annotations


import numpy as np

from . import backend
from .random import generator

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)


class device:  # noqa: N801 - named as torch.device
    """A device name, ``device('cpu')`` or ``device('cuda')`` (``'cuda:0'`` is read as 'cuda')."""

    def __init__(self, name):
        name = str(name)
        kind = name.split(":")[0]
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"minicnn.device: unknown device {name!r}; use 'cpu' or 'cuda'")
        self.type = kind

    def __eq__(self, other) -> bool:
        return str(self) == str(device(other)) if isinstance(other, (str, device)) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.type)

    def __str__(self) -> str:
        return self.type

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"


def _as_array(data, dtype=None):
    """NumPy/CuPy array from a Tensor, array, list or number; Python floats become float32."""
    if isinstance(data, Tensor):
        data = data.data
    if hasattr(data, "__array_interface__") or backend.is_cupy_array(data):
        return data if dtype is None else data.astype(dtype, copy=False)
    array = np.asarray(data)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype == np.float64:
        return array.astype(np.float32)  # torch.tensor([1.5]) is float32
    return array


class Tensor:
    """An array on the autograd tape. See the module docstring."""

    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected op
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"only floating-point tensors can require grad, got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self.grad_fn = None

    # ---- properties -------------------------------------------------------------
    @property
    def array(self):
        """The raw array (``numpy.ndarray`` or ``cupy.ndarray``) this tensor holds, shared."""
        return self.data

    @array.setter
    def array(self, value) -> None:
        self.data = value

    @property
    def shape(self) -> tuple:
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self) -> device:
        return device(backend.device_of(self.data))

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def size(self, dim: int | None = None):
        """The shape, or its entry ``dim`` (negative counts from the end)."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    # ---- conversion -------------------------------------------------------------
    def item(self):
        """The Python number held by a one-element tensor."""
        if self.data.size != 1:
            raise ValueError(f"item(): the tensor has {self.data.size} elements, not 1")
        return self.data.reshape(-1)[0].item()

    def numpy(self) -> np.ndarray:
        """The NumPy array (shared, not copied) of a CPU tensor that needs no grad."""
        if self.requires_grad:
            raise RuntimeError("numpy(): the tensor requires grad; call .detach().numpy()")
        if backend.is_cupy_array(self.data):
            raise TypeError("numpy(): the tensor is on 'cuda'; call .cpu() first")
        return self.data

    def tolist(self):
        return backend.to_device(self.data, "cpu").tolist()

    def detach(self) -> Tensor:
        """The same data, cut off the tape (no grad_fn, requires_grad False)."""
        return Tensor(self.data)

    def clone(self) -> Tensor:
        return _ops.Copy.apply(self)

    def to(self, target=None, dtype=None) -> Tensor:
        """``t.to('cuda')``, ``t.to(minicnn.float64)``, or ``t.to(device, dtype)``;
        differentiable, and ``self`` itself when nothing changes."""
        if target is not None and not isinstance(target, (str, device)):
            target, dtype = None, target
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = _ops.Cast.apply(out, dtype=np.dtype(dtype))
        if target is not None and str(device(target)) != str(self.device):
            out = _ops.ToDevice.apply(out, device=str(device(target)))
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(int32)

    def bool(self) -> Tensor:
        return Tensor(self.data.astype(np.bool_))

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    # ---- autograd ---------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``grad`` is dL/d(self); it may be omitted only for a one-element tensor, where
        it is 1. The arrays the graph saved for backward are freed as it goes, as in torch;
        with ``retain_graph=True`` they are kept and backward may run again (adding the
        gradients again).
        """
        from .autograd import backward
        if not self.requires_grad:
            raise RuntimeError("backward(): the tensor does not require grad and has no grad_fn")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicit only for a one-element output, "
                    f"got shape {self.shape}")
            grad = backend.xp_of(self.data).ones_like(self.data)
        grad = _as_array(grad, self.dtype)
        if grad.shape != self.data.shape:
            raise ValueError(f"backward(): grad has shape {tuple(grad.shape)}, "
                             f"the tensor has shape {self.shape}")
        backward(self, grad, retain_graph)

    def _accumulate_grad(self, grad) -> None:
        if self.grad is None:
            self.grad = Tensor(grad.copy())
        else:
            self.grad.data = self.grad.data + grad

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    # ---- in-place writes (leaves only, outside the tape) ------------------------
    def _check_inplace(self, name: str) -> None:
        from .autograd import is_grad_enabled
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(f"{name}(): in-place change of a tensor that requires grad; "
                               f"wrap it in minicnn.no_grad()")

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value) -> Tensor:
        self._check_inplace("fill_")
        self.data[...] = value
        return self

    def copy_(self, source) -> Tensor:
        """Copy ``source`` (Tensor, array or number) into this tensor, keeping its dtype."""
        self._check_inplace("copy_")
        source = _as_array(source)
        if backend.device_of(source) != backend.device_of(self.data):
            source = backend.to_device(source, backend.device_of(self.data))
        self.data[...] = source
        return self

    def uniform_(self, low: float = 0.0, high: float = 1.0) -> Tensor:
        return self.copy_(generator().uniform(low, high, self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        return self.copy_(generator().normal(mean, std, self.shape))

    # ---- arithmetic -------------------------------------------------------------
    def __add__(self, other):
        return _ops.Add.apply(self, other)

    def __radd__(self, other):
        return _ops.Add.apply(other, self)

    def __sub__(self, other):
        return _ops.Sub.apply(self, other)

    def __rsub__(self, other):
        return _ops.Sub.apply(other, self)

    def __mul__(self, other):
        return _ops.Mul.apply(self, other)

    def __rmul__(self, other):
        return _ops.Mul.apply(other, self)

    def __truediv__(self, other):
        return _ops.Div.apply(self, other)

    def __rtruediv__(self, other):
        return _ops.Div.apply(other, self)

    def __matmul__(self, other):
        return _ops.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return _ops.MatMul.apply(other, self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pow__(self, exponent):
        return _ops.Pow.apply(self, exponent)

    def __rpow__(self, base):
        return _ops.Pow.apply(base, self)

    def exp(self):
        return _ops.Exp.apply(self)

    def log(self):
        return _ops.Log.apply(self)

    def sqrt(self):
        return _ops.Pow.apply(self, 0.5)

    def abs(self):
        return _ops.Abs.apply(self)

    def relu(self):
        from .ops.activation import ReLU
        return ReLU.apply(self)

    def sigmoid(self):
        from .ops.activation import Sigmoid
        return Sigmoid.apply(self)

    def tanh(self):
        from .ops.activation import Tanh
        return Tanh.apply(self)

    # ---- reductions -------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False):
        return _ops.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim: bool = False):
        return _ops.Mean.apply(self, dim=dim, keepdim=keepdim)

    def max(self, dim: int | None = None, keepdim: bool = False):
        """Largest element; with ``dim``, the pair ``(values, indices)`` as ``torch.max``."""
        return _ops.extreme(self, dim, keepdim, largest=True)

    def min(self, dim: int | None = None, keepdim: bool = False):
        """Smallest element; with ``dim``, the pair ``(values, indices)`` as ``torch.min``."""
        return _ops.extreme(self, dim, keepdim, largest=False)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _ops.arg_extreme(self, dim, keepdim, largest=True)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _ops.arg_extreme(self, dim, keepdim, largest=False)

    def softmax(self, dim: int):
        from .ops.activation import Softmax
        return Softmax.apply(self, dim=dim)

    def log_softmax(self, dim: int):
        from .ops.activation import LogSoftmax
        return LogSoftmax.apply(self, dim=dim)

    # ---- shape ------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _ops.Reshape.apply(self, shape=tuple(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        shape = self.shape
        if not shape:
            return self.reshape(1)
        start, end = start_dim % len(shape), end_dim % len(shape)
        return self.reshape(shape[:start] + (-1,) + shape[end + 1:])

    def unsqueeze(self, dim: int):
        shape = list(self.shape)
        shape.insert(dim % (len(shape) + 1), 1)
        return self.reshape(shape)

    def squeeze(self, dim: int | None = None):
        if dim is None:
            return self.reshape([s for s in self.shape if s != 1])
        if self.shape[dim] != 1:
            return self
        shape = list(self.shape)
        del shape[dim]
        return self.reshape(shape)

    def permute(self, *dims):
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return _ops.Permute.apply(self, dims=tuple(d % self.ndim for d in dims))

    def transpose(self, dim0: int, dim1: int):
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(dims)

    def t(self):
        if self.ndim != 2:
            raise ValueError(f"t(): expected a 2-d tensor, got shape {self.shape}")
        return self.transpose(0, 1)

    @property
    def T(self):  # noqa: N802 - torch's name
        return self.permute(tuple(reversed(range(self.ndim))))

    def __getitem__(self, index):
        return _ops.GetItem.apply(self, index=_unwrap_index(index))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ---- comparisons (no grad) --------------------------------------------------
    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(op(self.data, other))

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data.reshape(-1)[0])

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        return int(self.item())

    def __repr__(self) -> str:
        body = np.array2string(backend.to_device(self.data, "cpu"), separator=", ",
                               prefix="tensor(", precision=4)
        extras = []
        if self.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.dtype}")
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"


def _unwrap_index(index):
    """Tensors inside an index become their arrays (for advanced indexing)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


# ---- constructors ---------------------------------------------------------------
def _make(array, dtype, device_name, requires_grad) -> Tensor:
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    if device_name is not None:
        array = backend.to_device(array, str(device(device_name)))
    return Tensor(array, requires_grad=requires_grad)


def _shape(size) -> tuple:
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor copied from ``data`` (list, number, array or Tensor).

    Python floats give float32 and Python ints int64, as in torch.
    """
    return _make(_as_array(data, dtype).copy(), None, device, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory (and dtype) with the NumPy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=float32, device=None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape(size), dtype=dtype), None, device, requires_grad)


def ones(*size, dtype=float32, device=None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape(size), dtype=dtype), None, device, requires_grad)


def randn(*size, dtype=float32, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the global generator (see ``manual_seed``)."""
    return _make(generator().standard_normal(_shape(size)), dtype, device, requires_grad)


def rand(*size, dtype=float32, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from the global generator."""
    return _make(generator().random(_shape(size)), dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``start, start+step, ...`` below ``end``; int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    array = np.arange(start, end, step)
    if dtype is None and array.dtype.kind == "f":
        dtype = float32
    return _make(array, dtype, device, requires_grad)


from .ops import math as _ops  # noqa: E402 - the ops need Tensor defined first
