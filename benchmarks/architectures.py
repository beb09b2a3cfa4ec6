"""minicnn against PyTorch on the networks people benchmark at CIFAR size, and the study's grid.

    python benchmarks/architectures.py [--networks NAME ...] [--batch 2 32 128]
        [--allocator default|tuned|both] [--repeats 10] [--threads 2] [--device cpu|cuda]
        [--skip-memory] [--markdown]

The networks are ``benchmarks/networks.py``'s (VGG11, ResNet18, pre-activation ResNet18,
MobileNetV2, DenseNet-BC, and the study's SimpleCNN with its grid's cheapest and costliest
configurations), float32, SGD. Every row (network, batch, allocator) prints one line as it
finishes; ``--markdown`` then prints the table of ``benchmarks/RESULTS.md``.

Training step (forward, cross-entropy, backward, SGD step): both engines in one fresh
process per row, with the allocator's environment and ``--threads`` threads for both. Torch
draws the weights (seed 0) and minicnn loads them (``state_dict`` as NumPy arrays), so both
time the same computation: the first step's losses, same weights and same batch, are printed
as a sanity check (they must agree to float32 rounding, 1e-4 relative). After two warm-up
steps each, the engines alternate step by step, ``--repeats`` steps each (half that above
batch 32, at least 3); the row gives each engine's median and the ratio minicnn/torch.

Allocators: glibc's malloc reads ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_``
once, at process start, so every row runs in a re-executed subprocess: ``default`` with
both variables removed from the environment, ``tuned`` with both at 1 GiB (large blocks
stay in the heap instead of being mapped and unmapped, sparing page faults).

Peak memory (CPU only): each engine alone in its own fresh process with the row's
environment, one warm-up step, gradients set to None, minicnn's buffer pool emptied,
``malloc_trim``; then the resident size (``VmRSS``) is the baseline, the kernel's peak
(``VmHWM``) is reset through ``/proc/self/clear_refs``, three training steps run, and the
peak is ``VmHWM`` minus the baseline: activations, gradients and workspace, not the
parameters, the batch or the loaded libraries. The same for both engines (resident pages,
whoever allocated them: NumPy, Numba, BLAS or torch's allocator).

GFLOP per step: the multiply-adds of every Conv2d (``N * F * OH * OW * C/groups * kh *
kw``) and Linear (``N * out * in``), counted from the shapes a forward sees, times 2
(FLOP), times 3 for forward, input gradient and weight gradient, except a layer whose input
is the network's input (no input gradient: times 2). Batch norm, activations, pooling and
the optimizer are not counted.

``--device cuda``: torch on CUDA (TF32 off, so both engines compute in float32) against
minicnn on CuPy, skipped with a message when either is missing; peak memory is not measured
there.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from benchmarks.networks import NETWORKS  # noqa: E402 - needs ROOT on the path

ALLOCATORS = {"default": {}, "tuned": {"MALLOC_MMAP_THRESHOLD_": str(1 << 30),
                                       "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}}
LOSS_RTOL = 1e-4
MEMORY_STEPS = 3


# ---- one engine ---------------------------------------------------------------------------

def synchronizer(lib, device: str):
    """A function that waits for ``lib``'s queued device work (nothing on the CPU)."""
    if device != "cuda":
        return lambda: None
    if lib.__name__ == "torch":
        return lib.cuda.synchronize
    import cupy
    return cupy.cuda.Device().synchronize


def batch_arrays(network, batch: int):
    """Standard-normal float32 images and uniform labels, the same for every engine."""
    rng = np.random.default_rng(0)
    images = rng.standard_normal((batch, *network.input_shape)).astype(np.float32)
    return images, rng.integers(0, network.classes, size=batch)


