"""``minicnn.kernels.use(module)``: serve the whole engine from a kernel set of your own.

    import my_kernels                        # defines e.g. im2col, col2im, maxpool2d_forward ...
    with minicnn.kernels.use(my_kernels):    # or a plain call: minicnn.kernels.use(my_kernels)
        train(model)                         # every Conv2d, pooling, batch norm, ReLU runs yours

The module is held to the contract (``minicnn/kernels/contract.py``) before anything runs:
each function it defines must be callable with the positional arguments the ops pass (else
TypeError naming the function). What it leaves out is filled in, so that a student may
write one kernel at a time:

- ``conv2d_forward``/``conv2d_backward``, when both are missing, are built on the set's own
  ``im2col``/``col2im`` (``composed.compose_conv2d``), and the fused
  ``batchnorm_relu_maxpool_*`` pair on the set's own batch norm, ReLU and max pooling
  (``composed.compose_batchnorm_relu_maxpool``), as the reference set builds them. Each pair
  shares its ``saved`` state, so one of a pair without the other is a TypeError.
  ``depthwise_conv2d_forward``/``_backward``, when both are missing, are the set's
  convolution called once per channel (``composed.compose_depthwise_conv2d``). A missing
  ``batchnorm_clamp_forward`` or ``_backward`` (they share no state) is the set's own batch
  norm followed by the clamp (``composed.compose_batchnorm_clamp``), and a missing
  ``avgpool2d_forward`` or ``_backward`` the set's own ``im2col``/``col2im``
  (``composed.compose_avgpool2d``).
- any other missing function comes from the set ``fill_from`` (default ``"reference"``);
  ``fill_from=None`` makes a missing function a TypeError instead.

The returned handle tells ``own`` (the module's functions used) from ``filled``, and ends
the plug-in on ``close()`` or at the end of the ``with`` block. The set is used for every
array, CuPy ones too, so a NumPy-only set is for the CPU.
"""
from __future__ import annotations

import inspect
import types

from .. import backend
from .composed import (
    compose_avgpool2d,
    compose_batchnorm_clamp,
    compose_batchnorm_relu_maxpool,
    compose_conv2d,
    compose_depthwise_conv2d,
)
from .contract import NAMES, positional_count

_PAIRS = {("conv2d_forward", "conv2d_backward"): "conv",
          ("depthwise_conv2d_forward", "depthwise_conv2d_backward"): "depthwise",
          ("batchnorm_relu_maxpool_forward", "batchnorm_relu_maxpool_backward"): "fused"}

_CLAMP = ("batchnorm_clamp_forward", "batchnorm_clamp_backward")

_AVGPOOL = ("avgpool2d_forward", "avgpool2d_backward")


def _check_callable(module_name: str, name: str, fn) -> None:
    if not callable(fn):
        raise TypeError(f"minicnn.kernels.use: {module_name}.{name} is not a function")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # a builtin or compiled function: nothing to inspect
    count = positional_count(name)
    try:
        signature.bind(*([None] * count))
    except TypeError:
        raise TypeError(f"minicnn.kernels.use: {module_name}.{name}{signature} cannot take "
                        f"the {count} positional arguments the ops pass it (see the contract "
                        f"in minicnn/kernels/contract.py)") from None


def assemble(module, fill_from: str | None = "reference") -> tuple[types.SimpleNamespace, list]:
    """The complete kernel set built from ``module`` (module docstring) and the names filled."""
    module_name = getattr(module, "__name__", type(module).__name__)
    own = {name: getattr(module, name) for name in NAMES if hasattr(module, name)}
    for name, fn in own.items():
        _check_callable(module_name, name, fn)
    for pair in _PAIRS:
        if (pair[0] in own) != (pair[1] in own):
            given, missing = pair if pair[0] in own else pair[::-1]
            raise TypeError(f"minicnn.kernels.use: {module_name} defines {given} but not "
                            f"{missing}; the two share their saved state, give both or neither")
    parts = {name: own.get(name) for name in NAMES}
    singles = [n for n in NAMES if parts[n] is None and not any(n in p for p in _PAIRS)
               and n not in _CLAMP + _AVGPOOL]
    if singles:
        if fill_from is None:
            raise TypeError(f"minicnn.kernels.use: {module_name} lacks {singles} "
                            f"(and fill_from=None)")
        if fill_from not in backend.kernel_set_names():
            raise ValueError(f"minicnn.kernels.use: fill_from must be one of "
                             f"{backend.kernel_set_names()} or None, got {fill_from!r}")
        fallback = backend.kernel_set(fill_from)
        for name in singles:
            parts[name] = getattr(fallback, name)
    kernels = types.SimpleNamespace(__name__=module_name, **parts)
    if parts["conv2d_forward"] is None:
        kernels.conv2d_forward, kernels.conv2d_backward = compose_conv2d(kernels.im2col,
                                                                         kernels.col2im)
    if parts["depthwise_conv2d_forward"] is None:
        kernels.depthwise_conv2d_forward, kernels.depthwise_conv2d_backward = \
            compose_depthwise_conv2d(kernels.conv2d_forward, kernels.conv2d_backward)
    if parts["batchnorm_relu_maxpool_forward"] is None:
        (kernels.batchnorm_relu_maxpool_forward,
         kernels.batchnorm_relu_maxpool_backward) = compose_batchnorm_relu_maxpool(
            kernels, kernels, kernels)
    for name, composed in zip(_CLAMP, compose_batchnorm_clamp(kernels)):
        setattr(kernels, name, parts[name] or composed)
    for name, composed in zip(_AVGPOOL, compose_avgpool2d(kernels.im2col, kernels.col2im)):
        setattr(kernels, name, parts[name] or composed)
    filled = [name for name in NAMES if name not in own]
    return kernels, filled


class use:  # noqa: N801 - a function to the user, a context manager too
    """Plug ``module`` in as the kernel set of every op (module docstring)."""

    def __init__(self, module, fill_from: str | None = "reference"):
        self.kernels, self.filled = assemble(module, fill_from)
        self.own = [name for name in NAMES if name not in self.filled]
        self._previous = backend.force_kernels(self.kernels)
        self._open = True

    def close(self) -> None:
        """Go back to the kernel set that served before."""
        if self._open:
            backend.force_kernels(self._previous)
            self._open = False

    def __enter__(self) -> use:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
