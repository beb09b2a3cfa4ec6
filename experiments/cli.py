"""``minicnn-knee``: the knee study's command line.

    minicnn-knee phantom --out DIR --patients N --seed S   write synthetic scans
    minicnn-knee crops DIR --out FILE.npz                 scans -> cached knee crops
    minicnn-knee preview DIR --out FILE.png               check the knee windows by eye
    minicnn-knee train --config FILE [--data DIR] [--out DIR] [--split proposal|fold:K:N]
    minicnn-knee study --config FILE [--data DIR] [--out DIR] [--workers N]
                       [--executor local|dask] [--scheduler tls://HOST:PORT]
                       [--tls-ca-file CA.pem --tls-cert CERT.pem --tls-key KEY.pem]
    minicnn-knee report RESULTS_DIR
    minicnn-knee predict CHECKPOINT SCAN.mat [--out PNG]
    minicnn-knee explain CHECKPOINT SCAN.mat --out DIR
    minicnn-knee lookup PSEUDONYM... | --id PATIENT_ID

Without ``--data`` the commands that train use the phantom data set, generated once into
the cache folder (``MINICNN_CACHE``, default ``~/.cache/minicnn``). The commands that read
scans take ``--key-file`` (the pseudonym key, see ``experiments/scans/pseudonyms.py`` and
``docs/privacy.md``) and ``--hide-file-names``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .crops import archive
from .crops.knee import VIEWS
from .scans.phantom import write_phantom
from .scans.pseudonyms import Pseudonyms, check_outside, check_records
from .splits import split_option


def _phantom(args) -> int:
    start = time.perf_counter()
    paths = write_phantom(args.out, args.patients, args.seed, progress=not args.quiet,
                          version=args.format)
    print(f"wrote {len(paths)} phantom scans to {args.out} in {time.perf_counter() - start:.1f} s")
    return 0


def _pseudonyms(args, folder: str, nested: bool = True) -> Pseudonyms:
    """The project's pseudonyms (``--key-file``), refused when the key lies in ``folder``."""
    pseudonyms = Pseudonyms.open(args.key_file)
    check_outside(pseudonyms.key_file, folder, nested)
    return pseudonyms


def _crops(args) -> int:
    options = archive.BuildOptions(
        view=args.view, mirror=not args.no_mirror,
        exclude=tuple(args.exclude) if args.exclude is not None else archive.PROPOSAL_EXCLUDED,
        overrides=archive.read_overrides(args.overrides) if args.overrides else (),
        hide_file_names=args.hide_file_names)
    pseudonyms = _pseudonyms(args, os.path.dirname(os.path.abspath(args.out)), nested=False)
    start = time.perf_counter()
    data, cached = archive.load_or_build(args.folder, args.out, options, progress=not args.quiet,
                                         pseudonyms=pseudonyms)
    skipped_path = os.path.splitext(args.out)[0] + ".skipped.tsv"
    archive.write_skipped(data.summary, skipped_path)
    print(data.summary.text())
    print(f"{'read from the cache' if cached else 'built'} {args.out} in "
          f"{time.perf_counter() - start:.1f} s; "
          f"skipped files with reasons: {skipped_path}")
    return 0


def _preview(args) -> int:
    from .crops.preview import write_preview
    shown = write_preview(args.folder, args.out, args.count)
    print(f"wrote {args.out} ({len(shown)} scans: {', '.join(shown)})")
    return 0


def cache_folder() -> str:
    default = os.path.join(os.path.expanduser("~"), ".cache", "minicnn")
    return os.environ.get("MINICNN_CACHE", default)


def default_data(progress: bool) -> str:
    """The phantom data set (205 patients, seed 0), written on first use."""
    folder = os.path.join(cache_folder(), "phantom-205-seed0")
    if len(archive.scan_files(folder) if os.path.isdir(folder) else []) < 205:
        print(f"no --data: writing the phantom data set to {folder} (once)")
        write_phantom(folder, 205, 0, progress=progress)
    return folder


def _train(args) -> int:
    from .training.config import load_config
    from .training.run import train_run
    config = load_config(args.config)
    device = resolve_device(args.device)
    os.makedirs(args.out, exist_ok=True)
    data = _crops_for(args, args.out)
    train, test = split_option(args.split, data.labels, data.patients, config.train.seed)
    record = train_run(config, data.images, data.labels, data.patients, train, test, args.out,
                       progress=not args.quiet, device=device, scales=data.scales,
                       key_fingerprint=data.key_fingerprint)
    if record["status"] != "finished":
        print(f"run {record['status']}: {record['message']}")
        return 1
    test_metrics, intervals = record["test"], record["test_intervals"]
    print(f"finished {record['epochs_done']} epochs; best epoch by validation QWK: "
          f"{record['best_epoch']}")
    from .training.metrics import SCALARS
    for name in SCALARS:
        low, high = intervals[name]
        print(f"  test {name:<18} {test_metrics[name]:.3f}  (95% CI {low:.3f} .. {high:.3f})")
    print(f"record: {os.path.join(args.out, 'record.json')}")
    return 0


