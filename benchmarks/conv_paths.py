"""The ``numba`` set's convolution kernels on the layers of VGG11, ResNet18 and MobileNetV2 and
DenseNet-BC's 3 x 3 layer at CIFAR size, on the SimpleCNN's 16->32 and 32->64 layers and on
the study grid's 5 x 5 and 7 x 7 layers, and torch on the same layers: the measurement
behind ``minicnn.kernels.numba.conv.path``.

    python benchmarks/conv_paths.py [--depthwise | --first-layers] [--batch 32] [--repeats 5]
        [--threads 2] [--markdown]

For each layer (``C`` input channels, ``F`` filters, ``H x H`` input, kernel, stride, padding
as the networks of ``benchmarks/networks.py`` have them) the forward and the backward (input
and weight gradients, no bias) in float32, warm, median of ``--repeats``, with each kernel
that serves the window forced on (``-`` where it does not: Winograd, in blocks of samples or
per sample, takes 3 x 3 at stride 1, pointwise 1 x 1 without padding; the DFT takes every
window), and ``torch.nn.functional.conv2d`` forward plus backward (skipped when torch is
missing). The last column is the kernel ``path`` picks.

``--depthwise``: MobileNetV2's depthwise layers (3 x 3, groups = channels) instead, with
the two depthwise kernels (a plane per task, channels last) forced in turn; the last
column is the one ``minicnn.kernels.numba.conv_depthwise.channels_last`` picks.

``--first-layers``: the study grid's first layers (one input channel, 128 x 128, kernels 3,
5 and 7 at stride 1, 16 and 32 filters) with the direct one-channel kernel and im2col
forced in turn; their backward takes only the weight gradient (the network's input wants
none), and so does torch's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LAYERS = [  # (C, F, H, kernel, stride, padding)
    (64, 64, 32, 3, 1, 1), (64, 128, 16, 3, 1, 1), (128, 128, 16, 3, 1, 1),
    (128, 256, 8, 3, 1, 1), (256, 256, 8, 3, 1, 1), (256, 512, 4, 3, 1, 1),
    (512, 512, 4, 3, 1, 1), (512, 512, 2, 3, 1, 1), (64, 128, 32, 3, 2, 1),
    (128, 256, 16, 3, 2, 1), (256, 512, 8, 3, 2, 1), (64, 128, 32, 1, 2, 0),
    (256, 512, 8, 1, 2, 0), (64, 64, 16, 3, 1, 1), (128, 128, 32, 3, 1, 1),
    (96, 96, 16, 3, 1, 1), (24, 144, 32, 1, 1, 0), (144, 32, 16, 1, 1, 0),
    (192, 64, 8, 1, 1, 0), (320, 1280, 4, 1, 1, 0), (160, 960, 4, 1, 1, 0),
    (960, 160, 4, 1, 1, 0), (960, 320, 4, 1, 1, 0), (16, 32, 64, 3, 1, 1), (32, 64, 32, 3, 1, 1),
    # DenseNet-BC's 3 x 3 layer (48 -> growth 12 at 32 x 32)
    (48, 12, 32, 3, 1, 1),
    # the study's 5 x 5 and 7 x 7 layers after the first (16/32/64 and 32/64/128 channels)
    (16, 32, 63, 5, 1, 1), (32, 64, 30, 5, 1, 1), (32, 64, 63, 5, 1, 1), (64, 128, 30, 5, 1, 1),
    (16, 32, 62, 7, 1, 1), (32, 64, 29, 7, 1, 1), (32, 64, 62, 7, 1, 1), (64, 128, 29, 7, 1, 1)]
KERNELS = ("per-sample", "stacked", "pointwise", "winograd", "winograd-per-sample", "fft")
DEPTHWISE_LAYERS = [(96, 32, 1), (144, 32, 1), (144, 32, 2), (192, 16, 1), (192, 16, 2),
                    (384, 8, 1), (576, 8, 1), (576, 8, 2), (960, 4, 1)]  # (C, H, stride)
DEPTHWISE_KERNELS = ("planes", "channels-last")
FIRST_LAYERS = [(16, 3, 1), (32, 3, 1), (16, 5, 1), (32, 7, 1)]  # (F, kernel, padding)
FIRST_KERNELS = ("one-channel", "per-sample")


def median_ms(run, repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def forced(module, name: str, rule, step):
    """``step`` run with ``module.name`` replaced by ``rule`` (and put back after)."""
    def run():
        saved = getattr(module, name)
        setattr(module, name, rule)
        try:
            step()
        finally:
            setattr(module, name, saved)
    return run


def minicnn_step(conv, x, weight, win, kind: str, need_x: bool = True):
    """Forward and backward of the numba convolution with its kernel forced."""
    def step():
        y, saved = conv.conv2d_forward(x, weight, None, win)
        conv.conv2d_backward(y, saved, x, weight, win, need_x, True, False)
    return forced(conv, "path", lambda *shape: kind, step)


def depthwise_step(depthwise, x, weight, win, last: bool):
    """Forward and backward of the numba depthwise convolution with its kernel forced."""
    def step():
        y, saved = depthwise.depthwise_conv2d_forward(x, weight, None, win)
        depthwise.depthwise_conv2d_backward(y, saved, x, weight, win, True, True, False)
    return forced(depthwise, "channels_last", lambda *shape: last, step)


def torch_step(torch, x, weight, stride, padding, groups=1, need_x=True):
    xt = torch.tensor(x, requires_grad=need_x)
    wt = torch.tensor(weight, requires_grad=True)

    def run():
        y = torch.nn.functional.conv2d(xt, wt, None, stride, padding, 1, groups)
        y.backward(y.detach())
    return run


def depthwise_rows(args, torch):
    from minicnn.kernels import Window
    from minicnn.kernels.numba import conv_depthwise
    rows = []
    for c, h, s in DEPTHWISE_LAYERS:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.batch, c, h, h), dtype=np.float32)
        weight = 0.1 * rng.standard_normal((c, 1, 3, 3), dtype=np.float32)
        win = Window(3, 3, s, s, 1, 1)
        times = [median_ms(depthwise_step(conv_depthwise, x, weight, win, last), args.repeats)
                 for last in (False, True)]
        times.append(median_ms(torch_step(torch, x, weight, s, 1, c), args.repeats)
                     if torch else float("nan"))
        oh = (h + 2 - 3) // s + 1
        picked = DEPTHWISE_KERNELS[conv_depthwise.channels_last(c, c, oh * oh)]
        rows.append((f"{c} channels, {h}x{h}, 3x3/{s}", times, picked))
    return rows


def first_layer_rows(args, torch):
    from minicnn.kernels import Window
    from minicnn.kernels.numba import conv
    rows = []
    for f, k, p in FIRST_LAYERS:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.batch, 1, 128, 128), dtype=np.float32)
        weight = 0.1 * rng.standard_normal((f, 1, k, k), dtype=np.float32)
        win = Window(k, k, 1, 1, p, p)
        times = [median_ms(minicnn_step(conv, x, weight, win, kind, need_x=False), args.repeats)
                 for kind in FIRST_KERNELS]
        times.append(median_ms(torch_step(torch, x, weight, 1, p, need_x=False), args.repeats)
                     if torch else float("nan"))
        oh, ow = win.out_shape(128, 128)
        rows.append((f"1->{f}, 128x128, {k}x{k}/1", times, conv.path(1, f, oh * ow, win,
                                                                     args.batch)))
    return rows


def layer_rows(args, torch):
    from minicnn.kernels import Window
    from minicnn.kernels.numba import conv, conv_pointwise, conv_winograd
    serves = {"per-sample": lambda win: True, "stacked": lambda win: True,
              "pointwise": conv_pointwise.takes, "winograd": conv_winograd.takes,
              "winograd-per-sample": conv_winograd.takes, "fft": lambda win: True}
    rows = []
    for c, f, h, k, s, p in LAYERS:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.batch, c, h, h), dtype=np.float32)
        weight = 0.1 * rng.standard_normal((f, c, k, k), dtype=np.float32)
        win = Window(k, k, s, s, p, p)
        oh = (h + 2 * p - k) // s + 1
        times = [median_ms(minicnn_step(conv, x, weight, win, kind), args.repeats)
                 if serves[kind](win) else float("nan") for kind in KERNELS]
        times.append(median_ms(torch_step(torch, x, weight, s, p), args.repeats)
                     if torch else float("nan"))
        picked = conv.path(c, f, oh * oh, win, args.batch)
        rows.append((f"{c}->{f}, {h}x{h}, {k}x{k}/{s}", times, picked))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--depthwise", action="store_true")
    modes.add_argument("--first-layers", action="store_true")
    args = parser.parse_args(argv)
    os.environ["MINICNN_NUM_THREADS"] = str(args.threads)
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    if args.depthwise:
        kernels, rows = DEPTHWISE_KERNELS, depthwise_rows(args, torch)
    elif args.first_layers:
        kernels, rows = FIRST_KERNELS, first_layer_rows(args, torch)
    else:
        kernels, rows = KERNELS, layer_rows(args, torch)
    for name, times, kind in rows:
        shown = "  ".join(f"{k} {ms:6.1f}" for k, ms in zip(kernels + ("torch",), times))
        print(f"{name:26s} {shown}  (ms)  picks: {kind}", flush=True)
    if args.markdown:
        print(f"\nbatch {args.batch}, {args.threads} threads, float32, forward + backward, "
              f"median of {args.repeats} (ms)\n")
        print("| layer | " + " | ".join(kernels) + " | torch | picks |")
        print("|---|" + "---:|" * (len(kernels) + 1) + "---|")
        for name, times, kind in rows:
            cells = " | ".join("-" if ms != ms else f"{ms:.1f}" for ms in times)
            print(f"| {name} | {cells} | {kind} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
