"""One depthwise convolution layer (groups = channels), forward + backward, minicnn vs torch.

    python benchmarks/depthwise_conv.py [--batch 32] [--channels 144] [--size 16]
        [--repeats 20] [--threads 2]

Float32, kernel 3x3, padding 1, stride 1 and 2, a bias; the gradient of the input, the
weight and the bias. Both engines in one process, alternating call by call after two
warm-up calls each; each row prints the median of each engine and the ratio minicnn/torch.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minicnn  # noqa: E402 - this checkout's, not an installed one
from minicnn import backend  # noqa: E402


def step_minicnn(x, layer):
    y = layer(x)
    y.backward(minicnn.ones_like(y))


def step_torch(x, layer):
    y = layer(x)
    y.backward(torch.ones_like(y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--channels", type=int, default=144)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"minicnn from {os.path.dirname(minicnn.__file__)}", flush=True)
    torch.set_num_threads(args.threads)
    backend.set_num_threads(args.threads)
    n, c, s = args.batch, args.channels, args.size
    data = np.random.default_rng(0).standard_normal((n, c, s, s)).astype(np.float32)
    for stride in (1, 2):
        ours = minicnn.nn.Conv2d(c, c, 3, stride=stride, padding=1, groups=c)
        theirs = torch.nn.Conv2d(c, c, 3, stride=stride, padding=1, groups=c)
        x_ours = minicnn.tensor(data, requires_grad=True)
        x_theirs = torch.tensor(data, requires_grad=True)
        times = {"minicnn": [], "torch": []}
        for k in range(args.repeats + 2):
            for name, step, x, layer in (("minicnn", step_minicnn, x_ours, ours),
                                         ("torch", step_torch, x_theirs, theirs)):
                start = time.perf_counter()
                step(x, layer)
                if k >= 2:
                    times[name].append(time.perf_counter() - start)
        mine, torchs = (statistics.median(times[k]) * 1e3 for k in ("minicnn", "torch"))
        print(f"N={n} C={c} {s}x{s} 3x3 stride {stride}: minicnn {mine:.2f} ms, "
              f"torch {torchs:.2f} ms, ratio {mine / torchs:.2f}x", flush=True)


if __name__ == "__main__":
    main()
