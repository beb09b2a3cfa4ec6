"""A folder of scans -> one cached ``.npz`` of knee crops, labels and patients.

Every ``*.mat`` file in the folder is read (``bonescan.read_scan``), its knee window found
(``knee.locate_knees``, unless the manual override table names the file) and its two
crops cut (``knee.cut_crops``). Unspecified knees (code -1) give no crop. A bad file is
skipped with its reason and the rest go on; the :class:`Summary` counts everything.

The archive holds ``images`` float32 ``(K, C, 128, 128)``, ``labels`` int64 ``(K,)`` in 0..4,
``patients`` (pseudonyms, never the real IDs: see :mod:`.pseudonyms`), ``files`` (str; file
pseudonyms with ``hide_file_names``), ``pseudonym_key`` (the key's fingerprint), ``sides``
(0: columns 0-127, 1: columns 128-255), ``rows`` (the window's first row), ``scales`` (K, C:
the counts that 1.0 stands for in each channel, so training can thin the counts), and a
``cache_key``: a hash of every file's bytes and of the build options, so a second build with
nothing changed just loads the archive, and a changed file is noticed. An archive without
``pseudonym_key`` was made before pseudonyms and holds raw patient IDs: it is rebuilt, never
reused; one made under another key is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field

import numpy as np

from ..atomic import atomic_path
from ..grades import COUNT, UNSPECIFIED
from ..scans.bonescan import ScanError, read_scan
from ..scans.pseudonyms import Pseudonyms
from .knee import VIEWS, crop_scales, cut_crops, locate_knees, window_at

PROPOSAL_EXCLUDED = ("0000001.mat", "0000058.mat", "0000615.mat", "0000823.mat")
CACHE_VERSION = 3


@dataclass(frozen=True)
class BuildOptions:
    """How crops are made. ``overrides`` maps a file name to its knee row (manual table);
    ``hide_file_names`` writes file pseudonyms instead of file names everywhere."""

    view: str = "anterior"
    mirror: bool = True
    exclude: tuple[str, ...] = PROPOSAL_EXCLUDED
    overrides: tuple[tuple[str, int], ...] = ()
    hide_file_names: bool = False

    def __post_init__(self):
        if self.view not in VIEWS:
            raise ValueError(f"BuildOptions: view must be one of {VIEWS}, got {self.view!r}")


@dataclass
class Summary:
    """What the build did with every file."""

    loaded: int = 0
    excluded: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (file, kind, reason)
    unspecified_knees: int = 0
    low_confidence: list[tuple[str, float]] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    knees_per_grade: list[int] = field(default_factory=lambda: [0] * COUNT)
    dropped_info: dict[str, int] = field(default_factory=dict)  # info field name -> scans

    def skipped_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, kind, _ in self.skipped:
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))

    def text(self) -> str:
        lines = [f"loaded {self.loaded} scans, {sum(self.knees_per_grade)} knee crops "
                 f"(per grade 0..4: {self.knees_per_grade})",
                 f"skipped {len(self.skipped)} files"
                 + (f": {self.skipped_by_kind()}" if self.skipped else ""),
                 f"unspecified knees (code -1, no crop): {self.unspecified_knees}"]
        if self.excluded:
            lines.append(f"excluded by the configured list: {len(self.excluded)} "
                         f"({', '.join(self.excluded)})")
        if self.manual:
            lines.append(f"knee rows from the manual table: {len(self.manual)}")
        dropped = sum(self.dropped_info.values())
        fields = ", ".join(f"{k} x{n}" for k, n in sorted(self.dropped_info.items()))
        lines.append(f"patient IDs replaced by pseudonyms; identifying info fields dropped: "
                     f"{dropped}" + (f" ({fields})" if dropped else ""))
        if self.low_confidence:
            lines.append("low-confidence knee windows (check them): "
                         + ", ".join(f"{f} ({c:.2f})" for f, c in self.low_confidence))
        return "\n".join(lines)


@dataclass
class KneeDataset:
    images: np.ndarray
    labels: np.ndarray
    patients: np.ndarray
    files: np.ndarray
    sides: np.ndarray
    rows: np.ndarray
    summary: Summary
    cache_key: str = ""
    scales: np.ndarray | None = None  # (K, C): counts per unit of each crop channel
    key_fingerprint: str | None = None  # the pseudonym key's; None: an archive of raw IDs


def scan_files(folder: str) -> list[str]:
    """The ``.mat`` files directly in ``folder``, sorted by name."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"scan folder {folder!r} does not exist")
    return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                  if n.lower().endswith(".mat") and os.path.isfile(os.path.join(folder, n)))


