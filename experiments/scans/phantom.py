"""Synthetic whole-body bone scans in the exact ``.mat`` layout of the study's real data.

Each phantom patient is a seeded random anatomy drawn as a sum of smooth primitives
(capsules for long bones, spine, ribs and limbs; Gaussian blobs for joints, skull,
pelvis and organs) on the 1024 x 256 grid of a whole-body scan at ~2.3 mm per pixel,
scaled to a realistic total count and sampled with Poisson noise. What varies: height,
vertical position, lateral shift, body width, arm pose, count level; bladder filling;
kidneys; an injection-site hot spot in an arm for some patients.

Knee uptake grows with the Kellgren-Lawrence grade: a joint-line band first (grade 1-2),
then wider subchondral uptake (3-4), in the medial compartment more often than the lateral.
A patient's two knees share a latent severity but are drawn separately, the uptake of
neighbouring grades overlaps widely (each knee's normal uptake and its grade's extra uptake
are scaled by random factors), and 12% of labels are off by one grade (scan and radiograph
disagree in ~14% of real knees), so a good model stays well below 100%. Grades follow a
clinical mix, and a few knees are ``-1`` (unspecified).

Written per patient (``0000001.mat``, ...): ``V`` uint16 (1024, 256, 2) anterior/posterior;
``info`` struct (format, patientid, datasize, colortype, radioisotope, a made-up patientname
and birthdate as a hospital's files hold them, and for measuring the knee locator
``knee_row``, the true joint-line row, and ``true_grades``);
``diaginfo.kneejointid`` = two codes (2..6 or -1), the first for columns 0-127.
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field

import numpy as np

from ..grades import COUNT, UNSPECIFIED, code_of_grade
from .bonescan import COLS, ROWS
from .matfile import write_mat

PIXEL_MM = 2.3
GRADE_MIX = np.array([0.35, 0.25, 0.20, 0.13, 0.07])  # KL 0..4, a clinical (not uniform) mix
LABEL_NOISE = 0.12
UNSPECIFIED_RATE = 0.03
INJECTION_RATE = 0.2
ISOTOPE = "Tc-99m MDP"


@dataclass
class Patient:
    """Everything random about one phantom patient (lengths in pixels)."""

    patient_id: str
    height: float
    top: float
    centre: float
    width: float
    total_counts: float
    arm_spread: float
    bladder: float
    true_grades: tuple[int, int]
    label_codes: tuple[int, int]
    medial: tuple[bool, bool]
    injection: tuple[float, float, float] | None
    knee_shift: tuple[float, float] = field(default=(0.0, 0.0))

    def row(self, fraction: float) -> float:
        """Row at ``fraction`` of the body height below the vertex."""
        return self.top + fraction * self.height

    def col(self, offset: float) -> float:
        """Column at ``offset`` body heights from the midline (positive: columns > centre)."""
        return self.centre + offset * self.height * self.width

    @property
    def knee_row(self) -> int:
        return int(round(self.row(0.715)))


def draw_patient(rng: np.random.Generator, patient_id: str) -> Patient:
    """Draw one patient's anatomy, grades and labels."""
    height = rng.uniform(150, 195) * 10 / PIXEL_MM
    top = rng.uniform(8, ROWS - height - 12)
    latent = rng.choice(COUNT, p=GRADE_MIX)
    grades = tuple(int(np.clip(latent + rng.choice([-1, 0, 0, 0, 1]), 0, COUNT - 1))
                   for _ in range(2))
    codes = []
    for grade in grades:
        label = grade
        if rng.random() < LABEL_NOISE:
            label = int(np.clip(grade + rng.choice([-1, 1]), 0, COUNT - 1))
        codes.append(UNSPECIFIED if rng.random() < UNSPECIFIED_RATE else code_of_grade(label))
    injection = None
    if rng.random() < INJECTION_RATE:
        along = rng.uniform(0.3, 1.0)  # from mid upper arm down to the hand
        injection = (along, rng.choice([-1.0, 1.0]), rng.uniform(6, 40))
    return Patient(
        patient_id=patient_id, height=height, top=top, centre=COLS / 2 + rng.normal(0, 6),
        width=rng.uniform(0.9, 1.12), total_counts=rng.uniform(0.8e6, 2.0e6),
        arm_spread=rng.uniform(0.0, 0.02), bladder=rng.uniform(1.0, 9.0), true_grades=grades,
        label_codes=tuple(codes), medial=tuple(bool(rng.random() < 0.7) for _ in range(2)),
        injection=injection, knee_shift=(rng.normal(0, 1.5), rng.normal(0, 1.5)))


