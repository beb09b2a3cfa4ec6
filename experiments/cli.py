"""``minicnn-knee``: the knee study's command line.

    minicnn-knee phantom --out DIR --patients N --seed S   write synthetic scans
    minicnn-knee crops DIR --out FILE.npz                 scans -> cached knee crops
    minicnn-knee preview DIR --out FILE.png               check the knee windows by eye
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from . import dataset
from .knee import VIEWS
from .phantom import write_phantom


def _phantom(args) -> int:
    start = time.perf_counter()
    paths = write_phantom(args.out, args.patients, args.seed, progress=not args.quiet, version=args.format)
    print(f"wrote {len(paths)} phantom scans to {args.out} in {time.perf_counter() - start:.1f} s")
    return 0


def _crops(args) -> int:
    options = dataset.BuildOptions(
        view=args.view, mirror=not args.no_mirror,
        exclude=tuple(args.exclude) if args.exclude is not None else dataset.PROPOSAL_EXCLUDED,
        overrides=dataset.read_overrides(args.overrides) if args.overrides else ())
    start = time.perf_counter()
    data, cached = dataset.load_or_build(args.folder, args.out, options, progress=not args.quiet)
    skipped_path = os.path.splitext(args.out)[0] + ".skipped.tsv"
    dataset.write_skipped(data.summary, skipped_path)
    print(data.summary.text())
    print(f"{'read from the cache' if cached else 'built'} {args.out} in {time.perf_counter() - start:.1f} s; "
          f"skipped files with reasons: {skipped_path}")
    return 0


def _preview(args) -> int:
    from .preview import write_preview
    shown = write_preview(args.folder, args.out, args.count)
    print(f"wrote {args.out} ({len(shown)} scans: {', '.join(shown)})")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="minicnn-knee", description="The knee bone-scan study on minicnn.")
    commands = top.add_subparsers(dest="command", required=True)

    p = commands.add_parser("phantom", help="write a synthetic data set of .mat scans")
    p.add_argument("--out", required=True, help="folder for the .mat files")
    p.add_argument("--patients", type=int, default=205)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=("v5", "v7.3"), default="v5", help="MATLAB file layout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_phantom)

    p = commands.add_parser("crops", help="cut the knee crops of a folder of scans into one .npz")
    p.add_argument("folder")
    p.add_argument("--out", required=True, help="the .npz archive (also the cache)")
    p.add_argument("--view", choices=VIEWS, default="anterior")
    p.add_argument("--no-mirror", action="store_true", help="do not mirror the second knee")
    p.add_argument("--exclude", nargs="*", default=None,
                   help="file names to leave out (default: the proposal's four)")
    p.add_argument("--overrides", help="CSV of file,row: manual knee rows that win over the locator")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_crops)

    p = commands.add_parser("preview", help="PNG montage of scans with the knee windows and crops")
    p.add_argument("folder")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=8)
    p.set_defaults(run=_preview)
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError) as err:
        print(f"minicnn-knee {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
