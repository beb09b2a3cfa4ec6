"""``minicnn.summary(model, input_shape)``: every layer's output shape, parameters,
multiply-accumulates and activation memory, for one sample.

The model runs once on zeros of shape ``(1, *input_shape)`` in evaluation mode and without
the tape (its training mode and running statistics are left as they were); each leaf
module's output is recorded on the way. Multiply-accumulates: ``OH*OW*F*C*kh*kw`` for a
Conv2d, ``in*out`` for a Linear, none for the rest. Activation memory: the output's bytes.
"""
from __future__ import annotations

import math

import numpy as np

from .autograd import no_grad
from .nn.conv import Conv2d
from .nn.linear import Linear
from .tensor import zeros


def _macs(module, output_shape: tuple) -> int:
    if isinstance(module, Conv2d):
        kh, kw = module.kernel_size
        return math.prod(output_shape[1:]) * module.in_channels * kh * kw
    if isinstance(module, Linear):
        return module.in_features * module.out_features
    return 0


def summary(model, input_shape, dtype=None, file=None) -> dict:
    """Print the table (to ``file``, default stdout) and return the totals:
    ``{'parameters', 'trainable', 'macs', 'activation_bytes', 'output_shape'}``. The input
    has the parameters' dtype unless ``dtype`` is given."""
    if dtype is None:
        dtype = next((p.dtype for p in model.parameters()), np.float32)
    rows = []
    leaves = [(name, m) for name, m in model.named_modules() if not m._modules]

    def recorder(name, module, forward):
        def record(*args, **kwargs):
            out = forward(*args, **kwargs)
            shape = (-1,) + tuple(out.shape[1:])
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((name or type(module).__name__, type(module).__name__, shape, params,
                         _macs(module, tuple(out.shape)), out.numel() * out.array.itemsize))
            return out
        return record

    was_training = model.training
    for name, module in leaves:
        object.__setattr__(module, "forward", recorder(name, module, module.forward))
    try:
        model.eval()
        with no_grad():
            output = model(zeros((1,) + tuple(input_shape), dtype=dtype))
    finally:
        for _, module in leaves:
            object.__delattr__(module, "forward")
        model.train(was_training)

    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    header = f"{'layer':<22} {'type':<12} {'output shape':<20} {'params':>10} {'MACs':>14} {'activations':>12}"
    lines = [header, "-" * len(header)]
    for name, kind, shape, params, macs, size in rows:
        lines.append(f"{name:<22} {kind:<12} {str(shape):<20} {params:>10,} {macs:>14,} {size / 1024:>10.1f} KB")
    macs, activation_bytes = sum(r[4] for r in rows), sum(r[5] for r in rows)
    lines += ["-" * len(header),
              f"parameters: {parameters:,} ({trainable:,} trainable); multiply-accumulates per sample: {macs:,}; "
              f"activations per sample: {activation_bytes / 2**20:.2f} MB; output {tuple(output.shape)}"]
    print("\n".join(lines), file=file)
    return {"parameters": parameters, "trainable": trainable, "macs": macs,
            "activation_bytes": activation_bytes, "output_shape": tuple(output.shape), "rows": rows}