class Canvas:
    """A float activity map to which primitives are added inside their bounding boxes."""

    def __init__(self):
        self.image = np.zeros((ROWS, COLS), dtype=np.float64)
        self.rows = np.arange(ROWS, dtype=np.float64)[:, None]
        self.cols = np.arange(COLS, dtype=np.float64)[None, :]

    def _box(self, r0, r1, c0, c1):
        top, bottom = max(int(r0), 0), min(int(np.ceil(r1)) + 1, ROWS)
        left, right = max(int(c0), 0), min(int(np.ceil(c1)) + 1, COLS)
        return slice(top, bottom), slice(left, right)

    def capsule(self, p0, p1, sigma: float, amplitude: float, flat_radius: float = 0.0) -> None:
        """Uptake around the segment p0-p1 (row, col): Gaussian in the distance ``d`` beyond
        ``flat_radius``, i.e. ``amplitude * exp(-max(d - flat_radius, 0)^2 / (2 sigma^2))``."""
        reach = flat_radius + 3 * sigma
        rows, cols = self._box(min(p0[0], p1[0]) - reach, max(p0[0], p1[0]) + reach,
                               min(p0[1], p1[1]) - reach, max(p0[1], p1[1]) + reach)
        r, c = self.rows[rows], self.cols[:, cols]
        dr, dc = p1[0] - p0[0], p1[1] - p0[1]
        length2 = dr * dr + dc * dc
        t = np.clip(((r - p0[0]) * dr + (c - p0[1]) * dc) / length2, 0, 1) if length2 else 0.0
        d = np.hypot(r - (p0[0] + t * dr), c - (p0[1] + t * dc))
        falloff = np.maximum(d - flat_radius, 0) ** 2 / (2 * sigma ** 2)
        self.image[rows, cols] += amplitude * np.exp(-falloff)

    def blob(self, centre, sigma_r: float, sigma_c: float, amplitude: float) -> None:
        """An elliptical Gaussian: ``amplitude * exp(-(dr/sr)^2/2 - (dc/sc)^2/2)``."""
        rows, cols = self._box(centre[0] - 3 * sigma_r, centre[0] + 3 * sigma_r,
                               centre[1] - 3 * sigma_c, centre[1] + 3 * sigma_c)
        r, c = self.rows[rows], self.cols[:, cols]
        self.image[rows, cols] += amplitude * np.exp(
            -0.5 * ((r - centre[0]) / sigma_r) ** 2 - 0.5 * ((c - centre[1]) / sigma_c) ** 2)


def _soft_tissue(canvas: Canvas, p: Patient, h: float) -> None:
    """Low, flat-topped uptake over the body outline: legs end sharply, so the gap
    between the knees holds (nearly) no counts, as in real scans."""
    edge, level = 0.004 * h, 0.04
    canvas.blob((p.row(0.07), p.centre), 0.055 * h, 0.045 * h * p.width, level)
    canvas.capsule((p.row(0.16), p.centre), (p.row(0.5), p.centre), edge, level,
                   flat_radius=0.085 * h * p.width)
    for side in (-1, 1):
        hip, knee, ankle = ((p.row(0.52), p.col(side * 0.06)), (p.row(0.715), p.col(side * 0.05)),
                            (p.row(0.96), p.col(side * 0.045)))
        canvas.capsule(hip, knee, edge, level, flat_radius=0.034 * h * p.width)
        canvas.capsule(knee, ankle, edge, level, flat_radius=0.024 * h * p.width)
        shoulder = (p.row(0.19), p.col(side * 0.125))
        hand = (p.row(0.55), p.col(side * (0.14 + p.arm_spread)))
        canvas.capsule(shoulder, hand, edge, level, flat_radius=0.02 * h * p.width)


