"""The ``numba`` set's two convolution paths on the layers of VGG11 and ResNet18 at CIFAR size,
and torch on the same layers: the measurement behind ``minicnn.kernels.numba.conv.stacks_samples``.

    python benchmarks/conv_paths.py [--batch 32] [--repeats 5] [--threads 2] [--markdown]

For each layer (``C`` input channels, ``F`` filters, ``H x H`` input, kernel, stride, padding
as the networks of ``benchmarks/networks.py`` have them) the forward and the backward (input
and weight gradients, no bias) in float32, warm, median of ``--repeats``: a product per
sample (``per-sample``), all samples' columns in one product (``stacked``), and
``torch.nn.functional.conv2d`` forward plus backward (skipped when torch is missing). The
``rule`` column is the path ``stacks_samples`` picks.
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
    (256, 512, 8, 1, 2, 0)]


def median_ms(run, repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def minicnn_step(conv, x, weight, win, stacked: bool):
    """Forward and backward of the numba convolution with its path forced."""
    rule = conv.stacks_samples

    def run():
        conv.stacks_samples = lambda pixels, filters: stacked
        try:
            y, saved = conv.conv2d_forward(x, weight, None, win)
            conv.conv2d_backward(y, saved, x, weight, win, True, True, False)
        finally:
            conv.stacks_samples = rule
    return run


def torch_step(torch, x, weight, stride, padding):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(weight, requires_grad=True)

    def run():
        y = torch.nn.functional.conv2d(xt, wt, None, stride, padding)
        y.backward(y.detach())
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    os.environ["MINICNN_NUM_THREADS"] = str(args.threads)
    from minicnn.kernels import Window
    from minicnn.kernels.numba import conv
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    rows = []
    for c, f, h, k, s, p in LAYERS:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.batch, c, h, h), dtype=np.float32)
        weight = 0.1 * rng.standard_normal((f, c, k, k), dtype=np.float32)
        win = Window(k, k, s, s, p, p)
        oh = (h + 2 * p - k) // s + 1
        times = [median_ms(minicnn_step(conv, x, weight, win, stacked), args.repeats)
                 for stacked in (False, True)]
        times.append(median_ms(torch_step(torch, x, weight, s, p), args.repeats)
                     if torch else float("nan"))
        rule = "stacked" if conv.stacks_samples(oh * oh, f) else "per-sample"
        rows.append((f"{c}->{f}, {h}x{h}, {k}x{k}/{s}", *times, rule))
        print(f"{rows[-1][0]:24s} per-sample {times[0]:7.1f} ms  stacked {times[1]:7.1f} ms  "
              f"torch {times[2]:7.1f} ms  rule: {rule}", flush=True)
    if args.markdown:
        print(f"\nbatch {args.batch}, {args.threads} threads, float32, forward + backward, "
              f"median of {args.repeats} (ms)\n")
        print("| layer | per-sample | stacked | torch | rule picks |\n|---|---:|---:|---:|---|")
        for name, a, b, t, rule in rows:
            print(f"| {name} | {a:.1f} | {b:.1f} | {t:.1f} | {rule} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
