"""``Tensor``: an n-d array (NumPy, or CuPy on the GPU) that remembers how it was made.

A Tensor holds ``array`` (the raw ``numpy.ndarray`` or ``cupy.ndarray``), ``requires_grad``,
``grad`` (a Tensor or None) and ``grad_fn`` (the tape :class:`~minicnn.autograd.Node` that
produced it, None for a leaf). Every differentiable method below is a
:class:`~minicnn.autograd.Function` from ``minicnn.ops``; ``backward()`` walks the tape (see
``minicnn/autograd.py``). ``t.data`` is torch's: a Tensor sharing ``t.array``, off the tape.

In this folder: the in-place methods (``add_``, ``+=``, ``x[i] = v``, ...) in ``inplace.py``,
Python's protocols and the comparisons in ``protocol.py``, the methods that call
``minicnn.functions`` in ``functions.py``. Dtypes and promotion: ``minicnn/dtypes.py``.
"""
from __future__ import annotations

import sys

import numpy as np

from .. import backend, dtypes
from ..dtypes import bool_, float16, float32, float64, int32, int64
from ..random import generator
from .functions import TensorFunctions
from .inplace import InplaceMixin
from .protocol import ProtocolMixin


class device:  # noqa: N801 - named as torch.device
    """A device name, ``device('cpu')`` or ``device('cuda')`` (``'cuda:0'`` is read as 'cuda')."""

    def __init__(self, name):
        name = str(name)
        kind = name.split(":")[0]
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"minicnn.device: unknown device {name!r}; use 'cpu' or 'cuda'")
        self.type = kind

    def __eq__(self, other) -> bool:
        comparable = isinstance(other, (str, device))
        return str(self) == str(device(other)) if comparable else NotImplemented

    def __hash__(self) -> int:
        return hash(self.type)

    def __str__(self) -> str:
        return self.type

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"


_device_type = device  # for methods whose ``device`` argument hides the class


def _as_array(data, dtype=None):
    """NumPy/CuPy array from a Tensor, array, list or number; Python floats become float32."""
    if type(data) is np.ndarray and dtype is None:
        return data  # the common case, first
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype).dtype
    if isinstance(data, np.generic):  # a NumPy scalar (from a reduction) becomes 0-d
        data = np.asarray(data)
    if hasattr(data, "__array_interface__") or backend.is_cupy_array(data):
        return data if dtype is None else data.astype(dtype, copy=False)
    array = np.asarray(data)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype == np.float64:
        return array.astype(np.float32)  # torch.tensor([1.5]) is float32
    return array