class Engine:
    """One engine's model, batch, optimizer and training step."""

    def __init__(self, lib, model, images, labels, device: str):
        self.model = model.to(device)
        self.model.train()
        self.x = lib.from_numpy(images).to(device)
        self.y = lib.from_numpy(labels).to(device)
        self.optimizer = lib.optim.SGD(self.model.parameters(), lr=1e-3)
        self.loss = lib.nn.CrossEntropyLoss()
        self.sync = synchronizer(lib, device)

    def step(self):
        """Forward, loss, backward, SGD step; returns the loss tensor."""
        self.optimizer.zero_grad()
        loss = self.loss(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        self.sync()
        return loss


def step_flops(lib, model, input_shape) -> float:
    """FLOP of one training step for one sample (see the module docstring), from a forward
    of one zero sample in eval mode without gradients."""
    nn, macs = lib.nn, []
    x = lib.zeros((1, *input_shape))

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            per_output = module.in_channels // module.groups * kh * kw
        else:
            per_output = module.in_features
        passes = 2 if inputs[0] is x else 3
        macs.append(output.numel() * per_output * passes)

    handles = [m.register_forward_hook(count) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with lib.no_grad():
        model(x)
    model.train(was_training)
    for handle in handles:
        handle.remove()
    return 2.0 * sum(macs)


# ---- workers (each in a fresh process) ----------------------------------------------------

def set_threads(lib, threads: int) -> None:
    """``threads`` threads for ``lib``'s kernels (torch's intra-op pool, minicnn's Numba)."""
    if lib.__name__ == "torch":
        lib.set_num_threads(threads)
    else:
        lib.backend.set_num_threads(threads)


def time_worker(name: str, batch: int, repeats: int, threads: int, device: str) -> dict:
    """Both engines on one row: the first step's losses, median step times, GFLOP per step."""
    import torch

    import minicnn
    set_threads(minicnn, threads)
    set_threads(torch, threads)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    network = NETWORKS[name]
    torch.manual_seed(0)
    theirs = network.build(torch)
    ours = network.build(minicnn)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    flops = step_flops(torch, theirs, network.input_shape) * batch
    images, labels = batch_arrays(network, batch)
    engines = {"minicnn": Engine(minicnn, ours, images, labels, device),
               "torch": Engine(torch, theirs, images, labels, device)}
    losses = {key: float(engine.step().item()) for key, engine in engines.items()}
    for engine in engines.values():
        engine.step()
    times = {key: [] for key in engines}
    for _ in range(repeats):
        for key, engine in engines.items():
            start = time.perf_counter()
            engine.step()
            times[key].append(time.perf_counter() - start)
    return {"loss": losses, "gflop": flops / 1e9,
            "ms": {key: 1000 * statistics.median(t) for key, t in times.items()}}


def proc_status(field: str) -> int:
    """A ``/proc/self/status`` size field in bytes."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))


def memory_worker(engine_name: str, name: str, batch: int, threads: int) -> dict:
    """Peak resident memory of ``MEMORY_STEPS`` training steps above the settled baseline."""
    if engine_name == "torch":
        import torch as lib
    else:
        import minicnn as lib
    set_threads(lib, threads)
    network = NETWORKS[name]
    engine = Engine(lib, network.build(lib), *batch_arrays(network, batch), "cpu")
    engine.step()
    engine.optimizer.zero_grad()
    gc.collect()
    if engine_name == "minicnn":
        from minicnn.kernels.memory import POOL
        POOL.release()
        gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    before = proc_status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM, the peak resident size, to the current size
    for _ in range(MEMORY_STEPS):
        engine.step()
    return {"peak_mib": (proc_status("VmHWM") - before) / 2 ** 20}


# ---- the driver ---------------------------------------------------------------------------

def environment_of(allocator: str, threads: int) -> dict:
    """This process's environment with the allocator's glibc variables (and no others)."""
    env = {k: v for k, v in os.environ.items() if k not in ALLOCATORS["tuned"]}
    env.update(ALLOCATORS[allocator], MINICNN_NUM_THREADS=str(threads))
    return env


def run_worker(args, allocator: str, *worker_args: str) -> dict:
    """This script re-executed as a worker; its last stdout line is its JSON result."""
    command = [sys.executable, os.path.abspath(__file__), "--threads", str(args.threads),
               "--device", args.device, *worker_args]
    out = subprocess.run(command, capture_output=True, text=True,
                         env=environment_of(allocator, args.threads))
    if out.returncode != 0:
        tail = "\n".join(out.stderr.strip().splitlines()[-4:])
        raise RuntimeError(f"worker {' '.join(worker_args)} failed:\n{tail}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_row(args, name: str, batch: int, allocator: str) -> dict:
    repeats = max(3, args.repeats if batch <= 32 else args.repeats // 2)
    row = {"network": name, "batch": batch, "allocator": allocator}
    row.update(run_worker(args, allocator, "--worker", "time", "--networks", name,
                          "--batch", str(batch), "--repeats", str(repeats)))
    if args.device == "cpu" and not args.skip_memory:
        row["peak_mib"] = {engine: run_worker(args, allocator, "--worker", "memory-" + engine,
                                              "--networks", name, "--batch", str(batch))
                           ["peak_mib"] for engine in ("minicnn", "torch")}
    return row


def losses_agree(row: dict) -> bool:
    ours, theirs = row["loss"]["minicnn"], row["loss"]["torch"]
    return abs(ours - theirs) <= LOSS_RTOL * max(1.0, abs(theirs))


def row_line(row: dict) -> str:
    head = f"{row['network']} batch {row['batch']} {row['allocator']}: "
    if "error" in row:
        return head + "FAILED: " + row["error"].replace("\n", " | ")
    ms, loss = row["ms"], row["loss"]
    peak = row.get("peak_mib")
    memory = (f"; peak minicnn {peak['minicnn']:.0f} MiB, torch {peak['torch']:.0f} MiB"
              if peak else "")
    return (f"{head}minicnn {ms['minicnn']:.1f} ms, torch {ms['torch']:.1f} ms "
            f"({ms['minicnn'] / ms['torch']:.2f}x), {row['gflop']:.3g} GFLOP{memory}; "
            f"first-step loss minicnn {loss['minicnn']:.6f}, torch {loss['torch']:.6f} "
            f"({'agree' if losses_agree(row) else 'DISAGREE'})")


def markdown(rows: list[dict]) -> str:
    lines = ["| network | batch | allocator | minicnn ms | torch ms | ratio | minicnn peak MiB "
             "| torch peak MiB | GFLOP per step |", "| --- " * 9 + "|"]
    for row in rows:
        cells = [row["network"], str(row["batch"]), row["allocator"]]
        if "error" in row:
            cells += ["failed"] + [""] * 5
        else:
            ms, peak = row["ms"], row.get("peak_mib")
            cells += [f"{ms['minicnn']:.1f}", f"{ms['torch']:.1f}",
                      f"{ms['minicnn'] / ms['torch']:.2f}",
                      f"{peak['minicnn']:.0f}" if peak else "-",
                      f"{peak['torch']:.0f}" if peak else "-", f"{row['gflop']:.3g}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cuda_missing() -> str | None:
    """Why the CUDA comparison cannot run here, or None."""
    import torch
    if not torch.cuda.is_available():
        return "torch sees no CUDA device"
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # noqa: BLE001 - any CuPy failure means no minicnn GPU
        return f"CuPy is not usable ({type(error).__name__}: {error})"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS))
    parser.add_argument("--batch", type=int, nargs="+", default=[2, 32, 128])
    parser.add_argument("--allocator", choices=("default", "tuned", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=10,
                        help="timed steps per engine (half above batch 32, at least 3)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--skip-memory", action="store_true", help="no peak-memory processes")
    parser.add_argument("--markdown", action="store_true", help="print the RESULTS.md table")
    parser.add_argument("--worker", choices=("time", "memory-minicnn", "memory-torch"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        name, batch = args.networks[0], args.batch[0]
        if args.worker == "time":
            result = time_worker(name, batch, args.repeats, args.threads, args.device)
        else:
            result = memory_worker(args.worker.split("-")[1], name, batch, args.threads)
        print(json.dumps(result))
        return 0

    if args.device == "cuda" and (reason := cuda_missing()):
        print(f"--device cuda skipped: {reason}")
        return 0
    from benchmarks.speed import environment, matmul_peak
    allocators = ["default", "tuned"] if args.allocator == "both" else [args.allocator]
    print(f"date: {time.strftime('%Y-%m-%d')}; command: python benchmarks/architectures.py "
          + " ".join(argv if argv is not None else sys.argv[1:]))
    tuned = " ".join(f"{k}={v}" for k, v in ALLOCATORS["tuned"].items())
    print(environment(args.threads, args.device,
                      f"per row: default (both unset) or tuned ({tuned})"))
    if args.device == "cpu":
        print(f"matmul peak (NumPy BLAS, 2048^3 float32, {args.threads} threads): "
              f"{matmul_peak(args.threads):.0f} GFLOP/s")
    plan = [(name, batch, allocator) for name in args.networks for batch in args.batch
            for allocator in allocators]
    rows = []
    for index, (name, batch, allocator) in enumerate(plan, 1):
        try:
            row = measure_row(args, name, batch, allocator)
        except RuntimeError as error:
            row = {"network": name, "batch": batch, "allocator": allocator, "error": str(error)}
        rows.append(row)
        print(f"[{index}/{len(plan)}] {row_line(row)}", flush=True)
    if args.markdown:
        print()
        print(markdown(rows))
    return 0 if all("error" not in row and losses_agree(row) for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
