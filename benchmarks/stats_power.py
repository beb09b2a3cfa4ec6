"""Calibration and power of the study's comparison test on simulated fold results.

Simulates ``--studies`` studies of ``--folds`` x ``--seeds`` cross-validation on
``--patients`` patients with the generative model of ``experiments.study.fold_simulation`` (no
network is trained), runs the corrected resampled t-test (``experiments.study.stats``) on each,
and prints the rejection rate at ``--alpha`` when the conditions do not differ, the power
when they differ by ``--delta`` QWK, the same two rates for a plain paired t-test on the
same differences, and the minimum detectable difference the report would print for the
mean observed spread.

    python benchmarks/stats_power.py [--studies 4000] [--folds 5] [--seeds 3] [--delta 0.1]
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np


def main(argv=None) -> int:
    from experiments.study.fold_simulation import simulate_differences
    from experiments.study.stats import corrected_t_test, minimum_detectable_difference

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=4000)
    parser.add_argument("--patients", type=int, default=205)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--delta", type=float, default=0.1, help="true difference in QWK")
    parser.add_argument("--test-sd", type=float, default=0.05, help="SD of a split's test part")
    parser.add_argument("--train-sd", type=float, default=0.03,
                        help="SD of a split's training part")
    parser.add_argument("--run-sd", type=float, default=0.05, help="SD of a run's own noise")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("python benchmarks/stats_power.py " + " ".join(sys.argv[1:] if argv is None else argv))
    print(f"settings: {vars(args)}")
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    ratio = 1 / (args.folds - 1)
    shape = dict(patients=args.patients, folds=args.folds, seeds=args.seeds, test_sd=args.test_sd,
                 train_sd=args.train_sd, run_sd=args.run_sd, rng=rng)
    rates, spreads = {}, []
    for delta in (0.0, args.delta):
        d = simulate_differences(args.studies, delta=delta, **shape)
        spreads.append(d.std(axis=1, ddof=1).mean())
        for name, factor in (("corrected", ratio), ("plain", 0.0)):
            rates[name, delta] = float(np.mean([corrected_t_test(x, factor)["p"] < args.alpha
                                                for x in d]))
    runs = args.folds * args.seeds
    for name, label in (("corrected", "corrected resampled t-test"),
                        ("plain", "plain paired t-test")):
        null = rates[name, 0.0]
        half = 1.96 * math.sqrt(null * (1 - null) / args.studies)
        print(f"{label:<27} rejection rate, no true difference: {null:.4f} "
              f"(95% CI {null - half:.4f} to {null + half:.4f}); power at delta {args.delta}: "
              f"{rates[name, args.delta]:.4f}")
    sd = float(np.mean(spreads))
    mdd = minimum_detectable_difference(sd, runs, ratio, args.alpha)
    print(f"mean SD of a study's {runs} fold differences: {sd:.4f}; minimum detectable difference "
          f"at 80% power for that SD: {mdd:.4f}")
    print(f"{args.studies} studies per setting, {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