class Tensor(InplaceMixin, ProtocolMixin, TensorFunctions):
    """An array on the autograd tape. See the module docstring (and ``TensorFunctions``)."""

    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected op
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.array = _as_array(data, dtype)
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"only floating-point tensors can require grad, got dtype {self.dtype!r}")
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self.grad_fn = None
        self._version_counter = [0]  # shared with detach(); bumped by in-place writes

    # ---- properties -------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """torch's ``.data``: a tensor sharing this tensor's array, outside the tape
        (requires_grad False, no grad_fn, a version counter of its own, as in torch), so
        ``p.data.add_(u)`` changes ``p`` unseen by autograd. Assigning a Tensor or array
        (``p.data = other``) replaces the array."""
        return Tensor(self.array)

    @data.setter
    def data(self, value) -> None:
        self.array = value.array if isinstance(value, Tensor) else _as_array(value)

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's current array has had (torch's ``_version``;
        an in-place op on the tape gives the tensor a new array, counted from 0)."""
        return self._version_counter[0]

    @property
    def shape(self) -> tuple:
        return tuple(self.array.shape)

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.of_array(self.array)

    @property
    def device(self) -> device:
        return device(backend.device_of(self.array))

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def size(self, dim: int | None = None):
        """The shape, or its entry ``dim`` (negative counts from the end)."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    def element_size(self) -> int:
        return self.array.itemsize

    # ---- conversion -------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The NumPy array (shared, not copied) of a CPU tensor that needs no grad."""
        if self.requires_grad:
            raise RuntimeError("numpy(): the tensor requires grad; call .detach().numpy()")
        if backend.is_cupy_array(self.array):
            raise TypeError("numpy(): the tensor is on 'cuda'; call .cpu() first")
        return self.array

    def tolist(self):
        return backend.to_device(self.array, "cpu").tolist()

    def detach(self) -> Tensor:
        """The same array, cut off the tape (no grad_fn, requires_grad False); it shares the
        version counter, as in torch."""
        out = Tensor(self.array)
        out._version_counter = self._version_counter
        return out

    def clone(self) -> Tensor:
        return _ops.Copy.apply(self)

    def is_contiguous(self) -> bool:
        """True when the array is laid out row-major (C order, torch's contiguous format);
        ``permute``, ``transpose`` and strided slices give tensors that are not."""
        return bool(self.array.flags.c_contiguous)

    def contiguous(self) -> Tensor:
        """``self`` when row-major already, else a row-major copy on the tape, as torch's
        ``contiguous()`` (so ``x.permute(...).contiguous().view(...)`` runs as written)."""
        return self if self.is_contiguous() else self.clone()

    def to(self, *args, device=None, dtype=None, non_blocking: bool = False,
           copy: bool = False) -> Tensor:
        """``t.to(minicnn.float64)``, ``t.to('cuda')``, ``t.to(device, dtype)``,
        ``t.to(other)`` (other's device and dtype), or the keywords; differentiable, and
        ``self`` itself when nothing changes (unless ``copy``)."""
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, _device_type)):
                device = arg
            else:
                dtype = arg
        out = self
        if dtype is not None and dtypes.as_dtype(dtype).dtype != self.array.dtype:
            out = _ops.Cast.apply(out, dtype=dtypes.as_dtype(dtype).dtype)
        if device is not None and str(_device_type(device)) != str(self.device):
            out = _ops.ToDevice.apply(out, device=str(_device_type(device)))
        return out.clone() if copy and out is self else out

    def type(self, dtype=None, non_blocking: bool = False):
        """With no argument, torch's type string of this tensor (``'torch.FloatTensor'``,
        ``'torch.cuda.LongTensor'``: torch's spelling, so that programs comparing it keep
        working); with a dtype or such a string (``'torch.DoubleTensor'``, also spelled
        ``'minicnn.DoubleTensor'``), this tensor cast to it."""
        if dtype is None:
            return dtypes.torch_type_name(self.array.dtype, self.device.type == "cuda")
        return self.to(dtypes.from_type_name(dtype) if isinstance(dtype, str) else dtype)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def half(self) -> Tensor:
        return self.to(float16)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(int32)

    def bool(self) -> Tensor:
        return self.to(bool_)

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
        from ..autograd import backward
        if not self.requires_grad:
            raise RuntimeError("backward(): the tensor does not require grad and has no grad_fn")
        if grad is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicit only for a one-element output, "
                    f"got shape {self.shape}")
            grad = backend.xp_of(self.array).ones_like(self.array)
        grad = _as_array(grad, self.dtype)
        if grad.shape != self.array.shape:
            raise ValueError(f"backward(): grad has shape {tuple(grad.shape)}, "
                             f"the tensor has shape {self.shape}")
        backward(self, grad, retain_graph)

    def _accumulate_grad(self, grad) -> None:
        """Add the gradient backward has summed for this leaf to ``.grad``.

        The first time, ``.grad`` takes ``grad`` itself when nothing else can reach its
        memory, as torch's AccumulateGrad takes an incoming gradient no one else holds (no
        copy, and no second array of the leaf's size while backward runs); otherwise a copy.
        Nothing else reaches it when it is a writeable, C-contiguous NumPy array that either
        owns its memory or views all of an array that only it holds (a kernel's
        ``(F, C*kh*kw)`` product reshaped), and the CPython reference counts are those of
        :data:`_ALONE`. A CuPy gradient is copied, as before: this is not checked on a GPU.
        """
        if self.grad is None:
            views_all_of_an_owner = grad.base is not None and (
                type(grad.base) is np.ndarray and grad.base.base is None
                and grad.base.nbytes == grad.nbytes)
            alone = (type(grad) is np.ndarray and grad.flags.writeable
                     and grad.flags.c_contiguous and (grad.base is None or views_all_of_an_owner)
                     and _reference_counts(grad) == _ALONE[grad.base is not None])
            self.grad = Tensor(grad if alone else grad.copy())
        else:
            self.grad.array = self.grad.array + grad

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    # ---- arithmetic (dtypes promoted as torch: minicnn.dtypes.result_type) --------
    def add(self, other, alpha=1):
        """``self + alpha * other``."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        """``self - alpha * other``."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        """True division (integer tensors give float32, as in torch)."""
        return self / other

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
        from ..ops.activation import ReLUFunction
        return ReLUFunction.apply(self)

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
        from ..ops.activation import SoftmaxFunction
        return SoftmaxFunction.apply(self, dim=dim)

    def log_softmax(self, dim: int):
        from ..ops.activation import LogSoftmaxFunction
        return LogSoftmaxFunction.apply(self, dim=dim)

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

    def __repr__(self) -> str:
        """torch's layout: ``tensor([1.0000, 2.5000], requires_grad=True)``; float values
        print with 4 decimals unless all are whole (``tensor([1., 2.])``)."""
        array = backend.to_device(self.array, "cpu")
        whole = array.dtype.kind != "f" or bool(np.all(np.isfinite(array) & (array % 1 == 0)))
        body = np.array2string(array, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec" if whole else "fixed")
        extras = []
        if array.dtype not in (float32.dtype, int64.dtype, bool_.dtype):
            extras.append(f"dtype={self.dtype!r}")
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"


def _unwrap_index(index):
    """Tensors inside an index (long or bool tensors, alone or in a tuple or list) become
    their arrays, for NumPy's advanced indexing."""
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, (tuple, list)):
        return type(index)(_unwrap_index(i) for i in index)
    return index


# ---- constructors ---------------------------------------------------------------
def _make(array, dtype, device_name, requires_grad) -> Tensor:
    if dtype is not None:
        array = array.astype(dtypes.as_dtype(dtype).dtype, copy=False)
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


def _reference_counts(array) -> tuple[int, int]:
    """CPython reference counts of ``array`` and of its base (0 without one)."""
    return sys.getrefcount(array), 0 if array.base is None else sys.getrefcount(array.base)


def _read_as_accumulate_grad_does(array) -> tuple[int, int]:
    return _reference_counts(array)  # one call between, as backward -> _accumulate_grad


def _alone() -> tuple[tuple[int, int], tuple[int, int]]:
    """The counts ``Tensor._accumulate_grad`` reads for an array that only its caller's
    variable holds, owning its memory and as the only view of an array: measured through
    the same calls, so that they hold on any interpreter version."""
    owner = np.empty(4)
    view = np.empty(4).reshape(2, 2)
    return _read_as_accumulate_grad_does(owner), _read_as_accumulate_grad_does(view)


_ALONE = _alone()


def zeros(*size, dtype=float32, device=None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape(size), dtypes.as_dtype(dtype).dtype), None, device, requires_grad)


def ones(*size, dtype=float32, device=None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape(size), dtypes.as_dtype(dtype).dtype), None, device, requires_grad)


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


from ..ops import math as _ops  # noqa: E402 - the ops need Tensor defined first
