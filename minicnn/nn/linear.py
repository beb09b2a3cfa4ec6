"""``Linear``: ``y = x @ W^T + b``, the fully connected layer."""
from __future__ import annotations

import numpy as np

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter, factory_dtype


class Linear(Module):
    """``(N, in_features) -> (N, out_features)``; W ``(out, in)``, b ``(out,)``.

    Backward: ``dL/dx = g @ W``, ``dL/dW = g^T @ x``, ``dL/db = sum_n g``. Initialised as
    torch: W and b uniform on ``(-1/sqrt(in_features), 1/sqrt(in_features))``; ``dtype``
    (default float32) and ``device`` place them, as torch's factory arguments.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        dtype = factory_dtype(dtype)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        self.to(device)

    def reset_parameters(self) -> None:
        init.layer_default_(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias,
                        where=f"Linear({self.in_features}, {self.out_features})")

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