def _skeleton(canvas: Canvas, p: Patient, view: str) -> None:
    """Bones and joints; ``view`` ('anterior' or 'posterior') weights the spine and sternum."""
    h, w = p.height, p.width
    spine, sternum = (1.0, 0.9) if view == "anterior" else (1.6, 0.4)
    canvas.blob((p.row(0.07), p.centre), 0.05 * h, 0.04 * h * w, 1.4)
    canvas.capsule((p.row(0.13), p.centre), (p.row(0.5), p.centre), 0.011 * h, spine)
    canvas.capsule((p.row(0.2), p.centre), (p.row(0.33), p.centre), 0.008 * h, sternum)
    canvas.blob((p.row(0.47), p.centre), 0.02 * h, 0.02 * h, 1.2 * spine)  # sacrum
    canvas.blob((p.row(0.525), p.centre), 0.01 * h, 0.025 * h, 0.8)  # pubic symphysis
    for k in range(10):
        r = p.row(0.21 + 0.017 * k)
        for side in (-1, 1):
            canvas.capsule((r, p.col(side * 0.012)), (r + 0.025 * h, p.col(side * 0.09)),
                           0.005 * h, 0.45)
    for side in (-1, 1):
        arm = side * p.arm_spread
        shoulder = (p.row(0.19), p.col(side * 0.12))
        elbow = (p.row(0.37), p.col(side * 0.135 + arm))
        wrist = (p.row(0.48), p.col(side * 0.13 + arm * 2))
        canvas.blob(shoulder, 0.018 * h, 0.018 * h, 1.5)
        canvas.capsule((p.row(0.185), p.col(side * 0.02)), (p.row(0.18), p.col(side * 0.11)),
                       0.007 * h, 0.8)
        canvas.capsule(shoulder, elbow, 0.008 * h, 0.7)
        canvas.capsule(elbow, wrist, 0.007 * h, 0.6)
        canvas.blob(elbow, 0.01 * h, 0.01 * h, 0.6)
        canvas.blob((p.row(0.51), p.col(side * 0.128 + arm * 2)), 0.025 * h, 0.012 * h, 0.8)  # hand
        canvas.blob((p.row(0.44), p.col(side * 0.07)), 0.03 * h, 0.035 * h * w, 1.1)  # iliac wing
        hip = (p.row(0.505), p.col(side * 0.085))
        canvas.blob(hip, 0.015 * h, 0.015 * h, 1.3)
        knee_col, ankle_col = p.col(side * 0.05), p.col(side * 0.045)
        canvas.capsule(hip, (p.row(0.70), knee_col), 0.009 * h, 0.8)  # femur
        canvas.capsule((p.row(0.73), knee_col), (p.row(0.955), ankle_col), 0.008 * h, 0.8)  # tibia
        canvas.blob((p.row(0.96), ankle_col), 0.01 * h, 0.012 * h, 1.2)
        canvas.capsule((p.row(0.965), ankle_col), (p.row(0.995), ankle_col + side * 4),
                       0.01 * h, 0.9)


def _knees(canvas: Canvas, p: Patient, rng: np.random.Generator, view: str) -> None:
    """Knee uptake by grade around the true joint line. Column 0-127 holds the first knee."""
    h = p.height
    scale = 1.0 if view == "anterior" else 0.8
    for index, side in enumerate((-1, 1)):
        grade = p.true_grades[index]
        centre_col = p.col(side * 0.05)
        joint = p.row(0.715) + p.knee_shift[index]
        bone = rng.uniform(0.7, 1.3) * scale  # people's normal knee uptake differs
        canvas.blob((joint - 0.012 * h, centre_col), 0.011 * h, 0.022 * h, 0.9 * bone)  # condyles
        canvas.blob((joint + 0.011 * h, centre_col), 0.01 * h, 0.02 * h, 0.8 * bone)  # plateau
        towards_midline = -side if p.medial[index] else side
        compartment = centre_col + towards_midline * 0.012 * h
        line = [0.0, 0.4, 0.8, 1.3, 1.8][grade] * rng.uniform(0.5, 1.5)
        subchondral = [0.0, 0.0, 0.15, 0.5, 0.9][grade] * rng.uniform(0.5, 1.5)
        canvas.blob((joint, compartment), 0.006 * h, 0.018 * h, line * scale)
        canvas.blob((joint, compartment), 0.02 * h, 0.022 * h, subchondral * scale)


