"""Wall time of the demo study through the Dask executor with 1 and with 2 local workers,
and the executor's overhead per task.

    python benchmarks/dask_study.py [--config experiments/configs/demo.toml]

Each measurement starts from an empty output folder (the crops come from the phantom cache,
built first and not timed). Overhead per task: the wall time of a study whose runs train
for a single tiny batch, divided by its runs, minus the same runs done in-process.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None) -> int:
    from experiments.cli import default_data
    from experiments.crops import archive
    from experiments.study.dask_executor import run_study_dask
    from experiments.study.grid import load_study
    from experiments.study.local_executor import run_study

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="experiments/configs/demo.toml")
    args = parser.parse_args(argv)
    study = load_study(args.config)
    folder = tempfile.mkdtemp(prefix="minicnn-dask-bench-")
    try:
        crops = os.path.join(folder, "crops.npz")
        archive.load_or_build(default_data(False), crops, archive.BuildOptions(exclude=()),
                              progress=False)
        runs = len(study.conditions()) * len(study.splits())
        for workers in (1, 2):
            out = os.path.join(folder, f"out{workers}")
            start = time.perf_counter()
            run_study_dask(study, crops, out, workers=workers,
                           threads=max(1, (os.cpu_count() or 1) // workers), progress=False)
            print(f"demo study, {runs} runs, Dask with {workers} local worker(s): "
                  f"{time.perf_counter() - start:.1f} s")
        train = {**study.base.get("train", {}), "epochs": 1, "batch_size": 4096}
        tiny = dataclasses.replace(study, base={**study.base, "train": train})
        start = time.perf_counter()
        run_study(tiny, crops, os.path.join(folder, "tiny-local"), workers=1, progress=False)
        local = time.perf_counter() - start
        start = time.perf_counter()
        run_study_dask(tiny, crops, os.path.join(folder, "tiny-dask"), workers=1,
                       threads=os.cpu_count() or 1, progress=False)
        remote = time.perf_counter() - start
        print(f"one-epoch runs: in-process {local:.1f} s, Dask (1 worker) {remote:.1f} s "
              f"for {runs} runs: overhead {(remote - local) / runs:.2f} s per task "
              f"(cluster start and the worker's first kernel compilation included)")
    finally:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
