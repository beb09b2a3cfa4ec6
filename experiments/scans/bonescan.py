"""Read one whole-body bone scan ``.mat`` file into a validated :class:`ScanRecord`.

The study's files (``shared/study.md``) hold ``V``, the scan (1024 x 256 counts, with a
third axis of views: 0 anterior, 1 posterior), ``info`` (a struct of strings), and
``diaginfo.kneejointid``, two codes, one per knee: 2 Normal, 3 minimal, 4 mild, 5 moderate,
6 severe DJD (Kellgren-Lawrence 0..4 = code - 2), -1 unspecified. ``kneejointid[0]`` labels
columns 0-127 of view 0, ``kneejointid[1]`` columns 128-255.

MATLAB v5/v7 files are read with ``scipy.io.loadmat`` once :mod:`.mat5_structure` has
checked their structure, v7.3 (HDF5) files with h5py;
both give the same record. Anything wrong raises :class:`ScanError` with a one-line
reason and a short ``kind`` for the summary; no other exception escapes :func:`read_scan`.

Privacy at the door: the patient ID leaves :func:`read_scan` only as a keyed pseudonym
(:mod:`.pseudonyms`), and of ``info`` only the fields in ``KEPT_INFO`` (format, size, colour
type, radiopharmaceutical, and the phantom's ground truth) are kept; every other field (names,
dates of birth, accession numbers...) is dropped there and only counted.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..grades import CODES, grade_of_code
from .mat5_structure import check_v5_structure

ROWS, COLS = 1024, 256  # the scan's rows (head to feet) and columns; the phantom's too
MAX_TOTAL_COUNTS = 5e7  # per view; real whole-body views hold ~1-3 M counts
MIN_TOTAL_COUNTS = 1e4
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
PATIENT_ID_FIELDS = ("patientid", "patid", "id")
WITHHELD = "(file name withheld: it is the patient ID)"  # shown for such a file read keyless
# info fields kept (names folded: lower case, no '_' or ' '); knee_row and true_grades are the
# phantom's ground truth for measuring the locator
KEPT_INFO = ("format", "datasize", "size", "colortype", "radioisotope", "radiopharmaceutical",
             "kneerow", "truegrades")


class ScanError(Exception):
    """A scan that cannot be used; ``kind`` groups reasons in the summary."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind, self.reason = kind, reason


@dataclass(frozen=True)
class ScanRecord:
    """One validated scan.

    ``counts`` uint16 ``(views, 1024, 256)``; ``labels`` two classes (0..4, or -1 for an
    unspecified knee), the first for columns 0-127; ``patient_id`` the patient's pseudonym
    (None when read without a key); ``file`` the file name, or its pseudonym when asked;
    ``info`` the kept info fields; ``dropped`` the names of the info fields left out, sorted.
    """

    file: str
    patient_id: str | None
    counts: np.ndarray
    labels: tuple[int, int]
    info: dict = field(default_factory=dict)
    mat_version: str = "v5"
    dropped: tuple[str, ...] = ()


# ---- low-level readers: each returns (image, kneejointid, info dict) -----------------

def _read_v5(path: str):
    import io

    import scipy.io
    with open(path, "rb") as f:
        data = f.read()
    check_v5_structure(data)  # scipy's C reader can crash the process on a damaged file
    mat = scipy.io.loadmat(io.BytesIO(data), squeeze_me=False, struct_as_record=True)
    image = mat.get("V", mat.get("Y"))
    diag = mat.get("diaginfo")
    codes = None
    if diag is not None:
        if getattr(diag, "dtype", None) is None or diag.dtype.names is None or \
                "kneejointid" not in diag.dtype.names:
            raise ScanError("no labels", "'diaginfo' has no field 'kneejointid'")
        codes = _numbers(diag["kneejointid"])
    info = {}
    raw_info = mat.get("info")
    if (raw_info is not None and getattr(raw_info, "dtype", None) is not None
            and raw_info.dtype.names):
        info = {name: _plain(raw_info[name]) for name in raw_info.dtype.names}
    return image, codes, info


def _read_v73(path: str):
    import h5py
    with h5py.File(path, "r") as f:
        name = "V" if "V" in f else ("Y" if "Y" in f else None)
        # MATLAB writes column-major: HDF5 holds the array with its axes reversed.
        image = np.asarray(f[name]).transpose() if name else None
        codes = None
        if "diaginfo" in f:
            group = f["diaginfo"]
            if not hasattr(group, "keys") or "kneejointid" not in group:
                raise ScanError("no labels", "'diaginfo' has no field 'kneejointid'")
            codes = np.asarray(group["kneejointid"]).ravel()
        info = {}
        if "info" in f and hasattr(f["info"], "keys"):
            for key, dataset in f["info"].items():
                if isinstance(key, bytes):  # h5py gives a name that is not UTF-8 as bytes
                    key = key.decode("latin-1")
                value = np.asarray(dataset)
                is_char = dataset.attrs.get("MATLAB_class", b"") in (b"char", "char")
                info[key] = ("".join(map(chr, value.ravel())) if is_char
                             else _plain(value.transpose()))
        return image, codes, info


def _numbers(value) -> np.ndarray:
    """Flatten loadmat's nesting (object arrays inside (1, 1) arrays) into a 1-d number array."""
    while isinstance(value, np.ndarray) and value.dtype == object:
        if value.size != 1:
            value = np.concatenate([_numbers(v) for v in value.ravel()])
            break
        value = value.ravel()[0]
    return np.asarray(value).ravel()


def _plain(value):
    """An info field as a Python str, number, or list of numbers."""
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.ravel()[0]
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "US":
            return "".join(str(v) for v in value.ravel())
        if value.dtype.kind in "iuf":
            flat = value.ravel()
            return flat[0].item() if flat.size == 1 else flat.tolist()
    return str(value)