def _organs_and_hot_spots(canvas: Canvas, p: Patient, view: str) -> None:
    h = p.height
    kidney, bladder = (0.5, 1.0) if view == "anterior" else (1.1, 0.7)
    for side in (-1, 1):
        canvas.blob((p.row(0.40), p.col(side * 0.045)), 0.03 * h, 0.014 * h, kidney)
    canvas.blob((p.row(0.51), p.centre), 0.022 * h, 0.028 * h, p.bladder * bladder)
    if p.injection is not None:
        along, side, strength = p.injection
        shoulder = np.array([p.row(0.19), p.col(side * 0.12)])
        hand = np.array([p.row(0.51), p.col(side * (0.128 + 2 * p.arm_spread))])
        canvas.blob(tuple(shoulder + along * (hand - shoulder)), 3.0, 3.0, strength)


def render(p: Patient, seed: int) -> np.ndarray:
    """The patient's counts, uint16 (1024, 256, 2): anterior, then posterior (which shows
    the patient from behind, so left and right swap)."""
    rng = np.random.default_rng(seed)
    views = []
    for view in ("anterior", "posterior"):
        canvas = Canvas()
        _soft_tissue(canvas, p, p.height)
        _skeleton(canvas, p, view)
        _knees(canvas, p, np.random.default_rng(seed + 1), view)
        _organs_and_hot_spots(canvas, p, view)
        expected = canvas.image / canvas.image.sum() * p.total_counts + 0.01  # scatter background
        counts = np.minimum(rng.poisson(expected), 65535).astype(np.uint16)
        views.append(counts if view == "anterior" else counts[:, ::-1])
    return np.stack(views, axis=-1)


def identity(patient_id: str) -> tuple[str, str]:
    """A made-up name and birth date (YYYYMMDD) for a phantom patient, fixed by its ID (no
    draw from the anatomy's generator, so the scans do not change)."""
    h = zlib.crc32(patient_id.encode())
    birth = f"{1930 + h % 60}{1 + h // 60 % 12:02d}{1 + h // 720 % 28:02d}"
    return f"PHANTOM^PATIENT {patient_id}", birth


def mat_contents(p: Patient, counts: np.ndarray) -> dict:
    """The variables of one scan file, as ``scipy.io.savemat`` takes them."""
    name, birth = identity(p.patient_id)
    info = {"format": "MAT", "patientid": p.patient_id, "patientname": name, "birthdate": birth,
            "datasize": f"{ROWS}x{COLS}x2",
            "colortype": "grayscale", "radioisotope": ISOTOPE, "knee_row": float(p.knee_row),
            "true_grades": np.array([code_of_grade(g) for g in p.true_grades],
                                    dtype=np.float64)}
    return {"V": counts, "info": info,
            "diaginfo": {"kneejointid": np.array([p.label_codes], dtype=np.float64)}}


def patient_and_counts(index: int, seed: int) -> tuple[Patient, np.ndarray]:
    """Patient ``index`` (0-based) of the data set with ``seed``: independent of how many
    patients are drawn, so the first 10 of a 500-patient set are those of a 10-patient set."""
    patient_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
    patient = draw_patient(np.random.default_rng(patient_seed), f"{index + 1:07d}")
    return patient, render(patient, patient_seed)


def write_phantom(out: str, patients: int, seed: int = 0, progress: bool = True,
                  version: str = "v5") -> list[str]:
    """Write ``patients`` scans ``0000001.mat``, ... into ``out`` as MATLAB ``version``
    ('v5' or 'v7.3') files; returns their paths. Each file is written to a temporary name
    and renamed, so an interrupted run never leaves a half-written scan."""
    from tqdm import tqdm

    os.makedirs(out, exist_ok=True)
    paths = []
    for index in tqdm(range(patients), desc="phantom", unit="scan", disable=not progress):
        patient, counts = patient_and_counts(index, seed)
        path = os.path.join(out, f"{patient.patient_id}.mat")
        write_mat(path, mat_contents(patient, counts), version)
        paths.append(path)
    return paths
