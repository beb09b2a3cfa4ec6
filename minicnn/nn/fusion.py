"""Which runs of layers ``Sequential`` computes as one fused op.

A ``BatchNorm2d -> ReLU -> MaxPool2d`` run is computed by
:meth:`BatchNorm2d.forward_relu_max_pool` (``minicnn/ops/fused.py``): the same values and
gradients, without storing the normalised and the rectified tensors, and with the Numba
kernels in one pass each way after the batch statistics. Each layer's own forward and
backward stay as they are and run whenever the layer is called alone, inside
:func:`layer_by_layer`, or when one of the three has a hook (forward, forward pre- or
backward hook, as ``minicnn.summary`` and feature-map extraction register) or its
``forward`` replaced on the instance: then every layer of the run must be seen to run, with
its own input and output.
"""
from __future__ import annotations

import contextlib

from .activation import ReLU
from .batchnorm import BatchNorm2d
from .pooling import MaxPool2d

_enabled = True


@contextlib.contextmanager
def layer_by_layer():
    """Inside the ``with`` block, ``Sequential`` calls every layer on its own (no fusion)."""
    global _enabled
    previous, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = previous


def _plain(module) -> bool:
    """True when ``module`` has its class's forward and no hooks."""
    return "forward" not in vars(module) and not module._has_hooks()


def fusable(run: list) -> bool:
    """True when ``run`` (three modules) is a BatchNorm2d, a ReLU and a MaxPool2d (without
    ``ceil_mode``), in that order, each with its class's forward and no hooks, and fusion is on."""
    return (_enabled and len(run) == 3 and type(run[0]) is BatchNorm2d and type(run[1]) is ReLU
            and type(run[2]) is MaxPool2d and not run[2].ceil_mode
            and all(_plain(m) for m in run))


def run_sequence(modules: list, x):
    """Call ``modules`` in order on ``x``, fusing every run :func:`fusable` accepts."""
    k = 0
    while k < len(modules):
        if fusable(modules[k:k + 3]):
            x = modules[k].forward_relu_max_pool(x, modules[k + 2])
            k += 3
        else:
            x = modules[k](x)
            k += 1
    return x
