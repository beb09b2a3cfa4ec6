"""``Parameter``: a Tensor that a Module registers as learnable (requires grad by default)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def factory_dtype(dtype):
    """The dtype of a new layer's parameters: ``dtype``, or float32 (torch's default) for None."""
    return np.dtype(np.float32 if dtype is None else dtype)


class Parameter(Tensor):
    """A leaf Tensor that ``Module.parameters()`` yields and optimizers update."""

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data, requires_grad=requires_grad)  # a Tensor's array is shared

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