def cache_key(paths: list[str], options: BuildOptions) -> str:
    """Hash of the files' names and bytes and of the options."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(json.dumps([CACHE_VERSION, asdict(options)], sort_keys=True).encode())
    for path in paths:
        digest.update(os.path.basename(path).encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _crops_of(path: str, options: BuildOptions, pseudonyms: Pseudonyms, summary: Summary,
              out: dict) -> None:
    name = os.path.basename(path)
    shown = pseudonyms.file(name) if options.hide_file_names else name
    if name in options.exclude:
        summary.excluded.append(shown)
        return
    try:
        record = read_scan(path, pseudonyms, options.hide_file_names)
    except ScanError as err:
        summary.skipped.append((shown, err.kind, err.reason))
        return
    shown = record.file  # the name's pseudonym when the name is the patient ID
    for key in record.dropped:
        summary.dropped_info[key] = summary.dropped_info.get(key, 0) + 1
    overrides = dict(options.overrides)
    if name in overrides:
        start = window_at(overrides[name], record.counts.shape[1])
        summary.manual.append(shown)
    else:
        window = locate_knees(record.counts[0])
        start = window.start
        if window.low_confidence:
            summary.low_confidence.append((shown, window.confidence))
    try:
        crops = cut_crops(record.counts, start, options.view, options.mirror)
        scales = crop_scales(record.counts, options.view)
    except ValueError as err:  # e.g. 'both' views asked of a one-view scan
        summary.skipped.append((shown, "bad shape", str(err)))
        return
    summary.loaded += 1
    for side, label in enumerate(record.labels):
        if label == UNSPECIFIED:
            summary.unspecified_knees += 1
            continue
        summary.knees_per_grade[label] += 1
        for key, value in (("images", crops[side]), ("labels", label),
                           ("patients", record.patient_id),
                           ("files", shown), ("sides", side), ("rows", start), ("scales", scales)):
            out[key].append(value)


def build_dataset(folder: str, options: BuildOptions = BuildOptions(), progress: bool = True,
                  key: str | None = None, pseudonyms: Pseudonyms | None = None) -> KneeDataset:
    """Read every scan in ``folder`` and cut the crops (no cache; see :func:`load_or_build`).
    ``pseudonyms`` defaults to the project's key (``Pseudonyms.open()``); the new pseudonyms
    are added to its lookup table."""
    from tqdm import tqdm

    pseudonyms = pseudonyms or Pseudonyms.open()
    paths = scan_files(folder)
    summary = Summary()
    out: dict[str, list] = {k: [] for k in ("images", "labels", "patients", "files", "sides",
                                            "rows", "scales")}
    for path in tqdm(paths, desc="crops", unit="scan", disable=not progress):
        _crops_of(path, options, pseudonyms, summary, out)
    pseudonyms.save_lookup()
    channels = 2 if options.view == "both" else 1
    images = (np.stack(out["images"]).astype(np.float32) if out["images"]
              else np.zeros((0, channels, 128, 128), np.float32))
    return KneeDataset(images=images, labels=np.array(out["labels"], dtype=np.int64),
                       patients=np.array(out["patients"], dtype=str),
                       files=np.array(out["files"], dtype=str),
                       sides=np.array(out["sides"], dtype=np.int64),
                       rows=np.array(out["rows"], dtype=np.int64),
                       summary=summary, cache_key=key or cache_key(paths, options),
                       scales=np.array(out["scales"], dtype=np.float32).reshape(len(images),
                                                                                 channels),
                       key_fingerprint=pseudonyms.fingerprint)


def save_dataset(data: KneeDataset, path: str) -> None:
    """Write the archive atomically (a temporary file renamed into place)."""
    optional = {} if data.scales is None else {"scales": data.scales}
    if data.key_fingerprint is not None:
        optional["pseudonym_key"] = np.array(data.key_fingerprint)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, images=data.images, labels=data.labels, patients=data.patients,
                 files=data.files,
                 sides=data.sides, rows=data.rows, cache_key=np.array(data.cache_key),
                 summary=np.array(json.dumps(asdict(data.summary))), **optional)


def load_dataset(path: str) -> KneeDataset:
    """Read an archive written by :func:`save_dataset` (never with pickle)."""
    with np.load(path, allow_pickle=False) as archive:
        fields = {k: archive[k] for k in ("images", "labels", "patients", "files", "sides", "rows")}
        fields["scales"] = archive["scales"] if "scales" in archive.files else None
        fingerprint = archive["pseudonym_key"] if "pseudonym_key" in archive.files else None
        fields["key_fingerprint"] = None if fingerprint is None else str(fingerprint)
        summary = json.loads(str(archive["summary"]))
        key = str(archive["cache_key"])
    summary["skipped"] = [tuple(s) for s in summary["skipped"]]
    summary["low_confidence"] = [tuple(s) for s in summary["low_confidence"]]
    return KneeDataset(**fields, summary=Summary(**summary), cache_key=key)


def write_skipped(summary: Summary, path: str) -> None:
    """One line per skipped file: ``file<TAB>kind<TAB>reason``."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("file\tkind\treason\n")
        for name, kind, reason in summary.skipped:
            f.write(f"{name}\t{kind}\t{reason}\n")


