"""Find the 128-row knee window in a whole-body scan and cut the two 128 x 128 knee crops.

The locator reads the anatomy instead of trusting the single hottest row (which the
bladder or an injection site wins as easily as a knee):

1. Smooth the anterior view; find the body's top and bottom rows and its midline.
2. Find the legs: rows below the pelvis where the midline is nearly empty between two
   bright columns (the gap between the legs); the first of 20 consecutive such rows is
   the crotch.
3. Along each leg, sum the counts per row and band-pass the profile (difference of
   Gaussians): the femoral and tibial shafts are flat, the knee is a focal bump between
   them. The knee row is the largest bump of the two legs' sum in the middle part of the
   leg (20%-65% of the way from crotch to feet, which leaves out hips and ankles).
4. Confidence is ``1 - rival / peak``, where ``rival`` is the largest bump more than 30
   rows from the chosen one, times 0.4 when the two legs' own peaks are more than 12 rows
   apart and times 0.3 when no leg gap was found; below 0.5 the scan is reported.

The proposal's heuristic (``proposal_window``) is kept as the baseline it is measured
against.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

WINDOW = 128
HALF = 128
LOW_CONFIDENCE = 0.5
VIEWS = ("anterior", "posterior", "both")


@dataclass(frozen=True)
class KneeWindow:
    """Rows ``start .. start+127`` hold both knees; ``centre`` is the knee row found."""

    start: int
    centre: int
    confidence: float
    method: str  # 'locator', 'fallback' (no leg gap found) or 'manual'

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE


def window_at(centre: float, rows: int = 1024) -> int:
    """First row of the 128-row window centred on ``centre``, kept inside the scan."""
    return int(np.clip(round(centre) - WINDOW // 2, 0, rows - WINDOW))


def _body_extent(row_profile: np.ndarray) -> tuple[int, int]:
    threshold = 0.05 * np.percentile(row_profile, 90)
    rows = np.flatnonzero(row_profile > threshold)
    return (int(rows[0]), int(rows[-1])) if rows.size else (0, len(row_profile) - 1)


def _crotch(smooth: np.ndarray, midline: int, top: int, bottom: int) -> int | None:
    """First row of 20 consecutive 'two legs with a gap' rows below the pelvis."""
    height = bottom - top
    gap = smooth[:, max(midline - 4, 0):midline + 5].min(axis=1)
    left = smooth[:, max(midline - 70, 0):max(midline - 8, 1)].max(axis=1)
    right = smooth[:, midline + 8:midline + 70].max(axis=1)
    legs = (gap < 0.25 * np.minimum(left, right)) & (np.minimum(left, right) > 0)
    legs[:top + int(0.35 * height)] = False
    legs[bottom + 1:] = False
    # the first 20 consecutive leg rows: hot knees may later close the gap for a while
    run = np.convolve(legs.astype(np.int32), np.ones(20, dtype=np.int32), mode="valid")
    starts = np.flatnonzero(run == 20)
    if starts.size == 0 or bottom - starts[0] < 0.25 * height:
        return None
    return int(starts[0])


def locate_knees(view: np.ndarray) -> KneeWindow:
    """The knee window of one view (``(1024, 256)`` counts), with a confidence in [0, 1]."""
    smooth = ndimage.gaussian_filter(view.astype(np.float32), 2.0)
    top, bottom = _body_extent(smooth.sum(axis=1))
    column_mass = smooth[top:bottom + 1].sum(axis=0)
    midline = int(round(np.sum(np.arange(view.shape[1]) * column_mass)
                        / max(column_mass.sum(), 1e-9)))
    crotch = _crotch(smooth, midline, top, bottom)
    method = "locator"
    if crotch is None:  # no gap between the legs: fall back on body proportions
        crotch, method = top + int(0.52 * (bottom - top)), "fallback"
    length = bottom - crotch
    lo, hi = crotch + int(0.2 * length), crotch + int(0.65 * length)
    bands = (smooth[:, max(midline - 75, 0):midline].sum(axis=1),
             smooth[:, midline:midline + 75].sum(axis=1))
    bumps = [ndimage.gaussian_filter1d(b, 8) - ndimage.gaussian_filter1d(b, 25) for b in bands]
    total = (bumps[0] + bumps[1])[lo:hi]
    if total.size == 0:
        return KneeWindow(window_at((top + bottom) / 2, view.shape[0]), (top + bottom) // 2,
                          0.0, method)
    peak = int(np.argmax(total))
    elsewhere = np.abs(np.arange(total.size) - peak) > 30
    rival = total[elsewhere].max() if elsewhere.any() else 0.0
    distinct = (float(np.clip(1.0 - max(rival, 0.0) / total[peak], 0.0, 1.0))
                if total[peak] > 0 else 0.0)
    legs_agree = abs(int(np.argmax(bumps[0][lo:hi])) - int(np.argmax(bumps[1][lo:hi]))) <= 12
    confidence = distinct * (1.0 if legs_agree else 0.4) * (1.0 if method == "locator" else 0.3)
    centre = lo + peak
    return KneeWindow(window_at(centre, view.shape[0]), centre, round(confidence, 3), method)


def proposal_window(view: np.ndarray, start: int = 560) -> KneeWindow:
    """The proposal's heuristic, as its notebook does it (the baseline).

    Take rows ``start .. start+127``; if row ``start`` has no zero count in columns
    100-149 (no gap between the legs), move the rows 70 down; then centre the window on
    the row whose maximum over all columns is largest.
    """
    if not np.any(view[start, 100:150] == 0):
        start += 70
    start = min(start, view.shape[0] - WINDOW)
    row_max = view[start:start + WINDOW].max(axis=1)
    centre = start + int(np.argmax(row_max))
    return KneeWindow(window_at(centre, view.shape[0]), centre, 1.0, "proposal")


def scan_scale(view: np.ndarray) -> float:
    """The count that maps to 1.0: the 99th percentile of the view's non-zero pixels.

    Per scan, so a knee hotter than the rest of its own skeleton stays hotter after
    normalisation, whatever the injected dose and acquisition time."""
    positive = view[view > 0]
    return float(np.percentile(positive, 99)) if positive.size else 1.0


def _views(counts: np.ndarray, view: str) -> list[np.ndarray]:
    """The whole-body images a crop's channels come from (posterior flipped left-right)."""
    if view not in VIEWS:
        raise ValueError(f"cut_crops: view must be one of {VIEWS}, got {view!r}")
    wanted = {"anterior": [0], "posterior": [1], "both": [0, 1]}[view]
    if max(wanted) >= counts.shape[0]:
        raise ValueError(f"cut_crops: view {view!r} needs {max(wanted) + 1} views, "
                         f"the scan has {counts.shape[0]}")
    return [counts[index] if index == 0 else counts[index][:, ::-1] for index in wanted]