def resolve_device(choice: str) -> str:
    """'auto' takes the GPU through CuPy when one is there, else the CPU; says which."""
    import minicnn
    if choice == "cuda" and not minicnn.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device with CuPy here; use --device cpu or auto")
    device = choice if choice != "auto" else ("cuda" if minicnn.cuda.is_available() else "cpu")
    print(f"device: {device} ({'CuPy kernels' if device == 'cuda' else 'Numba CPU kernels'})")
    return device


def _crops_for(args, out: str):
    """``OUT/crops.npz``, after checking that the records already in ``out`` were made under
    this pseudonym key (see ``pseudonyms.check_records``)."""
    pseudonyms = _pseudonyms(args, out)
    check_records(out, pseudonyms.fingerprint)
    data_dir = args.data or default_data(not args.quiet)
    options = archive.BuildOptions(exclude=archive.PROPOSAL_EXCLUDED if args.data else (),
                                   hide_file_names=args.hide_file_names)
    data, _ = archive.load_or_build(data_dir, os.path.join(out, "crops.npz"), options,
                                    progress=not args.quiet, pseudonyms=pseudonyms)
    return data


def _study(args) -> int:
    from .study.grid import load_study
    from .study.local_executor import run_study
    from .study.report import write_report
    study = load_study(args.config)
    security = None
    if args.executor == "dask":
        from .study.dask_executor import cluster_security
        security = cluster_security(args.scheduler, args.tls_ca_file, args.tls_cert, args.tls_key)
    device = resolve_device(args.device)
    os.makedirs(args.out, exist_ok=True)
    kept, text = Path(args.out) / "study.toml", Path(args.config).read_text()
    if kept.exists() and kept.read_text() != text:
        raise ValueError(f"{args.out} holds another study ({kept}); use another --out")
    kept.write_text(text)
    data = _crops_for(args, args.out)
    print(data.summary.text())
    crops = os.path.join(args.out, "crops.npz")
    if args.executor == "dask":
        from .study.dask_executor import run_study_dask
        done = run_study_dask(study, crops, args.out, args.scheduler,
                              args.workers or study.workers or 2,
                              device=device, progress=not args.quiet, security=security)
    else:
        done = run_study(study, crops, args.out, args.workers, progress=not args.quiet,
                         device=device)
    for job in done:
        if job["status"] != "finished":
            print(f"run {job['out']} {job['status']}: {job['message']}")
    markdown, page = write_report(study, args.out)
    print(f"{len(done)} runs done now ({len(study.conditions()) * len(study.splits())} in the "
          f"study); "
          f"report: {markdown} and {page}")
    return 0


def _report(args) -> int:
    from .study.grid import load_study
    from .study.report import write_report
    kept = os.path.join(args.results, "study.toml")
    if not os.path.exists(kept):
        raise FileNotFoundError(f"{args.results} has no study.toml: is it a study's output folder?")
    markdown, page = write_report(load_study(kept), args.results)
    print(f"report: {markdown} and {page}")
    return 0


def _scan_pseudonyms(args, folder: str | None, nested: bool):
    """Pseudonyms for predict and explain, which need them only to hide the file name."""
    if not args.hide_file_names:
        return None
    return _pseudonyms(args, folder, nested) if folder else Pseudonyms.open(args.key_file)


def _predict(args) -> int:
    from .grades import NAMES
    from .inspection.predict import predict_scan
    folder = args.out and os.path.dirname(os.path.abspath(args.out))
    pseudonyms = _scan_pseudonyms(args, folder, False)
    result = predict_scan(args.checkpoint, args.scan, args.out, pseudonyms)
    if pseudonyms is not None:
        pseudonyms.save_lookup()
    last_row = result["window_start"] + 127
    print(f"{result['file']}: knee window rows {result['window_start']}-{last_row} "
          f"(confidence {result['confidence']:.2f})")
    for knee in result["knees"]:
        probabilities = ", ".join(f"KL{g} {p:.2f}" for g, p in enumerate(knee["probabilities"]))
        print(f"  knee {knee['side'] + 1} (columns {knee['columns']}): KL{knee['grade']} "
              f"{NAMES[knee['grade']]}  [{probabilities}]")
    if args.out:
        print(f"Grad-CAM overlay: {args.out}")
    return 0


