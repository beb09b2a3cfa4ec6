"""minicnn against PyTorch on the proposal's SimpleCNN, in one run on one machine.

    python benchmarks/speed.py [--threads 2] [--batches 1 8 32 128] [--repeats 10]
                               [--device cpu|cuda] [--no-subprocess]

Prints Markdown tables: the training step (forward, backward, SGD step) and the evaluation
forward per batch size; each layer at batch 32; the peak memory of a training step; and
minicnn's cold start (script start to the end of the first step, with an empty and with
a warm Numba cache).

Step timings: each engine runs alone in a fresh process with the same environment and
thread count (glibc's allocator keeps state that one engine's frees would leave for the
other), ``--processes`` times, alternating engines; a process reports the median of
``--repeats`` steps after two warm-up steps, and the table gives the median over processes,
the ratio minicnn/torch, and minicnn's achieved GFLOP/s against the machine's measured
matmul peak. ``--malloc-tuned`` raises glibc's mmap and trim thresholds for both engines
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``), which spares torch most of its
page faults; minicnn's own buffer pool already does that for minicnn.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)


# ---- engines ----------------------------------------------------------------------------

class Engine:
    """One engine's model, data and step functions, behind the same small interface."""

    def __init__(self, name: str, batch: int, device: str):
        from experiments.training.models import proposal_simple_cnn
        rng = np.random.default_rng(0)
        images = rng.standard_normal((batch, 1, 128, 128)).astype(np.float32)
        labels = rng.integers(0, 5, size=batch)
        self.name, self.device = name, device
        if name == "torch":
            import torch
            dev = torch.device("cuda" if device == "cuda" else "cpu")
            self.lib = torch
            self.model = proposal_simple_cnn(torch.nn).to(dev)
            self.x, self.y = torch.from_numpy(images).to(dev), torch.from_numpy(labels).to(dev)
            self.no_grad = torch.no_grad
            self.sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        else:
            import minicnn
            self.lib = minicnn
            self.model = proposal_simple_cnn(minicnn.nn).to(device)
            self.x = minicnn.from_numpy(images).to(device)
            self.y = minicnn.from_numpy(labels).to(device)
            self.no_grad = minicnn.no_grad
            self.sync = ((lambda: __import__("cupy").cuda.Device().synchronize())
                         if device == "cuda" else (lambda: None))
        self.optimizer = self.lib.optim.SGD(self.model.parameters(), lr=1e-3)
        self.loss = self.lib.nn.CrossEntropyLoss()

    def train_step(self):
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.loss(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        self.sync()

    def eval_forward(self):
        self.model.eval()
        with self.no_grad():
            self.model(self.x)
        self.sync()


def median_ms(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def step_flops(batch: int) -> tuple[float, float]:
    """(training step, evaluation forward) floating-point operations of SimpleCNN.

    A conv layer's forward is ``2*N*F*C*9*H*W``; training adds the weight gradient
    (the same count) and the input gradient (the same again, except for the first layer,
    whose input needs none). Linear likewise; elementwise layers are not counted."""
    forward = train = 0.0
    for index, (c, f, size) in enumerate([(1, 16, 128), (16, 32, 64), (32, 64, 32)]):
        flops = 2.0 * batch * f * c * 9 * size * size
        forward += flops
        train += flops * (2 if index == 0 else 3)
    linear = 2.0 * batch * 16384 * 5
    return train + 3 * linear, forward + linear


def matmul_peak(threads: int) -> float:
    """GFLOP/s of a 2048^3 float32 matrix product through NumPy's BLAS with ``threads``."""
    from threadpoolctl import threadpool_limits
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    out = np.empty_like(a)
    with threadpool_limits(limits=threads, user_api="blas"):
        ms = median_ms(lambda: np.matmul(a, a, out=out), repeats=10)
    return 2 * 2048 ** 3 / (ms / 1000) / 1e9


# ---- per-layer timing -------------------------------------------------------------------

def layer_rows(threads: int, device: str, repeats: int) -> list[tuple]:
    """Forward + backward of each SimpleCNN layer at batch 32, both engines."""
    import torch

    import minicnn
    rng = np.random.default_rng(1)
    shapes = {"conv1 1->16 @128": (1, 16, 128), "conv2 16->32 @64": (16, 32, 64),
              "conv3 32->64 @32": (32, 64, 32)}
    rows = []

    def time_pair(make_ours, make_theirs, x_shape, needs_input_grad=True):
        x = rng.standard_normal(x_shape).astype(np.float32)
        results = []
        for lib, make in ((minicnn, make_ours), (torch, make_theirs)):
            layer = make().to(device)
            if lib is torch:
                xt = torch.from_numpy(x).to(device).requires_grad_(needs_input_grad)
                sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
            else:
                xt = minicnn.tensor(x, device=device, requires_grad=needs_input_grad)
                sync = ((lambda: __import__("cupy").cuda.Device().synchronize()) if device == "cuda"
                        else (lambda: None))

            def run(layer=layer, xt=xt, sync=sync):
                out = layer(xt)
                out.backward(out)  # the output as its own gradient: any same-shape array works
                sync()
            results.append(median_ms(run, repeats))
        return results

    for name, (c, f, size) in shapes.items():
        ours, theirs = time_pair(functools.partial(minicnn.nn.Conv2d, c, f, 3, padding=1),
                                 functools.partial(torch.nn.Conv2d, c, f, 3, padding=1),
                                 (32, c, size, size), needs_input_grad=c > 1)
        rows.append((name, ours, theirs))
    x_shape = (32, 16, 128, 128)
    for name, ours_layer, theirs_layer in (
            ("batchnorm 16 @128", lambda: minicnn.nn.BatchNorm2d(16),
             lambda: torch.nn.BatchNorm2d(16)),
            ("relu 16 @128", minicnn.nn.ReLU, torch.nn.ReLU),
            ("maxpool 2 16 @128", lambda: minicnn.nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2)),
            ("bn-relu-maxpool 16 @128 (one block's three layers; fused in minicnn)",
             lambda: minicnn.nn.Sequential(minicnn.nn.BatchNorm2d(16), minicnn.nn.ReLU(),
                                           minicnn.nn.MaxPool2d(2)),
             lambda: torch.nn.Sequential(torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
                                         torch.nn.MaxPool2d(2)))):
        ours, theirs = time_pair(ours_layer, theirs_layer, x_shape)
        rows.append((name, ours, theirs))
    ours, theirs = time_pair(lambda: minicnn.nn.Linear(16384, 5),
                             lambda: torch.nn.Linear(16384, 5), (32, 16384))
    rows.append(("linear 16384->5", ours, theirs))
    return rows


# ---- fresh processes: memory and cold start ---------------------------------------------

STEPS_CHILD = r"""
import json, sys
sys.path.insert(0, {root!r})
from benchmarks.speed import Engine, median_ms
engine = Engine({engine!r}, {batch}, {device!r})
if {engine!r} == "torch":
    engine.lib.set_num_threads({threads})
print(json.dumps([median_ms(engine.train_step, {repeats}),
                  median_ms(engine.eval_forward, {repeats})]))
"""

CHILD = r"""
import ctypes, gc, json, os, sys, time
start = time.perf_counter()
sys.path.insert(0, {root!r})
from benchmarks.speed import Engine
engine = Engine({engine!r}, {batch}, "cpu")
if {engine!r} == "torch":
    engine.lib.set_num_threads({threads})
engine.train_step()
first = time.perf_counter() - start

def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field))

# Baseline: everything loaded and compiled, caches emptied, memory handed back to the OS.
gc.collect()
if {engine!r} == "minicnn":
    from minicnn.kernels.memory import POOL
    POOL.release()
    gc.collect()
ctypes.CDLL("libc.so.6").malloc_trim(0)
before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM, the peak resident size, to the current size
for _ in range(3):
    engine.train_step()
print(json.dumps({{"first_step_s": first, "step_peak_mb": (status("VmHWM") - before) / 2**20}}))
"""


def run_child(script: str, threads: int, env_extra: dict | None = None):
    env = dict(os.environ, MINICNN_NUM_THREADS=str(threads), **(env_extra or {}))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(engine: str, batch: int, threads: int, env_extra: dict | None = None) -> dict:
    """Memory and first-step time of ``engine`` in a fresh process."""
    return run_child(CHILD.format(root=ROOT, engine=engine, batch=batch, threads=threads),
                     threads, env_extra)


def step_times(engine: str, batch: int, args, env_extra: dict) -> tuple[float, float]:
    """(train step ms, eval forward ms) of ``engine`` in a fresh process."""
    repeats = max(3, args.repeats if batch <= 32 else args.repeats // 2)
    script = STEPS_CHILD.format(root=ROOT, engine=engine, batch=batch, device=args.device,
                                threads=args.threads, repeats=repeats)
    return tuple(run_child(script, args.threads, env_extra))


# ---- report ------------------------------------------------------------------------------

def environment(threads: int, device: str, malloc: dict) -> str:
    import numba
    import torch

    import minicnn
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"machine: {cpu}, {os.cpu_count()} cores; device {device}; threads {threads} "
            f"(torch.get_num_threads()={torch.get_num_threads()}, "
            f"numba={numba.get_num_threads()}); minicnn kernels: "
            f"{minicnn.backend.kernels_of(np.zeros(1)).__name__}; "
            f"Python {platform.python_version()}, "
            f"NumPy {np.__version__}, Numba {numba.__version__}, torch {torch.__version__}; "
            f"malloc environment: {malloc or 'default'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--processes", type=int, default=3,
                        help="fresh processes per engine and batch")
    parser.add_argument("--malloc-tuned", action="store_true",
                        help="raise glibc's mmap and trim thresholds for both engines")
    parser.add_argument("--skip-layers", action="store_true", help="skip the per-layer table")
    args = parser.parse_args(argv)
    os.environ["MINICNN_NUM_THREADS"] = str(args.threads)
    import torch

    import minicnn
    torch.set_num_threads(args.threads)
    minicnn.backend.set_num_threads(args.threads)

    print(f"date: {time.strftime('%Y-%m-%d')}; command: python benchmarks/speed.py "
          + " ".join(argv if argv is not None else sys.argv[1:]))
    malloc = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
    if args.malloc_tuned:
        malloc.update(MALLOC_MMAP_THRESHOLD_=str(1 << 30), MALLOC_TRIM_THRESHOLD_=str(1 << 30))
    print(environment(args.threads, args.device, malloc))
    peak = matmul_peak(args.threads) if args.device == "cpu" else float("nan")
    print(f"matmul peak (NumPy BLAS, 2048^3 float32, {args.threads} threads): {peak:.0f} GFLOP/s\n")

    print("| batch | train step minicnn (ms) | torch (ms) | ratio | minicnn GFLOP/s "
          "| eval forward minicnn (ms) | torch (ms) | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for batch in args.batches:
        runs = {"minicnn": [], "torch": []}
        for _ in range(args.processes):
            for name in runs:
                runs[name].append(step_times(name, batch, args, malloc))
        (train_ours, eval_ours), (train_theirs, eval_theirs) = (
            tuple(statistics.median(r[i] for r in runs[name]) for i in range(2))
            for name in ("minicnn", "torch"))
        flops = step_flops(batch)[0]
        print(f"| {batch} | {train_ours:.1f} | {train_theirs:.1f} | "
              f"{train_ours / train_theirs:.2f} | {flops / train_ours / 1e6:.0f} | "
              f"{eval_ours:.1f} | {eval_theirs:.1f} | {eval_ours / eval_theirs:.2f} |")
        spread = {name: [round(r[0]) for r in runs[name]] for name in runs}
        print(f"|  | per process: {spread['minicnn']} | {spread['torch']} |  |  |  |  |  |")

    if not args.skip_layers:
        print("\n| layer, batch 32, forward + backward (one process) "
              "| minicnn (ms) | torch (ms) | ratio |")
        print("| --- | --- | --- | --- |")
        for name, ours, theirs in layer_rows(args.threads, args.device, args.repeats):
            print(f"| {name} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} |")

    if args.device == "cpu":
        ours = child("minicnn", 32, args.threads, malloc)
        theirs = child("torch", 32, args.threads, malloc)
        print(f"\npeak memory of training steps at batch 32 (resident-size peak over 3 steps "
              f"above the size after a first step, caches emptied; each engine alone in a fresh "
              f"process): minicnn {ours['step_peak_mb']:.0f} MB, "
              f"torch {theirs['step_peak_mb']:.0f} MB")
        with tempfile.TemporaryDirectory() as cache:
            cold = child("minicnn", 32, args.threads, {**malloc, "NUMBA_CACHE_DIR": cache})
            warm = child("minicnn", 32, args.threads, {**malloc, "NUMBA_CACHE_DIR": cache})
        print(f"minicnn first training step from script start: "
              f"empty Numba cache {cold['first_step_s']:.1f} s, "
              f"warm cache {warm['first_step_s']:.1f} s (torch: {theirs['first_step_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
