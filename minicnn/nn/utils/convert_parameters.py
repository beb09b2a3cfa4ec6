"""``parameters_to_vector`` and ``vector_to_parameters``: every parameter as one flat vector.

The order is the iteration order of ``parameters`` (``model.parameters()``: registration
order, depth first), each flattened in row-major (C) order, as torch's.
"""
from __future__ import annotations

import math

from ... import backend
from ...tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """``(sum of numel,)``: the parameters' values concatenated.

    Unlike torch's, the vector is not on the tape (minicnn has no differentiable
    concatenation here): use it for reading and copying weights, not inside a loss.
    """
    arrays = [p.array.reshape(-1) for p in parameters]
    if not arrays:
        raise RuntimeError("parameters_to_vector: expected at least one parameter")
    devices = {backend.device_of(a) for a in arrays}
    if len(devices) > 1:
        raise TypeError(f"parameters_to_vector: the parameters are on several devices "
                        f"{sorted(devices)}; move the model to one")
    return Tensor(backend.xp_of(arrays[0]).concatenate(arrays))


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-d ``vec`` into ``parameters``, in order, each cast to
    its parameter's dtype and device."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a minicnn Tensor, but got: "
                        f"{type(vec).__name__}")
    flat, start = vec.array.reshape(-1), 0
    for p in parameters:
        n = math.prod(p.shape)
        if start + n > flat.shape[0]:
            raise RuntimeError(f"vector_to_parameters: the vector has {flat.shape[0]} elements, "
                               f"too few for the parameters (at least {start + n})")
        chunk = flat[start:start + n].reshape(p.shape)
        p.array[...] = backend.to_device(chunk, backend.device_of(p.array))
        start += n
