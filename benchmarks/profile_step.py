"""Where one SimpleCNN training step of minicnn spends its time, by Python function.

    python benchmarks/profile_step.py [--device cpu|cuda] [--batch 32] [--steps 20] [--top 25]

Runs ``--steps`` training steps (after two warm-up steps) under cProfile and prints the
functions with the most time of their own. On a GPU a step that is bound by Python and
kernel launches shows most of its time in Python functions; one bound by the device shows
it in the final synchronisation.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys

from speed import Engine  # the same model, data and step as the speed benchmark


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    engine = Engine("minicnn", args.batch, args.device)
    for _ in range(2):
        engine.train_step()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.steps):
        engine.train_step()
    profile.disable()
    stats = pstats.Stats(profile, stream=sys.stdout)
    print(f"{args.steps} training steps, batch {args.batch}, device {args.device}: "
          f"{1000 * stats.total_tt / args.steps:.2f} ms per step under the profiler")
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
