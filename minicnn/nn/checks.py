"""Input checks shared by the layers, ``nn.functional`` and ``nn.fusion``: errors that name the
layer and both shapes, e.g.
``Conv2d(16, 32, 3): expected input (N, 16, H, W), got (8, 3, 128, 128)``."""
from __future__ import annotations

from ..kernels import Window
from ..ops.pool import ceil_extra, pooled_size
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


def check_batch_norm(where, input, running_mean, weight, bias, training, ndims) -> None:
    """Raise unless ``input`` suits batch norm: a rank in ``ndims``, the channels of ``weight``
    or ``running_mean``, their dtype, running statistics in evaluation mode."""
    channels = next((t.shape[0] for t in (weight, running_mean) if t is not None), None)
    check_input(where, input, f"(N, {channels if channels else 'C'}, ...)", ndims, channels)
    check_same_dtype(where, input, weight, bias)
    if not training and running_mean is None:
        raise ValueError(f"{where}: evaluation mode needs running_mean and running_var")
    check_values_per_channel(where, input, training)


def check_values_per_channel(where: str, input: Tensor, batch_stats: bool) -> None:
    """Batch statistics need more than one value per channel (``ValueError``, as torch)."""
    if batch_stats and input.ndim >= 2 and input.numel() // input.shape[1] == 1:
        raise ValueError(f"{where}: Expected more than 1 value per channel when training, got "
                         f"input size {input.shape}")


def pool_window(where, input, kernel_size, stride, padding, dilation=1,
                ceil_mode: bool = False) -> tuple:
    """The window, and ``(extra_h, extra_w, oh, ow)``: rows and columns of padding that
    ``ceil_mode`` adds after the input, and the output size (``minicnn/ops/pool.py``)."""
    check_input(where, input, "(N, C, H, W)", (4,))
    win = Window.of(kernel_size, kernel_size if stride is None or stride == () else stride,
                    padding, dilation)
    if win.ph * 2 > win.kh or win.pw * 2 > win.kw:
        raise ValueError(f"{where}: padding {(win.ph, win.pw)} must be at most half the kernel "
                         f"{(win.kh, win.kw)}")
    h, w = input.shape[2:]
    oh = pooled_size(h, win.kh, win.sh, win.ph, win.dh, ceil_mode)
    ow = pooled_size(w, win.kw, win.sw, win.pw, win.dw, ceil_mode)
    if not ceil_mode:
        check_window_fits(where, input, win)
    elif oh < 1 or ow < 1:
        raise ValueError(f"{where}: input {input.shape} is smaller than the window (kernel "
                         f"{(win.kh, win.kw)}, padding {(win.ph, win.pw)}, dilation "
                         f"{(win.dh, win.dw)}): the output would be {oh} x {ow}")
    extra = (ceil_extra(h, oh, win.kh, win.sh, win.ph, win.dh),
             ceil_extra(w, ow, win.kw, win.sw, win.pw, win.dw))
    return win, extra + (oh, ow)
