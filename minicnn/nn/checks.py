"""Input checks shared by the layers and ``nn.functional``: errors that name the layer
and both shapes, e.g. ``Conv2d(16, 32, 3): expected input (N, 16, H, W), got (8, 3, 128, 128)``."""
from __future__ import annotations

from ..tensor import Tensor


def check_input(where: str, x, expected: str, ndims: tuple[int, ...], channels: int | None = None,
                channel_dim: int = 1) -> None:
    """Raise ``ValueError`` unless ``x`` is a Tensor of a rank in ``ndims`` with ``channels``
    entries along ``channel_dim`` (any count when ``channels`` is None)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{where}: expected a minicnn Tensor {expected}, got {type(x).__name__}")
    if x.ndim not in ndims or (channels is not None and x.shape[channel_dim] != channels):
        raise ValueError(f"{where}: expected input {expected}, got {x.shape}")


def check_window_fits(where: str, x: Tensor, win) -> None:
    """Raise ``ValueError`` when the (padded, dilated) window is larger than the input."""
    oh, ow = win.out_shape(*x.shape[2:])
    if oh < 1 or ow < 1:
        raise ValueError(f"{where}: input {x.shape} is smaller than the window "
                         f"(kernel {(win.kh, win.kw)}, padding {(win.ph, win.pw)}, "
                         f"dilation {(win.dh, win.dw)}): the output would be {oh} x {ow}")


def check_same_dtype(where: str, x: Tensor, *params) -> None:
    """Raise ``ValueError`` when the input's dtype differs from a parameter's (as torch does
    for its layers): ``model.double()`` or ``x.float()`` fixes it."""
    for p in params:
        if p is not None and p.dtype != x.dtype:
            raise ValueError(f"{where}: input of dtype {x.dtype} {x.shape} but parameters of dtype "
                             f"{p.dtype}; convert one side (x.float(), model.double())")