# ---- validation ------------------------------------------------------------------------

def _validate_image(image) -> np.ndarray:
    """``(views, 1024, 256)`` uint16 counts, or ScanError."""
    if image is None:
        raise ScanError("no image", "no image variable 'V' (or 'Y')")
    image = np.asarray(image)
    if image.dtype.kind not in "iuf":
        raise ScanError("bad dtype", f"image dtype {image.dtype} is not a count type")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[:2] != (ROWS, COLS) or image.shape[2] < 1:
        raise ScanError("bad shape", f"image has shape {image.shape}, expected "
                                     f"({ROWS}, {COLS}) or ({ROWS}, {COLS}, views)")
    if image.dtype.kind == "f":
        if not np.all(np.isfinite(image)):
            raise ScanError("bad counts", "image holds NaN or infinite values")
        if not np.all(image == np.round(image)):
            raise ScanError("bad dtype", "image holds fractional values, not counts")
    if image.min() < 0:
        raise ScanError("bad counts", f"image holds negative counts (min {image.min()})")
    if image.max() > 65535:
        raise ScanError("bad counts", f"a pixel holds {image.max()} counts, beyond uint16")
    totals = image.reshape(-1, image.shape[2]).sum(axis=0, dtype=np.float64)
    if totals.min() < MIN_TOTAL_COUNTS or totals.max() > MAX_TOTAL_COUNTS:
        raise ScanError("bad counts", f"total counts per view {totals.astype(np.int64).tolist()} "
                                      f"outside [{MIN_TOTAL_COUNTS:.0e}, {MAX_TOTAL_COUNTS:.0e}]")
    return np.ascontiguousarray(image.transpose(2, 0, 1)).astype(np.uint16)


def _validate_codes(codes) -> tuple[int, int]:
    if codes is None:
        raise ScanError("no labels", "no 'diaginfo' struct with 'kneejointid'")
    codes = np.asarray(codes)
    if codes.dtype.kind not in "iuf" or codes.size != 2:
        raise ScanError("bad labels",
                        f"kneejointid must hold two numbers, got {codes.tolist()!r:.60}")
    values = codes.astype(np.float64)
    if not all(v in CODES for v in values):
        raise ScanError("bad labels", f"kneejointid {values.tolist()} outside {{2..6, -1}}")
    return tuple(grade_of_code(v) for v in values)


def mat_version(path: str) -> str:
    """'v7.3' for an HDF5-based file, 'v5' for the classic format, or ScanError."""
    with open(path, "rb") as f:
        header = f.read(520)
    if len(header) < 128:
        raise ScanError("not a .mat", f"{len(header)} bytes: too short for a MATLAB file")
    if header[512:520] == HDF5_SIGNATURE or header[:8] == HDF5_SIGNATURE:
        return "v7.3"
    if header[:6] != b"MATLAB":
        raise ScanError("not a .mat", "no MATLAB header (not a .mat file)")
    return "v5"


def _folded(key: str) -> str:
    return key.lower().replace("_", "").replace(" ", "")


def _patient_id(info: dict) -> str | None:
    """The info field whose name reads 'patient id' in any spelling, else None."""
    for key, value in info.items():
        if _folded(key) in PATIENT_ID_FIELDS and str(value).strip():
            return str(value).strip()
    return None


def _kept_info(info: dict) -> tuple[dict, tuple[str, ...]]:
    """``(kept fields, names of the dropped ones)``; the patient ID counts as neither."""
    kept = {k: v for k, v in info.items() if _folded(k) in KEPT_INFO}
    dropped = tuple(sorted(k for k in info
                           if k not in kept and _folded(k) not in PATIENT_ID_FIELDS))
    return kept, dropped


def read_scan(path: str, pseudonyms=None, hide_file_name: bool = False) -> ScanRecord:
    """Read and validate one scan; raises :class:`ScanError` (and nothing else) on bad input.

    ``pseudonyms`` (a :class:`.pseudonyms.Pseudonyms`) turns the patient ID (the info field
    named like 'patient id', else the file's stem) into its pseudonym; without it the record
    has no patient ID. ``hide_file_name`` gives the file name's pseudonym instead of the name.
    When the ID is the file's stem the file name identifies the patient, so it never leaves
    in clear: the record's ``file`` is the name's pseudonym (``WITHHELD`` without a key)."""
    name = os.path.basename(path)
    if hide_file_name and pseudonyms is None:
        raise ValueError("read_scan: hide_file_name needs pseudonyms (a key)")
    shown = pseudonyms.file(name) if hide_file_name else name
    try:
        version = mat_version(path)
        image, codes, info = (_read_v73 if version == "v7.3" else _read_v5)(path)
        counts = _validate_image(image)
        labels = _validate_codes(codes)
        patient_id = _patient_id(info)
    except ScanError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # any parser failure on a damaged file is a reason, not a crash
        detail = str(exc).replace(path, shown).replace(name, shown)  # h5py names the file
        raise ScanError("unreadable", f"unreadable (truncated or corrupt): "
                                      f"{type(exc).__name__}: {detail[:120]}") from exc
    if patient_id is None:  # no ID field: the file's stem is the ID, so is the name
        patient_id = os.path.splitext(name)[0]
        shown = WITHHELD if pseudonyms is None else pseudonyms.file(name)
    kept, dropped = _kept_info(info)
    return ScanRecord(file=shown,
                      patient_id=None if pseudonyms is None else pseudonyms.patient(patient_id),
                      counts=counts, labels=labels, info=kept, mat_version=version, dropped=dropped)