def _explain(args) -> int:
    from .inspection.explain import explain
    pseudonyms = _scan_pseudonyms(args, args.out, True)
    print("wrote " + ", ".join(explain(args.checkpoint, args.scan, args.out, pseudonyms)))
    if pseudonyms is not None:
        pseudonyms.save_lookup()
    return 0


def _lookup(args) -> int:
    """Print the real ID (or file name) of each pseudonym, or the pseudonym of ``--id``."""
    if not args.pseudonyms and args.id is None:
        raise ValueError("give pseudonyms to look up, or --id PATIENT_ID")
    pseudonyms = Pseudonyms.open(args.key_file)
    if args.id is not None:
        print(f"{pseudonyms.patient(args.id)}\t{args.id}")
        return 0
    table, missing = pseudonyms.read_lookup(), 0
    for name in args.pseudonyms:
        if name in table:
            print(f"{name}\t{table[name][1]}\t({table[name][0]})")
        else:
            print(f"{name}: not in {pseudonyms.lookup}", file=sys.stderr)
            missing += 1
    return 1 if missing else 0


def _privacy_options(p, hide: bool = True) -> None:
    p.add_argument("--key-file", help="the pseudonym key (default: $MINICNN_PSEUDONYM_KEY, else "
                                      "~/.config/minicnn/pseudonym.key; made on first use)")
    if hide:
        p.add_argument("--hide-file-names", action="store_true",
                       help="write file pseudonyms instead of the scans' file names")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="minicnn-knee",
                                  description="The knee bone-scan study on minicnn.")
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
    p.add_argument("--overrides",
                   help="CSV of file,row: manual knee rows that win over the locator")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _privacy_options(p)
    p.set_defaults(run=_crops)

    p = commands.add_parser("preview", help="PNG montage of scans with the knee windows and crops")
    p.add_argument("folder")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=8)
    p.set_defaults(run=_preview)

    p = commands.add_parser("train", help="one training run of a configuration")
    p.add_argument("--config", required=True, help="TOML file with [model] and [train]")
    p.add_argument("--data", help="folder of .mat scans (default: the phantom data set)")
    p.add_argument("--out", default="runs/train", help="output folder (checkpoint, record)")
    p.add_argument("--split", default="proposal", help="'proposal' or 'fold:K:N'")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _privacy_options(p)
    p.set_defaults(run=_train)

    p = commands.add_parser("study", help="run a study's grid of runs and write its report")
    p.add_argument("--config", required=True, help="study TOML ([study], [base.*], [[factor]])")
    p.add_argument("--data", help="folder of .mat scans (default: the phantom data set)")
    p.add_argument("--out", default="runs/study", help="output folder (runs, report)")
    p.add_argument("--workers", type=int, help="parallel runs (default: the study file's)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local process pool, or Dask (a LocalCluster, or --scheduler's cluster)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler, tls://HOST:PORT "
                                       "(tcp:// only on a trusted network)")
    p.add_argument("--tls-ca-file",
                   help="CA certificate of the cluster (tls://; default: Dask's config)")
    p.add_argument("--tls-cert", help="this client's TLS certificate")
    p.add_argument("--tls-key", help="this client's TLS private key")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _privacy_options(p)
    p.set_defaults(run=_study)

    p = commands.add_parser("report", help="write the report of a study's output folder")
    p.add_argument("results")
    p.set_defaults(run=_report)

    p = commands.add_parser("predict", help="grade both knees of one scan with a trained run")
    p.add_argument("checkpoint", help="a run's checkpoint.npz")
    p.add_argument("scan", help="a .mat scan")
    p.add_argument("--out", help="PNG with the knee window and Grad-CAM overlays")
    _privacy_options(p)
    p.set_defaults(run=_predict)

    p = commands.add_parser("explain", help="PNGs: feature maps, first-layer filters, Grad-CAM")
    p.add_argument("checkpoint", help="a run's checkpoint.npz")
    p.add_argument("scan", help="a .mat scan")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    _privacy_options(p)
    p.set_defaults(run=_explain)

    p = commands.add_parser("lookup", help="the real patient ID or file name behind pseudonyms")
    p.add_argument("pseudonyms", nargs="*", help="P-... or F-... pseudonyms")
    p.add_argument("--id", help="print the pseudonym of this real patient ID instead")
    _privacy_options(p, hide=False)
    p.set_defaults(run=_lookup)
    return top


def main(argv=None) -> int:
    """Exit codes: 0 done, 1 an unreadable scan (its reason printed), 2 a usage or input error."""
    from .scans.bonescan import ScanError
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except ScanError as err:
        print(f"minicnn-knee {args.command}: {getattr(args, 'scan', '')}: {err.reason}",
              file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as err:
        print(f"minicnn-knee {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