def load_or_build(folder: str, out: str, options: BuildOptions = BuildOptions(),
                  progress: bool = True,
                  pseudonyms: Pseudonyms | None = None) -> tuple[KneeDataset, bool]:
    """The crops of ``folder``, from ``out`` when its cache key still matches, else built and
    saved there. Returns the data set and whether the cache served it; FileNotFoundError
    when ``folder`` holds no ``.mat`` file.

    An archive at ``out`` made under another pseudonym key raises ValueError (its patients
    would not match this key's); one made before pseudonyms (raw patient IDs) is rebuilt."""
    paths = scan_files(folder)
    if not paths:
        raise FileNotFoundError(f"scan folder {folder!r} holds no .mat file: nothing to crop")
    pseudonyms = pseudonyms or Pseudonyms.open()
    key = cache_key(paths, options)
    if os.path.exists(out):
        try:
            cached = load_dataset(out)
        except (OSError, ValueError, KeyError):
            cached = None  # an unreadable or foreign archive is rebuilt (and replaced) below
        if cached is not None and cached.key_fingerprint is None:
            print(f"{out} was made before patient pseudonyms and holds raw patient IDs: "
                  f"rebuilding it with pseudonyms")
        elif cached is not None and cached.key_fingerprint != pseudonyms.fingerprint:
            raise ValueError(f"{out} was made under another pseudonym key (fingerprint "
                             f"{cached.key_fingerprint}, this key's {pseudonyms.fingerprint}): its "
                             f"pseudonyms would not match; use the key it was made with "
                             f"(--key-file) or another output")
        elif cached is not None and cached.cache_key == key:
            return cached, True
    data = build_dataset(folder, options, progress, key, pseudonyms)
    save_dataset(data, out)
    return data, False


def read_overrides(path: str) -> tuple[tuple[str, int], ...]:
    """A manual knee-row table: lines ``file,row`` (a header line and '#' comments allowed)."""
    table = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#")[0].strip()
            if not line or line.lower().startswith("file"):
                continue
            try:
                name, row = (part.strip() for part in line.split(","))
                table.append((name, int(row)))
            except ValueError:
                raise ValueError(f"{path}, line {number}: expected 'file,row', "
                                 f"got {line!r}") from None
    return tuple(table)
