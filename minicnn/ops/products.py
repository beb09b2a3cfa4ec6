"""Matrix products with torch's strict shapes: ``mm`` (2-d by 2-d) and ``bmm`` (a batch of
``(b, n, m)`` by ``(b, m, p)``). Both are the ``MatMul`` op of ``minicnn.ops.math``
(``dL/da = g b^T``, ``dL/db = a^T g``) after the checks ``matmul`` does not make: no
broadcasting, no 1-d operands, one dtype."""
from __future__ import annotations

from ..tensor import Tensor
from .arguments import as_tensor, same_device
from .math import MatMul


def _same_dtype(a: Tensor, b: Tensor, op: str) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}(): expected both operands to have the same dtype, got "
                           f"{a.dtype} {a.shape} and {b.dtype} {b.shape}")


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """``torch.mm``: ``(n, m) @ (m, p) -> (n, p)``."""
    input, mat2 = as_tensor(input, "mm"), as_tensor(mat2, "mm")
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm(): both operands must be matrices, got shapes {input.shape} "
                           f"and {mat2.shape}")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mm(): mat1 and mat2 shapes cannot be multiplied "
                           f"({input.shape[0]}x{input.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    _same_dtype(input, mat2, "mm")
    same_device([input, mat2], "mm")
    return MatMul.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """``torch.bmm``: ``(b, n, m) @ (b, m, p) -> (b, n, p)``, one product per batch entry."""
    input, mat2 = as_tensor(input, "bmm"), as_tensor(mat2, "bmm")
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm(): both operands must be 3-d tensors, got shapes {input.shape} "
                           f"and {mat2.shape}")
    if mat2.shape[:2] != (input.shape[0], input.shape[2]):
        raise RuntimeError(f"bmm(): expected the first two dimensions of mat2 to be "
                           f"{[input.shape[0], input.shape[2]]} for input {input.shape}, got "
                           f"mat2 {mat2.shape}")
    _same_dtype(input, mat2, "bmm")
    same_device([input, mat2], "bmm")
    return MatMul.apply(input, mat2)
