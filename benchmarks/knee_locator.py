"""How often the knee window lands on the knees: the anatomical locator against the
proposal's heuristic, on phantom scans whose true knee row is known.

    python benchmarks/knee_locator.py [--patients 500] [--seed 0] [--tolerance 8]

A window counts as right when its centre is within ``tolerance`` rows of the true
joint line. Figures are printed for all scans and for the hard ones (an injection-site
hot spot, or a bladder hotter than 6x the bone level).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

from experiments.crops.knee import locate_knees, proposal_window
from experiments.scans.phantom import patient_and_counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=int, default=8)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = []
    for index in tqdm(range(args.patients), desc="scans", unit="scan"):
        patient, counts = patient_and_counts(index, args.seed)
        view = counts[..., 0]
        ours, baseline = locate_knees(view), proposal_window(view)
        hard = patient.injection is not None or patient.bladder > 6
        rows.append((ours.centre - patient.knee_row, baseline.centre - patient.knee_row, hard,
                     ours.low_confidence))
    ours_err, base_err, hard, low = (np.array(c) for c in zip(*rows))
    tol = args.tolerance
    print(f"{args.patients} phantom scans (seed {args.seed}), "
          f"centre within {tol} rows of the truth; {time.perf_counter() - start:.1f} s")
    for name, mask in (("all scans", np.ones_like(hard)), ("injection site or hot bladder", hard)):
        ours_hit = 100 * np.mean(np.abs(ours_err[mask]) <= tol)
        base_hit = 100 * np.mean(np.abs(base_err[mask]) <= tol)
        print(f"  {name:<32} n={mask.sum():4d}  locator {ours_hit:6.2f}%"
              f"  proposal {base_hit:6.2f}%")
    print(f"  locator error (rows): median {np.median(ours_err):+.1f}, "
          f"1st-99th percentile {np.percentile(ours_err, 1):+.0f} .. "
          f"{np.percentile(ours_err, 99):+.0f}; "
          f"low-confidence scans: {int(low.sum())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
