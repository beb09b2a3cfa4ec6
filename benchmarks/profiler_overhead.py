"""What the profiler hook costs when no profile runs, and how much of a step its rows cover.

    python benchmarks/profiler_overhead.py [--batch 32] [--repeats 7] [--small-ops 20000]

"No profiler" is the engine with the hook taken out: ``minicnn/autograd.py``'s source with
its two ``observer`` tests replaced by the plain calls, loaded as a module of its own, whose
``Function.apply`` and ``backward`` stand in for the real ones while it is timed. "Profiling
off" is the engine as it is (``minicnn.autograd.observer`` is None). The two alternate,
``--repeats`` times each, on (1) a SimpleCNN training step (the speed benchmark's model,
data and step) and (2) a loop of ``--small-ops`` tiny additions forward and backward, where
the hook's share is largest; the medians are compared. Then one step is profiled and the
rows' self times are set against the step's wall time, and the time of the test itself
(``timeit`` of the hooked line against the plain one) times the step's op count is set
against the step: a figure that the machine's load disturbs less than the A/B medians.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import timeit
import types
from pathlib import Path

import numpy as np
from speed import Engine  # the same model, data and step as the speed benchmark

import minicnn
from minicnn import autograd
from minicnn.profiler import profile, record_function

_HOOKED = {
    "forward = cls.forward if observer is None else observer.forward(cls)": "forward = cls.forward",
    "run = item.function.backward if observer is None else observer.backward(item.function)":
        "run = item.function.backward",
}


def unobserved_autograd() -> types.ModuleType:
    """``minicnn.autograd`` without the observer tests (module docstring)."""
    source = Path(autograd.__file__).read_text()
    for hooked, plain in _HOOKED.items():
        if hooked not in source:
            raise SystemExit(f"profiler_overhead: minicnn/autograd.py no longer has {hooked!r}")
        source = source.replace(hooked, plain)
    module = types.ModuleType("minicnn._autograd_unobserved")
    module.__package__ = "minicnn"
    exec(compile(source, "autograd-unobserved", "exec"), module.__dict__)
    module._state = autograd._state  # one grad mode for both
    return module


class Swap:
    """Inside the block, ``Function.apply`` and ``backward`` are ``variant``'s."""

    def __init__(self, variant):
        self.variant = variant

    def __enter__(self):
        self.saved = autograd.Function.__dict__["apply"], autograd.backward
        autograd.Function.apply = self.variant.Function.__dict__["apply"]
        autograd.backward = self.variant.backward

    def __exit__(self, *exc):
        autograd.Function.apply, autograd.backward = self.saved


def check_cost_ns(number: int = 2_000_000) -> float:
    """Nanoseconds one ``observer is None`` test adds to an op (best of 5)."""
    scope = {"observer": None, "cls": autograd.Function}
    hooked = min(timeit.repeat("f = cls.forward if observer is None else observer.forward(cls)",
                               globals=scope, number=number, repeat=5))
    plain = min(timeit.repeat("f = cls.forward", globals=scope, number=number, repeat=5))
    return (hooked - plain) / number * 1e9


def small_ops(count: int):
    a = minicnn.randn(2, 2).requires_grad_()
    b = minicnn.randn(2, 2)

    def run():
        for _ in range(count // 2):
            (a + b).backward(np.ones((2, 2), dtype=np.float32))
    return run


def alternate(work, variant, repeats: int) -> tuple[float, float]:
    """Median seconds of ``work`` as it is and with the hook taken out, alternating."""
    off, bare = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        off.append(time.perf_counter() - start)
        with Swap(variant):
            start = time.perf_counter()
            work()
            bare.append(time.perf_counter() - start)
    return statistics.median(off), statistics.median(bare)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--small-ops", type=int, default=20000)
    args = parser.parse_args(argv)
    variant = unobserved_autograd()
    engine = Engine("minicnn", args.batch, "cpu")
    for _ in range(2):
        engine.train_step()
    tiny = small_ops(args.small_ops)
    tiny()
    for label, work, unit, per in (
            (f"SimpleCNN training step, batch {args.batch}", engine.train_step, "ms", 1e3),
            (f"{args.small_ops} tiny ops (2x2 add, forward or backward)", tiny, "us per op",
             1e6 / args.small_ops)):
        off, bare = alternate(work, variant, args.repeats)
        print(f"{label}: profiling off {off * per:.3f} {unit}, no profiler {bare * per:.3f} "
              f"{unit}, overhead {100 * (off / bare - 1):+.2f}% (medians of {args.repeats})")
    with profile() as prof:
        start = time.perf_counter_ns()
        engine.model.train()
        engine.optimizer.zero_grad()
        engine.loss(engine.model(engine.x), engine.y).backward()
        with record_function("optimizer.step"):
            engine.optimizer.step()
        wall = time.perf_counter_ns() - start
    rows = prof.key_averages()
    print(f"profiled step: rows' self time {rows.self_cpu_time_total / 1e3:.2f} ms of "
          f"{wall / 1e6:.2f} ms wall ({100 * rows.self_cpu_time_total * 1e3 / wall:.1f}%)")
    check_ns = check_cost_ns()
    events = len(prof.events())
    print(f"the test itself: {check_ns:.1f} ns per op x {events} ops per step = "
          f"{check_ns * events / 1e3:.2f} us, {100 * check_ns * events / wall:.4f}% of the step")
    print(rows.table(sort_by="self_cpu_time_total", row_limit=12))
    return 0


if __name__ == "__main__":
    sys.exit(main())
