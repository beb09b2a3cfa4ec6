"""``minicnn.summary(model, input_size)``: every layer's output shape, parameters,
multiply-accumulates and activation memory, for one sample.

``input_size`` may hold the batch dimension (torchinfo's convention, ``(1, 1, 128, 128)``)
or not (``(1, 128, 128)``). The rank the model's first leaf layer (in registration order)
takes tells them apart: 4 for ``Conv2d``, ``BatchNorm2d``, ``MaxPool2d`` and ``AvgPool2d``,
2 for ``Linear``. A size of that length holds the batch; any other size, or any size for
another first layer, is one sample and gets a batch of 1 in front. (A ``Flatten`` first
gives the same table either way: its output is the flattened sample.)

The model runs once on zeros of that shape in evaluation mode and without the tape (its
training mode and running statistics are left as they were); a forward hook on each leaf
module records its output on the way (a hooked layer is never fused, so every layer of a
``BatchNorm2d -> ReLU -> MaxPool2d`` run is seen). Multiply-accumulates:
``OH*OW*F*C*kh*kw`` for a Conv2d, ``in*out`` for a Linear, none for the rest. Activation
memory: the output's bytes. Both are per sample, whatever the batch.
"""
from __future__ import annotations

import math

import numpy as np

from .autograd import no_grad
from .nn.batchnorm import BatchNorm2d
from .nn.conv import Conv2d
from .nn.linear import Linear
from .nn.pooling import AvgPool2d, MaxPool2d
from .tensor import zeros

INPUT_RANK = {Conv2d: 4, BatchNorm2d: 4, MaxPool2d: 4, AvgPool2d: 4, Linear: 2}


def _macs(module, output_shape: tuple) -> int:
    if isinstance(module, Conv2d):
        kh, kw = module.kernel_size
        return math.prod(output_shape[1:]) * module.in_channels * kh * kw
    if isinstance(module, Linear):
        return module.in_features * module.out_features
    return 0


def batched_size(model, input_size) -> tuple:
    """``input_size`` with the batch dimension, by the rule in the module docstring."""
    size = tuple(int(n) for n in input_size)
    first = next((m for _, m in model.named_modules() if not m._modules), None)
    if len(size) == INPUT_RANK.get(type(first)):
        return size
    return (1,) + size


def summary(model, input_size, dtype=None, file=None) -> dict:
    """Print the table (to ``file``, default stdout) and return the totals:
    ``{'parameters', 'trainable', 'macs', 'activation_bytes', 'output_shape', 'rows'}``
    (``output_shape`` for the batch run). ``input_size`` with or without the batch
    dimension (module docstring). The input has the parameters' dtype unless ``dtype``
    is given."""
    if dtype is None:
        dtype = next((p.dtype for p in model.parameters()), np.float32)
    size = batched_size(model, input_size)
    rows = []
    leaves = [(name, m) for name, m in model.named_modules() if not m._modules]

    def recorder(name):
        def record(module, args, out):
            shape = (-1,) + tuple(out.shape[1:])
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((name or type(module).__name__, type(module).__name__, shape, params,
                         _macs(module, tuple(out.shape)),
                         out.numel() // size[0] * out.array.itemsize))
        return record

    was_training = model.training
    handles = [module.register_forward_hook(recorder(name)) for name, module in leaves]
    try:
        model.eval()
        with no_grad():
            output = model(zeros(size, dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    header = (f"{'layer':<22} {'type':<12} {'output shape':<20} {'params':>10} {'MACs':>14} "
              f"{'activations':>12}")
    lines = [header, "-" * len(header)]
    for name, kind, shape, params, macs, nbytes in rows:
        lines.append(f"{name:<22} {kind:<12} {str(shape):<20} {params:>10,} {macs:>14,} "
                     f"{nbytes / 1024:>10.1f} KB")
    macs, activation_bytes = sum(r[4] for r in rows), sum(r[5] for r in rows)
    lines += ["-" * len(header),
              f"parameters: {parameters:,} ({trainable:,} trainable); multiply-accumulates per "
              f"sample: {macs:,}; activations per sample: {activation_bytes / 2**20:.2f} MB; "
              f"output {tuple(output.shape)}"]
    print("\n".join(lines), file=file)
    return {"parameters": parameters, "trainable": trainable, "macs": macs,
            "activation_bytes": activation_bytes, "output_shape": tuple(output.shape), "rows": rows}
