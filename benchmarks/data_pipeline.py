"""Time the knee data pipeline end to end: write the phantom, cut the crops cold, then
again from the cache, each as the user runs it (the ``minicnn-knee`` command in a fresh
process, so start-up is included).

    python benchmarks/data_pipeline.py [--patients 205]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=205)
    args = parser.parse_args(argv)
    knee = [sys.executable, "-m", "experiments.cli"]
    folder = tempfile.mkdtemp(prefix="minicnn-pipeline-")
    try:
        scans, crops = os.path.join(folder, "scans"), os.path.join(folder, "crops.npz")
        phantom = timed(knee + ["phantom", "--out", scans, "--patients", str(args.patients),
                                "--quiet"])
        cold = timed(knee + ["crops", scans, "--out", crops, "--quiet"])
        cached = timed(knee + ["crops", scans, "--out", crops, "--quiet"])
    finally:
        shutil.rmtree(folder)
    print(f"{args.patients} patients: phantom {phantom:.1f} s, crops cold {cold:.1f} s, "
          f"crops from the cache {cached:.2f} s (wall clock, process start included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
