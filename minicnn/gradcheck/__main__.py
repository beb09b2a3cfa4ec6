"""``python -m minicnn.gradcheck``: check every op, layer and loss, print a table, and exit
non-zero on any failure."""
from __future__ import annotations

from . import check_gradients
from .cases import CASES


def main() -> int:
    """Check every registered case, print the table, return the process exit code."""
    header = f"{'op':<18} {'configuration':<44} {'max abs err':>12} {'max rel err':>12}  verdict"
    print(header)
    print("-" * len(header))
    failures = 0
    for case in CASES:
        fn, inputs = case.build()
        report = check_gradients(fn, inputs, fast=case.fast)
        verdict = "ok" if report.failure is None else "FAIL"
        failures += report.failure is not None
        print(f"{case.op:<18} {case.config:<44} {report.max_abs_error:>12.2e} "
              f"{report.max_rel_error:>12.2e}  {verdict}")
        if report.failure:
            print("    " + report.failure)
    print(f"\n{len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
