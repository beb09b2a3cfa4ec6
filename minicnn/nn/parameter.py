"""``Parameter``: a Tensor that a Module registers as learnable (requires grad by default)."""
from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that ``Module.parameters()`` yields and optimizers update."""

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data, requires_grad=requires_grad)  # a Tensor's array is shared

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