def crop_scales(counts: np.ndarray, view: str = "anterior") -> np.ndarray:
    """The :func:`scan_scale` of each channel :func:`cut_crops` makes, float32 ``(channels,)``."""
    return np.array([scan_scale(image) for image in _views(counts, view)], dtype=np.float32)


def cut_crops(counts: np.ndarray, start: int, view: str = "anterior",
              mirror: bool = True) -> np.ndarray:
    """The two knee crops, float32 ``(2, channels, 128, 128)``.

    ``counts`` is ``(views, 1024, 256)``. Crop 0 is columns 0-127 (labelled by
    ``kneejointid[0]``), crop 1 columns 128-255; with ``mirror`` crop 1 is flipped left-right
    so that both knees show their medial side at the same edge. ``view``: 'anterior'
    (view 0), 'posterior' (view 1, flipped left-right first so each knee stays in its half:
    a posterior image shows the patient from behind), or 'both' as two channels. Each view
    is divided by its :func:`scan_scale`.
    """
    channels = []
    for image in _views(counts, view):
        window = image[start:start + WINDOW].astype(np.float32) / scan_scale(image)
        channels.append(np.stack([window[:, :HALF], window[:, HALF:]]))
    crops = np.stack(channels, axis=1)  # (2 knees, channels, 128, 128)
    if mirror:
        crops[1] = crops[1][..., ::-1]
    return np.ascontiguousarray(crops)
